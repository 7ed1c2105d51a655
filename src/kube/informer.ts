/**
 * An informer that keeps going: list, then watch from the list's
 * resourceVersion, forever. What client-node 2.x's ListWatch lacks is added
 * here: any failure (not only 410) restarts with exponential backoff; a
 * watchdog restarts a watch that has been silent too long (bookmarks count as
 * activity); 410 Gone, as an error or an ERROR event, triggers a relist whose
 * diff against the cache emits the adds, updates and deletes that were missed.
 *
 * Listeners get only the KEY ("namespace/name"): reconcilers read the object
 * from this cache (STYLE principle 3), so a burst of events for one object
 * collapses into one work-queue entry and nobody acts on a stale payload.
 */
import { Errors } from '../errors.ts';
import type { NetbootError } from '../errors.ts';
import { backoffDelay } from './backoff.ts';
import type { BackoffPolicy } from './backoff.ts';
import { sleep, systemClock } from './clock.ts';
import type { Clock } from './clock.ts';
import { applyWatchEvent, diffRelist } from './cache.ts';
import type { CacheChange, InformerEvent, KubeObject, WatchEvent } from './cache.ts';
import { kubeError, statusCodeOf } from './kube.ts';

// The cache's vocabulary, so callers need only this module.
export { objectKey, splitKey } from './cache.ts';
export type { InformerEvent, KubeObject, WatchEvent } from './cache.ts';

/** Where objects come from; `source.ts` has the Kubernetes one, tests use fakes. */
export interface ListWatchSource<T extends KubeObject> {
  /** What is listed, for messages ("bootnetworks.netboot.dev"). */
  readonly resource: string;
  /** All objects and the collection's resourceVersion. */
  list(signal: AbortSignal): Promise<{ readonly items: readonly T[]; readonly resourceVersion: string }>;
  /**
   * Streams events after `resourceVersion` to `onEvent`. Resolves when the
   * stream ends normally (server timeout, client inactivity timeout, abort),
   * rejects on failure; a 410 carries `statusCode` or `code` 410.
   */
  watch(resourceVersion: string, onEvent: (event: WatchEvent) => void, signal: AbortSignal): Promise<void>;
}

/** Tuning and hooks; every field has a default. */
export interface InformerOptions {
  readonly clock?: Clock;
  /** Restart backoff after failures. Default 800 ms doubling up to 30 s (client-go's reflector). */
  readonly backoff?: BackoffPolicy;
  /**
   * Restart a watch that delivered nothing (not even a bookmark) for this
   * long. Default 90 s. kubeWatch (request.ts) also ends a stream after 30 s
   * without data, which the informer resumes at once from the last
   * resourceVersion; a lower value here catches a hung stream sooner.
   */
  readonly watchdogMs?: number;
  /** Each failure, as a catalogue error, with the delay before the next attempt. */
  readonly onError?: (err: NetbootError, retryInMs: number) => void;
  /** A listener threw (a bug in the listener); default: console.error. */
  readonly onListenerError?: (err: unknown, event: InformerEvent, key: string) => void;
}

/** Counters for metrics and tests. */
export interface InformerStats {
  lists: number;
  watches: number;
  failures: number;
  relistsAfterGone: number;
  watchdogRestarts: number;
}

/** A watch that ends sooner than this with no event counts as a failure, so it backs off. */
const MIN_HEALTHY_WATCH_MS = 1000;

/** A list+watch cache of one resource. `start()`, wait for `hasSynced()`, read by key. */
export class Informer<T extends KubeObject> {
  readonly #source: ListWatchSource<T>;
  readonly #clock: Clock;
  readonly #backoff: BackoffPolicy;
  readonly #watchdogMs: number;
  readonly #onError: NonNullable<InformerOptions['onError']>;
  readonly #onListenerError: NonNullable<InformerOptions['onListenerError']>;
  readonly #listeners = new Map<InformerEvent, Set<(key: string) => void>>([['add', new Set()], ['update', new Set()], ['delete', new Set()]]);
  readonly #stop = new AbortController();
  readonly #stats: InformerStats = { lists: 0, watches: 0, failures: 0, relistsAfterGone: 0, watchdogRestarts: 0 };
  #cache = new Map<string, T>();
  #resourceVersion = '';
  #synced = false;
  #syncWaiters: (() => void)[] = [];
  #loop: Promise<void> | undefined;
  /** Whether the last watch delivered something or lived a while before it ended. */
  #watchProgressed = false;

  constructor(source: ListWatchSource<T>, options: InformerOptions = {}) {
    this.#source = source;
    this.#clock = options.clock ?? systemClock;
    this.#backoff = options.backoff ?? { baseMs: 800, maxMs: 30_000 };
    this.#watchdogMs = options.watchdogMs ?? 90_000;
    this.#onError = options.onError ?? (() => {});
    this.#onListenerError = options.onListenerError ?? ((err, event, key) => console.error(`informer ${source.resource}: ${event} listener for ${key} threw`, err));
  }

