/**
 * Kubernetes Events for what the evaluators report (discovered, class
 * changed, boot failed, ...). Recording never blocks or fails a reconcile:
 * `record` only queues, and one background writer sends in order, logging
 * failures. Like client-go's recorder, a repeat of the same event on the same
 * object within the window bumps `count` and `lastTimestamp` of the Event
 * already written instead of creating another object, and the buffer is
 * bounded: past `maxPending` new events are dropped (and counted).
 */
import { systemClock } from '../kube/clock.ts';
import type { Clock } from '../kube/clock.ts';
import type { ApplyableObject } from '../kube/apply-object.ts';

/** The component that reports events (source.component, reportingComponent). */
export const EVENT_COMPONENT = 'netboot-controller';

/** An event to record (the evaluators' EventSpec). */
export interface EventToRecord {
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  readonly message: string;
}

/** The object an event is about, as the cache holds it. */
export interface InvolvedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly uid?: string };
}

/** What happened to one `record` call, for metrics. */
export type EventResult = 'created' | 'bumped' | 'dropped' | 'failed';

/** Where events go and how. */
export interface EventRecorderOptions {
  /** Writes one Event (server-side apply); rejects on failure. */
  readonly write: (event: ApplyableObject) => Promise<unknown>;
  /** This replica (reportingInstance), at most 128 characters. */
  readonly instance: string;
  readonly clock?: Clock;
  /** A repeat within this window bumps the existing Event. Default 10 minutes. */
  readonly windowMs?: number;
  /** Events waiting to be written at most; more are dropped. Default 1000. */
  readonly maxPending?: number;
  readonly onResult?: (result: EventResult) => void;
  /** A write failed (the event is not retried). */
  readonly onError?: (err: unknown, event: ApplyableObject) => void;
}

interface Series {
  readonly name: string;
  readonly firstTimestamp: string;
  count: number;
  lastAt: number;
}

/** RFC 3339 with second precision, as Event timestamps are stored. */
function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Queues events and writes them in the background, one at a time. */
export class EventRecorder {
  readonly #write: EventRecorderOptions['write'];
  readonly #instance: string;
  readonly #clock: Clock;
  readonly #windowMs: number;
  readonly #maxPending: number;
  readonly #onResult: NonNullable<EventRecorderOptions['onResult']>;
  readonly #onError: NonNullable<EventRecorderOptions['onError']>;
  /** Dedupe key -> the Event written for it. */
  readonly #series = new Map<string, Series>();
  /** Event name -> body waiting to be written (a bump replaces a waiting body of the same name). */
  readonly #pending = new Map<string, ApplyableObject>();
  #sequence = 0;
  #lastSweep = 0;
  #writer: Promise<void> | undefined;

  constructor(options: EventRecorderOptions) {
    this.#write = options.write;
    this.#instance = options.instance.slice(0, 128);
    this.#clock = options.clock ?? systemClock;
    this.#windowMs = options.windowMs ?? 600_000;
    this.#maxPending = options.maxPending ?? 1000;
    this.#onResult = options.onResult ?? (() => {});
    this.#onError = options.onError ?? (() => {});
  }

  /** Queues `event` about `object`; returns at once and never throws. */
  record(object: InvolvedObject, event: EventToRecord): void {
    const now = this.#clock.now();
    this.#sweep(now);
    const { name, namespace, uid } = object.metadata;
    const key = [object.kind, namespace ?? '', name, uid ?? '', event.type, event.reason, event.message].join('\u0000');
    let series = this.#series.get(key);
    const bump = series !== undefined && now - series.lastAt < this.#windowMs;
    if (!bump && this.#pending.size >= this.#maxPending) {
      this.#onResult('dropped');
      return;
    }
    if (series === undefined || !bump) {
      series = { name: this.#eventName(name, now), firstTimestamp: stamp(now), count: 0, lastAt: now };
      this.#series.set(key, series);
    }
    series.count++;
    series.lastAt = now;
    this.#pending.set(series.name, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: series.name, namespace: namespace ?? 'default' },
      involvedObject: { apiVersion: object.apiVersion, kind: object.kind, name, ...(namespace === undefined ? {} : { namespace }), ...(uid === undefined ? {} : { uid }) },
      type: event.type,
      reason: event.reason,
      message: event.message.slice(0, 1024),
      source: { component: EVENT_COMPONENT },
      reportingComponent: EVENT_COMPONENT,
      reportingInstance: this.#instance,
      firstTimestamp: series.firstTimestamp,
      lastTimestamp: stamp(now),
      count: series.count,
    });
    this.#onResult(bump ? 'bumped' : 'created');
    this.#writer ??= this.#drain();
  }

  /** Events waiting to be written. */
  pending(): number {
    return this.#pending.size;
  }

  /** Resolves when every queued event has been written (or failed). */
  async idle(): Promise<void> {
    while (this.#writer !== undefined) await this.#writer;
  }

  /** Forgets queued events (on losing leadership: the next leader records its own). */
  clear(): void {
    this.#pending.clear();
  }

  async #drain(): Promise<void> {
    try {
      for (;;) {
        const next = this.#pending.entries().next();
        if (next.done === true) return;
        const [name, body] = next.value;
        this.#pending.delete(name);
        try {
          await this.#write(body);
        } catch (err) {
          this.#onResult('failed');
          this.#onError(err, body);
        }
      }
    } finally {
      this.#writer = undefined;
    }
  }

  /** `<object>.<hex>`, unique per recorder: client-go's naming, within the 253-character limit. */
  #eventName(objectName: string, now: number): string {
    this.#sequence = (this.#sequence + 1) % 0x10000;
    return `${objectName.slice(0, 230)}.${now.toString(16)}${this.#sequence.toString(16).padStart(4, '0')}`;
  }

  /** Drops series older than the window, at most once a minute. */
  #sweep(now: number): void {
    if (now - this.#lastSweep < 60_000) return;
    this.#lastSweep = now;
    for (const [key, s] of this.#series) if (now - s.lastAt >= this.#windowMs) this.#series.delete(key);
  }
}
