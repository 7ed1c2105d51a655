/**
 * The BootMachine status.boot writer of the kube store. A boot storm must not
 * flood the API server, and an API server restart must not lose a status:
 *
 * - coalescing: a machine's first observation waits `windowMs` (1 s) before
 *   it is written; later observations replace the pending status, so a
 *   machine is written at most once per window, with everything seen so far;
 * - a token bucket bounds the total write rate (default 20/s, burst 50);
 * - a failed write keeps the latest status (a newer observation replaces it,
 *   never the reverse) and the writer backs off while the API server is
 *   unreachable, then drains the backlog at the bucket's rate;
 * - the backlog is bounded (default 20,000 machines); beyond it the
 *   observations of further machines are dropped and logged.
 *
 * Pending entries sit in insertion order, which is also due-time order
 * (every entry is due `windowMs` after it was queued), so the pump only looks
 * at the head.
 */
import type { BootStatus } from '../boot/status.ts';
import { Errors } from '../errors.ts';
import { backoffDelay, fullBucket, reserveToken } from '../kube/backoff.ts';
import type { BackoffPolicy, Bucket, RateLimit } from '../kube/backoff.ts';
import type { Clock, Timer } from '../kube/clock.ts';
import { kubeError, statusCodeOf } from '../kube/kube.ts';
import type { Logger } from '../observability/logger.ts';

/** Tuning; every field has a default. */
export interface StatusWriterTuning {
  /** How long a machine's observations are gathered into one write. Default 1000 ms. */
  readonly windowMs?: number;
  /** Total write rate. Default 20/s, burst 50. */
  readonly rate?: RateLimit;
  /** Most machines with a status waiting to be written. Default 20,000. */
  readonly maxPending?: number;
  /** Writes in flight at once. Default 8. */
  readonly concurrency?: number;
  /** Pause after failures while the API server is unreachable. Default 500 ms doubling to 30 s. */
  readonly backoff?: BackoffPolicy;
}

export interface StatusWriterOptions extends StatusWriterTuning {
  readonly clock: Clock;
  readonly log: Logger;
  /** Writes one machine's status; rejects with the client's error. */
  readonly write: (name: string, boot: BootStatus) => Promise<void>;
  /** True while `name` cannot be written yet (its BootMachine is still being created); call poke() when that ends. */
  readonly deferred?: (name: string) => boolean;
}

/** Counters for metrics and tests. */
export interface StatusWriterStats {
  pending: number;
  inFlight: number;
  written: number;
  failed: number;
  dropped: number;
}

interface Entry {
  boot: BootStatus;
  dueAt: number;
  version: number;
  flight: Promise<void> | undefined;
}

/** True when retrying can help: no answer, throttling, server errors, and RBAC that may yet be fixed. */
export function retryable(err: unknown): boolean {
  const status = statusCodeOf(err);
  return status === undefined || status === 401 || status === 403 || status === 408 || status === 429 || status >= 500;
}

/** Coalesces, rate-limits and retries status.boot writes. Keys are BootMachine names. */
export class StatusWriter {
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #write: StatusWriterOptions['write'];
  readonly #deferred: (name: string) => boolean;
  readonly #windowMs: number;
  readonly #rate: RateLimit;
  readonly #maxPending: number;
  readonly #concurrency: number;
  readonly #backoff: BackoffPolicy;
  readonly #pending = new Map<string, Entry>();
  #bucket: Bucket;
  #inFlight = 0;
  #failures = 0;
  #blockedUntil = 0;
  #timer: { readonly at: number; readonly handle: Timer } | undefined;
  #lastDropWarning = -Infinity;
  #closed = false;
  readonly #stats = { written: 0, failed: 0, dropped: 0 };

  constructor(options: StatusWriterOptions) {
    this.#clock = options.clock;
    this.#log = options.log;
    this.#write = options.write;
    this.#deferred = options.deferred ?? (() => false);
    this.#windowMs = options.windowMs ?? 1000;
    this.#rate = options.rate ?? { perSecond: 20, burst: 50 };
    this.#maxPending = options.maxPending ?? 20_000;
    this.#concurrency = options.concurrency ?? 8;
    this.#backoff = options.backoff ?? { baseMs: 500, maxMs: 30_000 };
    this.#bucket = fullBucket(this.#rate, this.#clock.now());
  }

  /** The status waiting to be written for `name`, if any (the base for the next observation). */
  pending(name: string): BootStatus | undefined {
    return this.#pending.get(name)?.boot;
  }

  /** Names with a pending status. */
  pendingNames(): IterableIterator<string> {
    return this.#pending.keys();
  }

  /** Queues `boot` as the status to write for `name`; false when the backlog is full and it was dropped. */
  offer(name: string, boot: BootStatus): boolean {
    if (this.#closed) return false;
    const entry = this.#pending.get(name);
    if (entry !== undefined) {
      entry.boot = boot;
      entry.version++;
      return true;
    }
    const now = this.#clock.now();
    if (this.#pending.size >= this.#maxPending) {
      this.#stats.dropped++;
      if (now - this.#lastDropWarning >= 10_000) {
        this.#lastDropWarning = now;
        this.#log.warn({ code: Errors.StatusBacklogFull.code, pending: this.#pending.size, dropped: this.#stats.dropped },
          `${this.#pending.size} BootMachine statuses are waiting to be written; observations of further machines are dropped until the API server takes writes again (logged at most every 10 s)`);
      }
      return false;
    }
    this.#pending.set(name, { boot, dueAt: now + this.#windowMs, version: 0, flight: undefined });
    this.#pump();
    return true;
  }

