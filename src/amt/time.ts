/** Instants as status and sentences write them. */

export const HOUR_MS = 3_600_000;

/** RFC 3339 in UTC to the second, as Kubernetes writes timestamps ("2026-11-24T10:00:00Z"). */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * A deadline for a sentence, to the minute ("2026-11-24T10:00Z"), rounded
 * down so "before <deadline>" is never later than the real instant.
 */
export function deadline(d: Date): string {
  return new Date(Math.floor(d.getTime() / 60_000) * 60_000).toISOString().replace(/:00\.000Z$/, 'Z');
}

/** Parses a status timestamp; undefined when absent or unparseable. */
export function parseInstant(s: string | undefined): Date | undefined {
  if (s === undefined) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : new Date(t);
}
