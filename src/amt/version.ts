/**
 * AMT firmware versions ("11.8.50", "3.2.1", "2.6"). A version read from an
 * RMCP pong carries only major.minor, so a comparison against 3.2.1 can be
 * undecidable for "3.2": `atLeast` then answers undefined instead of guessing.
 */

/** The numeric components of a version, or undefined when it is not digits and dots. */
export function parseVersion(text: string): number[] | undefined {
  const t = text.trim();
  if (!/^[0-9]+(\.[0-9]+)*$/.test(t)) return undefined;
  return t.split('.').map((p) => Number.parseInt(p, 10));
}

/**
 * True when `version` is `min` or later, false when earlier, undefined when
 * the components it has equal min's and the missing ones would decide
 * ("3.2" against 3.2.1), or when it does not parse.
 */
export function atLeast(version: string, min: readonly number[]): boolean | undefined {
  const v = parseVersion(version);
  if (v === undefined) return undefined;
  for (let i = 0; i < min.length; i++) {
    const have = v[i];
    const want = min[i] ?? 0;
    if (have === undefined) return min.slice(i).every((m) => m === 0) ? true : undefined;
    if (have !== want) return have > want;
  }
  return true;
}

/** Orders two parseable versions; missing components count as 0 (for sorting only). */
export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a) ?? [];
  const y = parseVersion(b) ?? [];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
