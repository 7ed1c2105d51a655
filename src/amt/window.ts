/**
 * AMT's provisioning window (seed 004): its interface is open, and takes a
 * DHCP option 15, for `windowHours` (OEM setting: 24 typical, 6 or 0 on some)
 * after the machine first comes onto the network, and again after each
 * provisioning attempt. A failed in-band attempt is retried 24 hours later
 * whatever the window length. Everything here is a function of the facts and
 * `now`, so a controller that restarts after a window closed computes the
 * same answer, and requeues at `nextTransition`.
 */
import { HOUR_MS } from './time.ts';

/** In-band provisioning retries 24 hours after a failed attempt (not configurable; seed 004). */
export const RETRY_HOURS = 24;
/** The window length when the policy does not say. */
export const DEFAULT_WINDOW_HOURS = 24;

export interface WindowFacts {
  /** When an agent first saw the machine on the network. */
  readonly firstSeen?: Date | undefined;
  /** The last provisioning attempt seen (a Hello). */
  readonly lastAttempt?: Date | undefined;
  /** The policy's windowHours. */
  readonly windowHours: number;
}

export interface ProvisioningWindow {
  /** The later of first sighting and last attempt; absent when neither is known. */
  readonly openedAt?: Date;
  readonly openedBy?: 'first-seen' | 'attempt';
  readonly closesAt?: Date;
  /** openedAt <= now < closesAt. Never true with windowHours 0. */
  readonly open: boolean;
  /** The window is known and closed at or before now. */
  readonly expired: boolean;
  /** lastAttempt + 24 h; absent before any attempt. */
  readonly nextRetryAt?: Date;
}

const plusHours = (d: Date, h: number): Date => new Date(d.getTime() + h * HOUR_MS);

/** The window as of `now`. */
export function provisioningWindow(facts: WindowFacts, now: Date): ProvisioningWindow {
  const retry = facts.lastAttempt === undefined ? {} : { nextRetryAt: plusHours(facts.lastAttempt, RETRY_HOURS) };
  const opener = latestOpener(facts);
  if (opener === undefined) return { open: false, expired: false, ...retry };
  const closesAt = plusHours(opener.at, facts.windowHours);
  const t = now.getTime();
  return {
    openedAt: opener.at,
    openedBy: opener.by,
    closesAt,
    open: opener.at.getTime() <= t && t < closesAt.getTime(),
    expired: closesAt.getTime() <= t,
    ...retry,
  };
}

function latestOpener(facts: WindowFacts): { at: Date; by: 'first-seen' | 'attempt' } | undefined {
  const { firstSeen, lastAttempt } = facts;
  if (lastAttempt !== undefined && (firstSeen === undefined || lastAttempt.getTime() >= firstSeen.getTime())) return { at: lastAttempt, by: 'attempt' };
  if (firstSeen !== undefined) return { at: firstSeen, by: 'first-seen' };
  return undefined;
}

/**
 * Whether the window was open at instant `at`, from the two openings we
 * know: the first sighting and the last attempt (earlier attempts are not
 * kept, so instants only they covered answer false).
 */
export function windowWasOpen(facts: WindowFacts, at: Date): boolean {
  const t = at.getTime();
  return [facts.firstSeen, facts.lastAttempt].some((o) => o !== undefined && o.getTime() <= t && t < o.getTime() + facts.windowHours * HOUR_MS);
}

/**
 * The first instant after `now` at which anything in the window's state
 * flips: it opens (an opener stamped in the future by a skewed clock), it
 * closes, or the next retry falls due. Undefined when nothing is pending.
 */
export function nextTransition(facts: WindowFacts, now: Date): Date | undefined {
  const w = provisioningWindow(facts, now);
  const t = now.getTime();
  const candidates = [w.openedAt, w.closesAt, w.nextRetryAt].filter((d): d is Date => d !== undefined && d.getTime() > t);
  return candidates.sort((a, b) => a.getTime() - b.getTime())[0];
}
