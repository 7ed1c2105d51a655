/**
 * The controller manager: informers on every replica (warm caches for a fast
 * failover), and, only while this replica leads, one work queue per kind
 * fed by the fan-out, running the reconcilers behind the write gate.
 *
 *   informer ─► Fanout ─► WorkQueue(kind) ─► reconcile (gather → evaluate → apply)
 *
 * `lead(signal)` is what the leader elector runs: it opens the gate, queues
 * every cached key once, and on abort closes the gate at once (in-flight
 * requests are aborted with the signal) and shuts the queues down.
 */
import type { Logger } from 'pino';
import { Applier } from '../../kube/apply.ts';
import type { ApplyApi } from '../../kube/apply.ts';
import { ObjectApplier } from '../../kube/apply-object.ts';
import type { ObjectApplyApi } from '../../kube/apply-object.ts';
import type { BackoffPolicy, RateLimit } from '../../kube/backoff.ts';
import { systemClock } from '../../kube/clock.ts';
import type { Clock, Timer } from '../../kube/clock.ts';
import type { InformerOptions } from '../../kube/informer.ts';
import { WorkQueue } from '../../kube/queue.ts';
import { Errors, NetbootError, isNetbootError } from '../../errors.ts';
import type { AgentPodOptions } from '../daemonset.ts';
import { EventRecorder } from '../events.ts';
import { AmtCertificates } from '../amt-certificates.ts';
import type { SecretReader } from '../amt-certificates.ts';
import { StaleReportPruner } from '../stale-reports.ts';
import type { AgentReportsApi } from '../stale-reports.ts';
import type { ControllerMetrics } from '../metrics.ts';
import { ControllerCaches, WATCHED_KINDS } from './caches.ts';
import type { CacheSources } from './caches.ts';
import { Fanout, QUEUE_KINDS } from './fanout.ts';
import type { QueueKind } from './fanout.ts';
import { reconcilers } from './reconcile.ts';
import { DEFAULT_WRITE_RATE, OwnWrites, WriteGate, gatedAgentReportsApi, gatedApplyApi, gatedObjectApplyApi, recordingApplyApi } from './writes.ts';

/**
 * Workers per queue. Machines are many and independent: a status apply takes
 * 20-60 ms on a busy API server, so 16 in flight (one HTTP/2 connection)
 * keep up with the write gate's 400/s; the other kinds are few.
 */
export const DEFAULT_CONCURRENCY: Readonly<Record<QueueKind, number>> = { BootNetwork: 2, BootProfile: 1, MachineClass: 2, BootMachine: 16, AmtNetworkPolicy: 1 };

/** Everything the manager needs; only `src/cli/` builds the real ones. */
export interface ManagerOptions {
  readonly sources: CacheSources;
  /** The raw APIs; the manager puts its write gate in front of them. */
  readonly applyApi: ApplyApi;
  readonly objectApi: ObjectApplyApi;
  readonly agent: AgentPodOptions;
  /** This replica, for Events (reportingInstance). */
  readonly identity: string;
  readonly logger: Logger;
  readonly metrics: ControllerMetrics;
  readonly clock?: Clock;
  readonly writeRate?: RateLimit;
  readonly concurrency?: Partial<Record<QueueKind, number>>;
  /** How long a dependent key waits so a burst collapses. Default 150 ms. */
  readonly dependencyDelayMs?: number;
  readonly informer?: InformerOptions;
  /** Per-key retry backoff of the queues. Default 5 ms doubling up to 30 s, so a key that failed through an API server outage is retried soon after it. */
  readonly queueBackoff?: BackoffPolicy;
  /** Reads the Secrets AmtNetworkPolicies name (`get` only). Without it, policies with a certificate report it unreadable. */
  readonly secrets?: SecretReader;
  /** Agent pods and stale status.agentReports entries (src/controller/stale-reports.ts); without it stale entries stay. */
  readonly agentReports?: AgentReportsApi;
}

