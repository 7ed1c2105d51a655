/**
 * AMT facts an agent observed, folded into BootMachine status.boot.amt. Pure.
 * The controller reads these facts to derive status.amt (suffix, window,
 * attempts), so each keeps the time it was seen: AMT only takes option 15
 * while its provisioning window is open, and the controller decides which
 * sightings count.
 */
import type { AmtObservation } from '../api/v1alpha1/amtstatus.ts';

export type AmtFacts = AmtObservation;
export type AmtProbeFact = NonNullable<AmtObservation['probe']>;
type SuffixSighting = NonNullable<AmtObservation['servedOption15']>[number];

/** Option 15 sightings kept per list, newest last (the schema's maxItems). */
export const SUFFIX_SIGHTINGS = 4;
/**
 * A sighting of the same value as the newest one, closer than this, is the
 * same lease exchange (OFFER then ACK, or a renewal every few minutes under a
 * short lease) and adds nothing: no new entry, so no status write.
 */
export const SUFFIX_REPEAT_MS = 3_600_000;
/** Root hashes kept from one Hello (the schema's maxItems; AMT holds about 33). */
export const HELLO_ROOT_HASHES = 64;

/** What one observation adds to status.boot.amt; every field optional. */
export interface AmtFactsPatch {
  /** The first packet of the machine on this network; kept once set. */
  readonly firstSeenAt?: string;
  /** The last probe AMT answered; replaces the previous one. */
  readonly probe?: AmtProbeFact;
  /** Option 15 in an ACK this agent served ('' when it carried none); appended with the observation's time. */
  readonly servedOption15?: string;
  /** Option 15 in the site DHCP server's OFFER/ACK ('' when none); appended with the observation's time. */
  readonly siteOption15?: string;
  /** Domain of the FQDN the OS asked for in option 81; replaces the previous one. */
  readonly osRequestedDomain?: string;
  /** One PKI Hello: increments hello.count and replaces the rest. */
  readonly hello?: { readonly retryCount?: number; readonly uuid?: string; readonly rootHashes: readonly string[] };
}

/**
 * status.boot.amt after `patch`, seen at `time` (RFC 3339). Returns `prev`
 * itself when the patch changes nothing, so callers can skip the write.
 */
export function mergeAmtFacts(prev: AmtFacts | undefined, patch: AmtFactsPatch, time: string): AmtFacts | undefined {
  const next: Record<string, unknown> = { ...prev };
  let changed = false;
  const set = (key: keyof AmtFacts, value: unknown) => { next[key] = value; changed = true; };
  if (patch.firstSeenAt !== undefined && prev?.firstSeenAt === undefined) set('firstSeenAt', patch.firstSeenAt);
  if (patch.probe !== undefined && !sameProbe(prev?.probe, patch.probe)) set('probe', patch.probe);
  for (const key of ['servedOption15', 'siteOption15'] as const) {
    const value = patch[key];
    if (value === undefined) continue;
    const list = withSighting(prev?.[key], value, time);
    if (list !== prev?.[key]) set(key, list);
  }
  if (patch.osRequestedDomain !== undefined && patch.osRequestedDomain !== prev?.osRequestedDomain) set('osRequestedDomain', patch.osRequestedDomain);
  if (patch.hello !== undefined) {
    const h = patch.hello;
    set('hello', {
      at: time,
      count: (prev?.hello?.count ?? 0) + 1,
      ...(h.retryCount === undefined ? {} : { retryCount: h.retryCount }),
      ...(h.uuid === undefined ? {} : { uuid: h.uuid }),
      rootHashes: h.rootHashes.slice(0, HELLO_ROOT_HASHES),
    });
  }
  return changed ? next as AmtFacts : prev;
}

/** `list` with a sighting of `value` at `time` appended (at most SUFFIX_SIGHTINGS, newest last), or `list` itself for a repeat. */
function withSighting(list: readonly SuffixSighting[] | undefined, value: string, time: string): SuffixSighting[] | undefined {
  const newest = list?.at(-1);
  if (newest !== undefined && newest.value === value) {
    const age = Date.parse(time) - Date.parse(newest.at);
    // A clock that went backwards also counts as a repeat: the entry we have is as good.
    if (Number.isNaN(age) || age < SUFFIX_REPEAT_MS) return list as SuffixSighting[];
  }
  return [...(list ?? []), { value, at: time }].slice(-SUFFIX_SIGHTINGS);
}

/** Equal probes, time included: a re-probe always moves `at` (the controller reads when AMT last answered), so only a repeat of one answer is skipped. */
function sameProbe(a: AmtProbeFact | undefined, b: AmtProbeFact): boolean {
  return a !== undefined && a.at === b.at && a.address === b.address && a.httpServerHeader === b.httpServerHeader && a.rmcp === b.rmcp
    && a.provisioningState === b.provisioningState && a.osAnswering === b.osAnswering && a.ttl === b.ttl;
}