  /** Forgets the pending status of `name` (the machine was deleted). */
  forget(name: string): void {
    const entry = this.#pending.get(name);
    if (entry !== undefined && entry.flight === undefined) this.#pending.delete(name);
  }

  /**
   * Writes every pending status now, ignoring the window, the rate and any
   * backoff, one attempt each; resolves when those writes have finished.
   * Statuses that still fail, or wait for their machine's creation, stay pending.
   */
  async flush(): Promise<void> {
    const names = [...this.#pending.keys()];
    let next = 0;
    const worker = async () => {
      while (next < names.length) {
        const name = names[next++] as string;
        const entry = this.#pending.get(name);
        if (entry?.flight !== undefined) await entry.flight;
        const again = this.#pending.get(name);
        if (again !== undefined && again.flight === undefined && !this.#deferred(name)) await this.#start(name, again);
      }
    };
    await Promise.all(Array.from({ length: this.#concurrency }, worker));
  }

  /** Looks for due writes now (a deferred machine became writable). */
  poke(): void {
    this.#pump();
  }

  /** Stops the pump; pending statuses stay (call flush first). */
  close(): void {
    this.#closed = true;
    this.#timer?.handle.cancel();
    this.#timer = undefined;
  }

  stats(): StatusWriterStats {
    return { pending: this.#pending.size, inFlight: this.#inFlight, ...this.#stats };
  }

  /** Starts every write that is due, within the rate and concurrency limits; otherwise sleeps until one is. */
  #pump(): void {
    if (this.#closed) return;
    const now = this.#clock.now();
    if (now < this.#blockedUntil) return this.#wakeAt(this.#blockedUntil);
    for (const [name, entry] of this.#pending) {
      if (this.#inFlight >= this.#concurrency) return; // a finishing write pumps again
      if (entry.flight !== undefined || this.#deferred(name)) continue;
      if (entry.dueAt > now) return this.#wakeAt(entry.dueAt);
      const token = reserveToken(this.#bucket, this.#rate, now);
      if (token.waitMs > 0) return this.#wakeAt(now + token.waitMs);
      this.#bucket = token.bucket;
      void this.#start(name, entry);
    }
  }

  #wakeAt(at: number): void {
    if (this.#timer !== undefined && this.#timer.at <= at) return;
    this.#timer?.handle.cancel();
    const handle = this.#clock.setTimer(() => { this.#timer = undefined; this.#pump(); }, at - this.#clock.now());
    this.#timer = { at, handle };
  }

  #start(name: string, entry: Entry): Promise<void> {
    const version = entry.version;
    this.#inFlight++;
    const flight = this.#write(name, entry.boot).then(
      () => this.#succeeded(name, entry, version),
      (err: unknown) => this.#failed(name, entry, version, err),
    ).finally(() => {
      entry.flight = undefined;
      this.#inFlight--;
      this.#pump();
    });
    entry.flight = flight;
    return flight;
  }

  #succeeded(name: string, entry: Entry, version: number): void {
    this.#stats.written++;
    if (this.#failures > 0) {
      this.#log.info({ pending: this.#pending.size }, 'BootMachine status writes succeed again; writing the backlog');
      this.#failures = 0;
      this.#blockedUntil = 0;
    }
    if (this.#pending.get(name) !== entry) return;
    this.#pending.delete(name);
    if (entry.version !== version) {
      // Observed while the write was in flight: written one window from now, at the back of the queue.
      entry.dueAt = this.#clock.now() + this.#windowMs;
      this.#pending.set(name, entry);
    }
  }

  #failed(name: string, entry: Entry, version: number, err: unknown): void {
    this.#stats.failed++;
    const now = this.#clock.now();
    const error = kubeError(Errors.BootStatusWriteFailed, `server-side apply of status.boot of BootMachine ${name}`, err);
    if (retryable(err)) {
      // Concurrent failures of one outage count once, so the backoff grows per round, not per write.
      if (now >= this.#blockedUntil) {
        this.#failures++;
        const delay = backoffDelay(this.#failures, this.#backoff);
        this.#blockedUntil = now + delay;
        const fields = { code: Errors.BootStatusWriteFailed.code, cause: error.code, pending: this.#pending.size, retryInMs: delay };
        if (this.#failures === 1) this.#log.warn(fields, `${error.message}; keeping the latest status of every machine and retrying`);
        else this.#log.debug(fields, error.message);
      }
      return;
    }
    this.#log.warn({ code: Errors.BootStatusWriteFailed.code, cause: error.code, machine: name }, `${error.message}; this status is dropped`);
    if (this.#pending.get(name) === entry && entry.version === version) this.#pending.delete(name);
  }
}