/** Recounts wait at least this long (Fanout's countDelayMs). */
export const RECOUNT_MIN_DELAY_MS = 1000;
/** ... and at most this long, however many machines are queued: the longest a count may lag. */
export const RECOUNT_MAX_DELAY_MS = 10_000;

/**
 * How long a recount (a MachineClass, BootProfile or AmtNetworkPolicy whose
 * machines moved) waits: about the time the BootMachine queue needs to drain
 * at the write rate, within [1 s, 10 s]. A cold start or a class change that
 * re-resolves 10,000 machines then rewrites each count every ~10 s instead of
 * every second (measured: 97 BootProfile status writes for 2 profiles during
 * one 42 s initial sync); a few machines moving are counted after 1 s as before.
 */
export function recountDelayMs(machineBacklog: number, writesPerSecond: number): number {
  const drainMs = (machineBacklog / Math.max(1, writesPerSecond)) * 1000;
  return Math.min(RECOUNT_MAX_DELAY_MS, Math.max(RECOUNT_MIN_DELAY_MS, Math.round(drainMs)));
}

/** Retry backoff of the controller's queues. */
export const DEFAULT_QUEUE_BACKOFF: BackoffPolicy = { baseMs: 5, maxMs: 30_000 };

/** Settled = no key ready or running, and no reconcile started, across two polls this far apart. */
const DRAIN_POLL_MS = 200;

export class Manager {
  readonly #options: ManagerOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: ControllerMetrics;
  readonly #caches: ControllerCaches;
  readonly #fanout: Fanout;
  readonly #gate: WriteGate;
  readonly #events: EventRecorder;
  readonly #reconcile: ReturnType<typeof reconcilers>;
  /** Our status writes not yet seen back through the informers. */
  readonly #ownWrites = new OwnWrites();
  #queues: Map<QueueKind, WorkQueue> | undefined;
  #started = 0;
  #synced = false;
  #initialReconcileDone = false;
  #reconcilesStarted = 0;
  /** Informer counters already added to the restart metric. */
  readonly #restartsCounted = new Map<string, number>();

