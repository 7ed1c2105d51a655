/**
 * When the AMT prober may probe whom: only addresses the agent has seen on
 * its segment, each at most once per `reprobeAfterMs`, starts spaced by
 * `minIntervalMs`, at most `maxConcurrent` at once. Pure bookkeeping over
 * times passed in, so the limits are tested without sockets or waiting.
 */

/** Milliseconds and one-shot timers; structurally the controller runtime's Clock, so its FakeClock fits. */
export interface ProbeClock {
  now(): number;
  setTimer(callback: () => void, ms: number): { cancel(): void };
}

/** The process clock. */
export const systemProbeClock: ProbeClock = {
  now: () => Date.now(),
  setTimer(callback, ms) {
    const handle = setTimeout(callback, Math.max(0, ms));
    handle.unref?.();
    return { cancel: () => clearTimeout(handle) };
  },
};

export interface ScheduleLimits {
  /** Least time between two probe starts (default 2 s: a probe is ~4 packets and two TCP connections). */
  readonly minIntervalMs: number;
  /** Probes in flight at once (default 2). */
  readonly maxConcurrent: number;
  /** Least time before the same address is probed again (default 6 h). */
  readonly reprobeAfterMs: number;
  /** Addresses waiting at most (default 1024); more are offered again at the next scan. */
  readonly maxQueue: number;
}

export const DEFAULT_LIMITS: ScheduleLimits = { minIntervalMs: 2_000, maxConcurrent: 2, reprobeAfterMs: 6 * 3_600_000, maxQueue: 1024 };

/** The queue and the limits; every method takes `now` and does no I/O. */
export class ProbeSchedule {
  readonly #limits: ScheduleLimits;
  readonly #queue: string[] = [];
  readonly #queued = new Set<string>();
  readonly #inFlight = new Set<string>();
  /** Address -> when its last probe started. */
  readonly #lastStart = new Map<string, number>();
  #lastAnyStart = Number.NEGATIVE_INFINITY;

  constructor(limits: Partial<ScheduleLimits> = {}) {
    this.#limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Queues `address` unless it is queued, in flight, or was probed less than reprobeAfterMs ago. True when queued. */
  offer(address: string, now: number): boolean {
    if (this.#queued.has(address) || this.#inFlight.has(address)) return false;
    if (now - (this.#lastStart.get(address) ?? Number.NEGATIVE_INFINITY) < this.#limits.reprobeAfterMs) return false;
    if (this.#queue.length >= this.#limits.maxQueue) return false;
    this.#queue.push(address);
    this.#queued.add(address);
    return true;
  }

  /**
   * The next address to probe now, or undefined when the queue is empty or a
   * limit holds; `stillAllowed` drops queued addresses that are no longer seen.
   */
  take(now: number, stillAllowed: (address: string) => boolean = () => true): string | undefined {
    if (this.#inFlight.size >= this.#limits.maxConcurrent) return undefined;
    if (now - this.#lastAnyStart < this.#limits.minIntervalMs) return undefined;
    for (;;) {
      const address = this.#queue.shift();
      if (address === undefined) return undefined;
      this.#queued.delete(address);
      if (!stillAllowed(address)) continue;
      this.#inFlight.add(address);
      this.#lastStart.set(address, now);
      this.#lastAnyStart = now;
      return address;
    }
  }

  /**
   * Records a probe started outside `take` (an on-demand probe), so scans do
   * not probe the address again within reprobeAfterMs. False when it is
   * already in flight.
   */
  claim(address: string, now: number): boolean {
    if (this.#inFlight.has(address)) return false;
    const i = this.#queue.indexOf(address);
    if (i >= 0) this.#queue.splice(i, 1);
    this.#queued.delete(address);
    this.#inFlight.add(address);
    this.#lastStart.set(address, now);
    this.#lastAnyStart = now;
    return true;
  }

  /** Marks a probe finished (whatever its outcome). */
  done(address: string): void {
    this.#inFlight.delete(address);
  }

  /**
   * Milliseconds until `take` could return an address, 0 if it can now, or
   * undefined when nothing is queued or every slot is busy (a `done` will tell).
   */
  wait(now: number): number | undefined {
    if (this.#queue.length === 0 || this.#inFlight.size >= this.#limits.maxConcurrent) return undefined;
    return Math.max(0, this.#lastAnyStart + this.#limits.minIntervalMs - now);
  }

  /** Forgets addresses probed longer ago than reprobeAfterMs (keeps the map bounded). */
  prune(now: number): void {
    for (const [address, at] of this.#lastStart) if (now - at >= this.#limits.reprobeAfterMs) this.#lastStart.delete(address);
  }

  get queued(): number {
    return this.#queue.length;
  }

  get inFlight(): number {
    return this.#inFlight.size;
  }
}
