/**
 * Time as an input (STYLE principle 4). Everything in the controller runtime
 * that waits, retries or times out takes a Clock, so a 15-second lease or a
 * five-minute backoff is tested in microseconds with a fake one.
 */

/** A pending timer; `cancel()` is idempotent. */
export interface Timer {
  cancel(): void;
}

/** Wall-clock milliseconds and one-shot timers. */
export interface Clock {
  /** Milliseconds since the epoch (comparable with Lease timestamps). */
  now(): number;
  /** Calls `callback` once after `ms` milliseconds unless cancelled first. */
  setTimer(callback: () => void, ms: number): Timer;
}

/** The process clock: `Date.now()` and `setTimeout`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(callback, ms) {
    const handle = setTimeout(callback, Math.max(0, ms));
    return { cancel: () => clearTimeout(handle) };
  },
};

/**
 * Resolves after `ms` on `clock`, or as soon as `signal` aborts (it never
 * rejects: callers check `signal.aborted` themselves, which keeps loops flat).
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted === true) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      timer.cancel();
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = clock.setTimer(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