  constructor(options: ManagerOptions) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.logger;
    this.#metrics = options.metrics;
    const metrics = options.metrics;
    this.#gate = new WriteGate({
      clock: this.#clock,
      ...(options.writeRate === undefined ? {} : { rate: options.writeRate }),
      onWrite: (kind, verb) => metrics.apiWrites.inc({ kind, verb }),
      onRefused: () => metrics.writesRefused.inc(),
      onWait: (kind, verb, ms) => metrics.writeWaitSeconds.inc({ kind, verb }, ms / 1000),
    });
    this.#caches = new ControllerCaches(options.sources, (kind) => ({
      clock: this.#clock,
      ...options.informer,
      onError: (err, retryInMs) => this.#log.warn({ kind, code: err.code, retryInMs }, err.message),
    }));
    const writesPerSecond = (options.writeRate ?? DEFAULT_WRITE_RATE).perSecond;
    this.#fanout = new Fanout(this.#caches, {
      ...(options.dependencyDelayMs === undefined ? {} : { delayMs: options.dependencyDelayMs }),
      countDelayMs: () => recountDelayMs(this.#machineBacklog(), writesPerSecond),
    });
    const objects = new ObjectApplier(gatedObjectApplyApi(options.objectApi, this.#gate));
    this.#events = new EventRecorder({
      write: (event) => objects.apply(event),
      instance: options.identity,
      clock: this.#clock,
      onResult: (result) => metrics.events.inc({ result }),
      onError: (err, event) => {
        // Losing the lease mid-write is expected; anything else is worth a line.
        if (isNetbootError(err, Errors.ControllerNotLeader)) return;
        const involved = (event['involvedObject'] ?? {}) as { kind?: string; namespace?: string; name?: string };
        const wrapped = new NetbootError(Errors.EventRecordFailed, `event ${String(event['reason'])} on ${involved.kind} ${involved.namespace}/${involved.name} not recorded: ${String(err instanceof Error ? err.message : err)}`);
        this.#log.warn({ code: wrapped.code }, wrapped.message);
      },
    });
    this.#reconcile = reconcilers({
      caches: this.#caches,
      applier: new Applier(recordingApplyApi(gatedApplyApi(options.applyApi, this.#gate), this.#ownWrites)),
      objects,
      events: this.#events,
      agent: options.agent,
      clock: this.#clock,
      certificates: new AmtCertificates(options.secrets),
      ...(options.agentReports === undefined ? {} : { staleReports: new StaleReportPruner(gatedAgentReportsApi(options.agentReports, this.#gate), (err) => {
        if (isNetbootError(err, Errors.ControllerNotLeader)) return;
        this.#log.warn({ code: Errors.StaleReportsCheckFailed.code }, err instanceof Error ? err.message : String(err));
      }) }),
      enqueue: (kind, key) => this.#queues?.get(kind)?.add(key),
    });
    this.#caches.on((kind, event, key) => {
      this.#fanout.changed(kind, event, key, (k, stale, delayMs) => {
        const queue = this.#queues?.get(k);
        if (queue === undefined) return;
        if (k === kind && stale === key && delayMs <= 0) {
          // The object's own event: not when it only echoes our status write (its dependents may still be stale: a count moved).
          const rv = event === 'delete' ? undefined : this.#caches.object(kind, key)?.metadata?.resourceVersion;
          this.#ownWrites.event(kind, key, rv, () => queue.add(stale));
          return;
        }
        if (delayMs > 0) queue.addAfter(stale, delayMs);
        else queue.add(stale);
      });
    });
    this.#observeMetrics();
  }

  /** The caches (read-only use: tests, readiness). */
  get caches(): ControllerCaches {
    return this.#caches;
  }

  /** Writes sent so far. */
  get writes(): number {
    return this.#gate.sent;
  }

  /** Starts the informers; resolves at once. Logs "caches synced" when every cache listed once. */
  start(): void {
    this.#started = this.#clock.now();
    this.#caches.start();
    void this.#caches.waitForSync().then((synced) => {
      if (!synced) return;
      const seconds = (this.#clock.now() - this.#started) / 1000;
      this.#synced = true;
      this.#metrics.initialSyncSeconds.set(seconds);
      this.#log.info({ ms: Math.round(seconds * 1000), objects: this.#caches.sizes() }, 'caches synced');
    });
  }

  /** True once every informer listed once. */
  isSynced(): boolean {
    return this.#synced;
  }

  /** True while the reconcilers run (between becoming leader with synced caches and losing the lease). */
  isLeading(): boolean {
    return this.#queues !== undefined;
  }

  /**
   * Leads until `signal` aborts: waits for the caches, opens the write gate,
   * starts the queues and queues every key; the first time, logs "initial
   * reconcile done" once the queues drained. On abort the gate closes first,
   * then the queues stop (no draining: the next leader reconciles from scratch).
   */
  async lead(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    const synced = await Promise.race([this.#caches.waitForSync(), new Promise<false>((r) => signal.addEventListener('abort', () => r(false), { once: true }))]);
    if (!synced || signal.aborted) return;
    this.#gate.open(signal);
    this.#metrics.leader.set(1);
    const leadingSince = this.#clock.now();
    const queues = new Map<QueueKind, WorkQueue>();
    for (const kind of QUEUE_KINDS) {
      const queue = new WorkQueue({
        clock: this.#clock,
        backoff: this.#options.queueBackoff ?? DEFAULT_QUEUE_BACKOFF,
        // Writes are bounded by the gate; this only keeps a failing key set from retrying in a hot loop.
        retryRate: { perSecond: 50, burst: 500 },
        onError: (key, err, retryInMs) => {
          if (isNetbootError(err, Errors.ControllerNotLeader) || signal.aborted) return;
          const message = err instanceof Error ? err.message : String(err);
          const code = isNetbootError(err) ? err.code : Errors.ReconcileFailed.code;
          this.#log.warn({ kind, key, code, retryInMs }, `reconcile of ${kind} ${key} failed: ${message}`);
        },
      });
      queues.set(kind, queue);
      queue.start(this.#instrumented(kind), this.#options.concurrency?.[kind] ?? DEFAULT_CONCURRENCY[kind]);
    }
    this.#queues = queues;
    this.#log.info({ queues: QUEUE_KINDS.length }, 'reconcilers started');
    for (const kind of QUEUE_KINDS) for (const key of this.#caches.keys(kind)) queues.get(kind)?.add(key);
    const drainWatch = this.#initialReconcileDone ? undefined : this.#watchDrain(queues, leadingSince);

    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    this.#gate.close();
    this.#metrics.leader.set(0);
    drainWatch?.cancel();
    this.#queues = undefined;
    this.#events.clear();
    await Promise.all([...queues.values()].map((q) => q.shutdown()));
    this.#log.info('reconcilers stopped');
  }

  /** Stops the informers (after `lead` returned). */
  async stop(): Promise<void> {
    this.#gate.close();
    await this.#events.idle();
    await this.#caches.stop();
  }

  /** Keys waiting or running in every queue (0 when not leading). */
  backlog(): number {
    let n = 0;
    for (const q of this.#queues?.values() ?? []) n += q.depth() + q.processing();
    return n;
  }

  /** BootMachine keys ready or running (0 when not leading). */
  #machineBacklog(): number {
    const q = this.#queues?.get('BootMachine');
    return q === undefined ? 0 : q.depth() + q.processing();
  }

  #instrumented(kind: QueueKind) {
    const reconcile = this.#reconcile[kind];
    return async (key: string) => {
      this.#reconcilesStarted++;
      const end = this.#metrics.reconcileSeconds.startTimer({ kind });
      try {
        const result = await reconcile(key);
        this.#metrics.reconciles.inc({ kind, result: 'success' });
        return result;
      } catch (err) {
        this.#metrics.reconciles.inc({ kind, result: 'error' });
        throw err;
      } finally {
        end();
      }
    };
  }

  /** Polls until the queues have settled, then logs and records the initial reconcile time. */
  #watchDrain(queues: Map<QueueKind, WorkQueue>, since: number): Timer {
    let lastStarted = -1;
    let timer: Timer;
    const poll = () => {
      const busy = [...queues.values()].some((q) => q.depth() > 0 || q.processing() > 0);
      if (!busy && lastStarted === this.#reconcilesStarted) {
        const seconds = (this.#clock.now() - since) / 1000;
        this.#initialReconcileDone = true;
        this.#metrics.initialReconcileSeconds.set(seconds);
        this.#log.info({ ms: Math.round(seconds * 1000), reconciles: this.#reconcilesStarted, writes: this.#gate.sent }, 'initial reconcile done');
        return;
      }
      lastStarted = busy ? -1 : this.#reconcilesStarted;
      timer = this.#clock.setTimer(poll, DRAIN_POLL_MS);
    };
    timer = this.#clock.setTimer(poll, DRAIN_POLL_MS);
    return { cancel: () => timer.cancel() };
  }

  /** Scrape-time values: queue depth per kind and informer restarts. */
  #observeMetrics(): void {
    const metrics = this.#metrics;
    metrics.queueDepth.reset();
    for (const kind of QUEUE_KINDS) metrics.queueDepth.set({ kind }, 0);
    metrics.onCollect(() => {
      for (const kind of QUEUE_KINDS) metrics.queueDepth.set({ kind }, this.#queues?.get(kind)?.depth() ?? 0);
      const stats = this.#caches.stats();
      for (const kind of WATCHED_KINDS) {
        const s = stats[kind];
        for (const [cause, value] of [['failure', s.failures], ['watchdog', s.watchdogRestarts], ['gone', s.relistsAfterGone]] as const) {
          const id = `${kind} ${cause}`;
          const delta = value - (this.#restartsCounted.get(id) ?? 0);
          if (delta > 0) metrics.informerRestarts.inc({ resource: kind, cause }, delta);
          this.#restartsCounted.set(id, value);
        }
      }
    });
  }
}