  /** Registers a listener for `event`; returns a function that removes it. */
  on(event: InformerEvent, listener: (key: string) => void): () => void {
    this.#listeners.get(event)?.add(listener);
    return () => { this.#listeners.get(event)?.delete(listener); };
  }

  /** Starts listing and watching in the background. Idempotent. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** Stops for good; resolves when the current list or watch has ended. */
  async stop(): Promise<void> {
    this.#stop.abort();
    for (const wake of this.#syncWaiters) wake();
    this.#syncWaiters = [];
    await this.#loop;
  }

  /** True once the first list has filled the cache. */
  hasSynced(): boolean {
    return this.#synced;
  }

  /** Resolves true once synced, or false if the informer is stopped first. */
  waitForSync(): Promise<boolean> {
    if (this.#synced) return Promise.resolve(true);
    if (this.#stop.signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => this.#syncWaiters.push(() => resolve(this.#synced)));
  }

  /** The cached object for `key` ("namespace/name"), or undefined (not there, or deleted). */
  get(key: string): T | undefined {
    return this.#cache.get(key);
  }

  /** Every cached object, in no particular order. */
  list(): T[] {
    return [...this.#cache.values()];
  }

  /** Every cached key. */
  keys(): string[] {
    return [...this.#cache.keys()];
  }

  /** The resourceVersion the next watch starts from ('' = the next step is a relist). */
  resourceVersion(): string {
    return this.#resourceVersion;
  }

  /** A copy of the counters. */
  stats(): InformerStats {
    return { ...this.#stats };
  }

  async #run(): Promise<void> {
    let failures = 0;
    const stop = this.#stop.signal;
    while (!stop.aborted) {
      const phase = this.#resourceVersion === '' ? 'list' : 'watch';
      let healthy = true;
      this.#watchProgressed = false;
      try {
        if (this.#resourceVersion === '') {
          await this.#relist();
          failures = 0;
        }
        healthy = await this.#watchOnce();
      } catch (err) {
        if (stop.aborted) break;
        if (statusCodeOf(err) === 410) {
          this.#stats.relistsAfterGone++;
          this.#resourceVersion = '';
          // Expired history is normal: relist at once, unless we had just relisted and got nowhere.
          if (phase === 'watch' || this.#watchProgressed) continue;
        }
        failures++;
        this.#stats.failures++;
        const delay = backoffDelay(failures, this.#backoff);
        this.#onError(kubeError(Errors.KubeWatchFailed, `${phase} of ${this.#source.resource}`, err), delay);
        await sleep(this.#clock, delay, stop);
        continue;
      }
      if (healthy) {
        failures = 0;
      } else if (!stop.aborted) {
        // Closed at once with nothing to say: back off rather than spin.
        failures++;
        await sleep(this.#clock, backoffDelay(failures, this.#backoff), stop);
      }
    }
  }

  async #relist(): Promise<void> {
    this.#stats.lists++;
    const stop = this.#stop.signal;
    const { items, resourceVersion } = await this.#source.list(stop);
    if (stop.aborted) return;
    const { cache, changes } = diffRelist(this.#cache, items);
    // The cache is complete before anyone hears of a change, so listeners read the new state.
    this.#cache = cache;
    this.#resourceVersion = resourceVersion;
    if (!this.#synced) {
      this.#synced = true;
      for (const wake of this.#syncWaiters) wake();
      this.#syncWaiters = [];
    }
    for (const change of changes) this.#emit(change);
  }

  /** One watch; resolves whether it was healthy, rejects on failure (410 included). */
  async #watchOnce(): Promise<boolean> {
    this.#stats.watches++;
    const ended = new AbortController();
    const signal = AbortSignal.any([this.#stop.signal, ended.signal]);
    const started = this.#clock.now();
    let lastActivity = started;
    let events = 0;
    let errorStatus: { code?: number; message?: string } | undefined;
    const check = () => {
      const silent = this.#clock.now() - lastActivity;
      if (silent < this.#watchdogMs) { timer = this.#clock.setTimer(check, this.#watchdogMs - silent); return; }
      this.#stats.watchdogRestarts++;
      ended.abort();
    };
    let timer = this.#clock.setTimer(check, this.#watchdogMs);
    const progressed = () => events > 0 || this.#clock.now() - started >= MIN_HEALTHY_WATCH_MS;
    try {
      await this.#source.watch(this.#resourceVersion, (event) => {
        if (signal.aborted) return;
        lastActivity = this.#clock.now();
        if (event.type === 'ERROR') {
          errorStatus = (event.object ?? {}) as typeof errorStatus;
          ended.abort();
          return;
        }
        events++;
        this.#apply(event);
      }, signal);
    } catch (err) {
      if (!signal.aborted) {
        this.#watchProgressed = progressed();
        throw err;
      }
    } finally {
      timer.cancel();
    }
    this.#watchProgressed = progressed();
    if (errorStatus !== undefined) {
      throw Object.assign(new Error(errorStatus.message ?? 'watch ERROR event'), { statusCode: errorStatus.code ?? 500 });
    }
    return this.#watchProgressed || this.#stop.signal.aborted;
  }

  #apply(event: WatchEvent): void {
    const { change, resourceVersion } = applyWatchEvent(this.#cache, event);
    if (resourceVersion !== undefined) this.#resourceVersion = resourceVersion;
    if (change !== undefined) this.#emit(change);
  }

  #emit({ event, key }: CacheChange): void {
    for (const listener of this.#listeners.get(event) ?? []) {
      try { listener(key); } catch (err) { this.#onListenerError(err, event, key); }
    }
  }
}
