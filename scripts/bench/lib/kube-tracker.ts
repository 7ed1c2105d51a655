/**
 * The benchmark's own view of a collection: list once, then watch, keeping
 * a projection of every object, and answering "when did every object first
 * satisfy P?" with the arrival time of the event that completed it. This is
 * how the benchmark checks the controller's claims (initial sync, class
 * changes re-resolved) independently of the controller's own metrics.
 */
import type { KubeHttp, KubeObject, WatchEvent } from './kube.ts';

export interface Outcome {
  /** performance.now() of the event that made the last object satisfy P (or of the call, if all did already). */
  readonly at: number;
  readonly done: boolean;
  /** Objects still not satisfying P when it gave up. */
  readonly pending: number;
  /** Up to three names still pending, to say which. */
  readonly examples: readonly string[];
}

interface Waiter<S> {
  readonly pred: (s: S, name: string) => boolean;
  readonly pending: Set<string>;
  readonly resolve: (o: Outcome) => void;
  readonly timer: NodeJS.Timeout;
}

export class Tracker<S> {
  readonly states = new Map<string, S>();
  /** Arrival times of MODIFIED events (writes that changed an object). */
  readonly modifiedAt: number[] = [];
  readonly #kube: KubeHttp;
  readonly #path: string;
  readonly #project: (o: KubeObject) => S;
  readonly #abort = new AbortController();
  readonly #waiters = new Set<Waiter<S>>();
  #failure: Error | undefined;
  #onChange: ((name: string, s: S, at: number) => void) | undefined;

  constructor(kube: KubeHttp, path: string, project: (o: KubeObject) => S) {
    this.#kube = kube;
    this.#path = path;
    this.#project = project;
  }

  /** Lists, then watches from the list's resourceVersion; resolves once the list is in. */
  async start(): Promise<{ bytes: number; largest: number }> {
    const { items, resourceVersion, bytes } = await this.#kube.list(this.#path);
    let largest = 0;
    for (const o of items) {
      this.states.set(o.metadata.name, this.#project(o));
      largest = Math.max(largest, Buffer.byteLength(JSON.stringify(o)));
    }
    this.#kube.watch(this.#path, resourceVersion, (e) => this.#event(e), this.#abort.signal)
      .catch((err: unknown) => this.#fail(err instanceof Error ? err : new Error(String(err))));
    return { bytes, largest };
  }

  /** Calls `listener` on every ADDED/MODIFIED event after the projection is stored. */
  onChange(listener: (name: string, s: S, at: number) => void): void {
    this.#onChange = listener;
  }

  #event(e: WatchEvent): void {
    if (e.type === 'BOOKMARK') return;
    if (e.type === 'ERROR') return this.#fail(new Error(`watch ${this.#path}: ${JSON.stringify(e.object).slice(0, 300)}`));
    const name = e.object.metadata.name;
    if (e.type === 'DELETED') {
      this.states.delete(name);
      for (const w of this.#waiters) w.pending.delete(name);
      return;
    }
    if (e.type === 'MODIFIED') this.modifiedAt.push(e.at);
    const s = this.#project(e.object);
    this.states.set(name, s);
    this.#onChange?.(name, s, e.at);
    for (const w of this.#waiters) {
      // An object that satisfied P may stop satisfying it (a later write undoing it): it is pending again.
      if (w.pred(s, name)) w.pending.delete(name);
      else w.pending.add(name);
      if (w.pending.size === 0) this.#finish(w, { at: e.at, done: true, pending: 0, examples: [] });
    }
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    for (const w of this.#waiters) this.#finish(w, { at: performance.now(), done: false, pending: w.pending.size, examples: [`watch failed: ${err.message}`] });
  }

  #finish(w: Waiter<S>, o: Outcome): void {
    clearTimeout(w.timer);
    this.#waiters.delete(w);
    w.resolve(o);
  }

  /** Resolves when every object satisfies `pred` (by the event that completed it), or after `timeoutMs` with what is left. */
  until(pred: (s: S, name: string) => boolean, timeoutMs: number): Promise<Outcome> {
    const pending = new Set([...this.states].filter(([n, s]) => !pred(s, n)).map(([n]) => n));
    if (this.#failure !== undefined) return Promise.resolve({ at: performance.now(), done: false, pending: pending.size, examples: [`watch failed: ${this.#failure.message}`] });
    if (pending.size === 0) return Promise.resolve({ at: performance.now(), done: true, pending: 0, examples: [] });
    return new Promise((resolve) => {
      const w: Waiter<S> = {
        pred, pending, resolve,
        timer: setTimeout(() => this.#finish(w, { at: performance.now(), done: false, pending: w.pending.size, examples: [...w.pending].slice(0, 3) }), timeoutMs),
      };
      this.#waiters.add(w);
    });
  }

  /** The most recent event time, or -Infinity. */
  lastModified(): number {
    return this.modifiedAt.at(-1) ?? -Infinity;
  }

  /** Resolves once no MODIFIED event arrived for `quietMs` (or `maxMs` passed); returns whether it got quiet. */
  async quiet(quietMs: number, maxMs: number): Promise<boolean> {
    const t0 = performance.now();
    for (;;) {
      const since = performance.now() - Math.max(this.lastModified(), t0);
      if (since >= quietMs) return true;
      if (performance.now() - t0 >= maxMs) return false;
      await new Promise((r) => setTimeout(r, Math.min(250, quietMs - since + 5)));
    }
  }

  stop(): void {
    this.#abort.abort();
    for (const w of this.#waiters) this.#finish(w, { at: performance.now(), done: false, pending: w.pending.size, examples: ['stopped'] });
  }
}
