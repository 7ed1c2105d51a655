/**
 * A keyed work queue (client-go's workqueue, reduced to what a reconciler
 * needs). Keys, not events: adding a key that is already queued is a no-op,
 * and adding one that is being processed marks it dirty, so it runs exactly
 * once more after the current run. At most `concurrency` keys run at once and
 * never the same key twice. Failed keys come back after a per-key exponential
 * backoff, and a token bucket limits how fast all retries together can come.
 */
import { backoffDelay, fullBucket, reserveToken } from './backoff.ts';
import type { BackoffPolicy, Bucket, RateLimit } from './backoff.ts';
import { systemClock } from './clock.ts';
import type { Clock, Timer } from './clock.ts';

/** What a reconcile returns: nothing (done), or when to look at the key again. */
export type ReconcileResult = void | { readonly requeueAfterMs: number };

/** Reconciles one key; throwing means "retry with backoff". */
export type Reconciler = (key: string) => Promise<ReconcileResult>;

/** Tuning and hooks; every field has a default. */
export interface WorkQueueOptions {
  readonly clock?: Clock;
  /** Per-key retry backoff. Default 5 ms doubling up to 5 minutes. */
  readonly backoff?: BackoffPolicy;
  /** Limit on all retries together. Default 10 per second, burst 100. */
  readonly retryRate?: RateLimit;
  /** Called when a reconcile throws, with the delay before the retry. */
  readonly onError?: (key: string, err: unknown, retryInMs: number) => void;
}

/** Default per-key backoff: 5 ms, doubling, capped at 5 minutes. */
export const DEFAULT_QUEUE_BACKOFF: BackoffPolicy = { baseMs: 5, maxMs: 300_000 };
/** Default overall retry rate: 10 per second with a burst of 100. */
export const DEFAULT_RETRY_RATE: RateLimit = { perSecond: 10, burst: 100 };

/** The queue. Create it, `start()` workers, `add()` keys, `shutdown()` at the end. */
export class WorkQueue {
  readonly #clock: Clock;
  readonly #backoff: BackoffPolicy;
  readonly #rate: RateLimit;
  readonly #onError: WorkQueueOptions['onError'];
  #bucket: Bucket;
  /** Ready to run, in first-added order (a Set keeps insertion order). */
  readonly #queued = new Set<string>();
  /** Needs a run: queued, or re-added while processing. */
  readonly #dirty = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #delayed = new Map<string, { readonly at: number; readonly timer: Timer }>();
  readonly #running = new Set<Promise<void>>();
  #handler: Reconciler | undefined;
  #concurrency = 1;
  #shuttingDown = false;
  #draining = false;

  constructor(options: WorkQueueOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#backoff = options.backoff ?? DEFAULT_QUEUE_BACKOFF;
    this.#rate = options.retryRate ?? DEFAULT_RETRY_RATE;
    this.#onError = options.onError;
    this.#bucket = fullBucket(this.#rate, this.#clock.now());
  }

  /** Queues `key` unless it is already waiting; if it is running, it runs once more afterwards. */
  add(key: string): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (!this.#processing.has(key)) this.#queued.add(key);
    this.#pump();
  }

  /** Adds `key` after `ms`; an earlier pending add for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const at = this.#clock.now() + ms;
    const pending = this.#delayed.get(key);
    if (pending !== undefined && pending.at <= at) return;
    pending?.timer.cancel();
    const timer = this.#clock.setTimer(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, ms);
    this.#delayed.set(key, { at, timer });
  }

  /**
   * Adds `key` after its backoff (which grows with each call until `forget`),
   * or later if the overall retry rate is exhausted. Returns the delay used.
   */
  addRateLimited(key: string): number {
    const failures = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, failures);
    const reserved = reserveToken(this.#bucket, this.#rate, this.#clock.now());
    this.#bucket = reserved.bucket;
    const delay = Math.max(backoffDelay(failures, this.#backoff), reserved.waitMs);
    this.addAfter(key, delay);
    return delay;
  }

  /** Resets the backoff of `key` (after a successful reconcile). */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** How many times `key` failed in a row. */
  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Keys ready to run and not yet picked up (the usual queue-depth metric). */
  depth(): number {
    return this.#queued.size;
  }

  /** Keys being reconciled right now. */
  processing(): number {
    return this.#processing.size;
  }

  /** Keys waiting for a delayed or backed-off add. */
  waiting(): number {
    return this.#delayed.size;
  }

  /** True once `shutdown()` was called; adds are ignored from then on. */
  get shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /**
   * Starts `concurrency` workers running `reconcile`. A success forgets the
   * key's backoff (and honours `requeueAfterMs`); a throw re-adds it rate-limited.
   */
  start(reconcile: Reconciler, concurrency = 1): void {
    if (this.#handler !== undefined) throw new Error('WorkQueue.start called twice');
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
    this.#handler = reconcile;
    this.#concurrency = concurrency;
    this.#pump();
  }

  /**
   * Stops taking keys: delayed adds are cancelled and later adds ignored.
   * Resolves when running reconciles have finished; with `drain`, keys already
   * queued are reconciled first.
   */
  async shutdown(options: { readonly drain?: boolean } = {}): Promise<void> {
    this.#shuttingDown = true;
    this.#draining = options.drain === true && this.#handler !== undefined;
    for (const { timer } of this.#delayed.values()) timer.cancel();
    this.#delayed.clear();
    this.#pump();
    while (this.#running.size > 0) await Promise.race(this.#running);
  }

  #pump(): void {
    const handler = this.#handler;
    if (handler === undefined || (this.#shuttingDown && !this.#draining)) return;
    while (this.#processing.size < this.#concurrency && this.#queued.size > 0) {
      const key = this.#queued.values().next().value as string;
      this.#queued.delete(key);
      this.#dirty.delete(key);
      this.#processing.add(key);
      const run: Promise<void> = this.#run(handler, key).finally(() => this.#running.delete(run));
      this.#running.add(run);
    }
  }

  async #run(handler: Reconciler, key: string): Promise<void> {
    try {
      const result = await handler(key);
      this.forget(key);
      if (result !== undefined && result.requeueAfterMs > 0) this.addAfter(key, result.requeueAfterMs);
    } catch (err) {
      if (!this.#shuttingDown) {
        const delay = this.addRateLimited(key);
        this.#onError?.(key, err, delay);
      }
    } finally {
      this.#processing.delete(key);
      // Re-added while running: it goes to the back of the line, once.
      if (this.#dirty.has(key)) this.#queued.add(key);
      this.#pump();
    }
  }
}
