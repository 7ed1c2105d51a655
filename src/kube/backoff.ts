/**
 * Pure retry arithmetic: per-key exponential backoff and a token bucket that
 * limits the overall retry rate. Both take the time as an argument, so the
 * work queue and the informer stay testable with a fake clock.
 */

/** Exponential backoff: `baseMs * 2^(failures-1)`, never above `maxMs`. */
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
}

/**
 * The delay before retry number `failures` (1 = the first retry). Zero or
 * fewer failures means no delay.
 */
export function backoffDelay(failures: number, policy: BackoffPolicy): number {
  if (failures <= 0) return 0;
  // 2^60 already exceeds any sane maxMs; clamping the exponent keeps the math finite.
  const exp = Math.min(failures - 1, 60);
  return Math.min(policy.maxMs, policy.baseMs * 2 ** exp);
}

/** A token bucket's rate: `perSecond` tokens refill, at most `burst` saved up. */
export interface RateLimit {
  readonly perSecond: number;
  readonly burst: number;
}

/** The bucket's state: tokens left (negative = reserved ahead) as of `at`. */
export interface Bucket {
  readonly tokens: number;
  readonly at: number;
}

/** A full bucket at time `now`. */
export function fullBucket(limit: RateLimit, now: number): Bucket {
  return { tokens: limit.burst, at: now };
}

/**
 * Reserves one token at `now`. Returns the new bucket and how long the caller
 * must wait for its token; reservations queue up, like client-go's
 * BucketRateLimiter, so a burst of failures is spread out instead of refused.
 */
export function reserveToken(bucket: Bucket, limit: RateLimit, now: number): { bucket: Bucket; waitMs: number } {
  const elapsed = Math.max(0, now - bucket.at);
  const refilled = Math.min(limit.burst, bucket.tokens + (elapsed * limit.perSecond) / 1000);
  const tokens = refilled - 1;
  const waitMs = tokens >= 0 ? 0 : Math.ceil((-tokens * 1000) / limit.perSecond);
  return { bucket: { tokens, at: now }, waitMs };
}
