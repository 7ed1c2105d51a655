/**
 * The one door every controller write goes through: it is open only while
 * this replica leads, it spaces writes with a token bucket (a bounded total
 * rate, whatever the queues do), and it counts them. The API wrappers below
 * put it in front of the Applier and the ObjectApplier, so a write that the
 * no-op check skips never takes a token, and a write in flight when the lease
 * is lost is aborted with the leading signal.
 */
import type { ConfigurationOptions } from '@kubernetes/client-node';
import { Kinds } from '../../api/v1alpha1/index.ts';
import { Errors, NetbootError } from '../../errors.ts';
import type { ApplyApi } from '../../kube/apply.ts';
import type { ObjectApplyApi } from '../../kube/apply-object.ts';
import { fullBucket, reserveToken } from '../../kube/backoff.ts';
import type { Bucket, RateLimit } from '../../kube/backoff.ts';
import { sleep, systemClock } from '../../kube/clock.ts';
import type { Clock } from '../../kube/clock.ts';
import { signalOptions } from '../../kube/kube.ts';
import type { AgentReportsApi } from '../stale-reports.ts';

/**
 * Default bound on object and status writes together: 400 per second,
 * bursts of 800. A cold start writes one status per BootMachine, so the
 * bound sets a floor under the initial sync: (10,000 - burst) / rate, 38 s
 * at the former 250/s, 23 s now. Measured on a 2-core test API server, its
 * own CPU (~5.5 ms per BootMachine status apply) caps it below that
 * (~250-300/s), so the server, not this bound, paces a cold start; a real
 * API server also protects itself with priority and fairness.
 */
export const DEFAULT_WRITE_RATE: RateLimit = { perSecond: 400, burst: 800 };
/**
 * Default bound on Event writes, kept apart so a storm of events (10,000
 * machines changing class) cannot slow status writes: 20 per second, bursts
 * of 100. The total is bounded by the sum of both.
 */
export const DEFAULT_EVENT_RATE: RateLimit = { perSecond: 20, burst: 100 };

/** What a write is, for the metrics: the object's kind and the verb (apply, apply-status, event). */
export type WriteVerb = 'apply' | 'apply-status' | 'patch-status' | 'event';

/** Hooks for counting; all optional. */
export interface WriteGateOptions {
  readonly clock?: Clock;
  readonly rate?: RateLimit;
  readonly eventRate?: RateLimit;
  /** A write is about to be sent. */
  readonly onWrite?: (kind: string, verb: WriteVerb) => void;
  /** A write was refused: not the leader. */
  readonly onRefused?: (kind: string, verb: WriteVerb) => void;
  /** A write waited `ms` for a token of its bound (the bound, not the API server, held it back). */
  readonly onWait?: (kind: string, verb: WriteVerb, ms: number) => void;
}

/** Opens while leading; `admit` waits for a token and returns the leading signal for the request. */
export class WriteGate {
  readonly #clock: Clock;
  readonly #rate: RateLimit;
  readonly #eventRate: RateLimit;
  readonly #onWrite: NonNullable<WriteGateOptions['onWrite']>;
  readonly #onRefused: NonNullable<WriteGateOptions['onRefused']>;
  readonly #onWait: NonNullable<WriteGateOptions['onWait']>;
  #bucket: Bucket;
  #eventBucket: Bucket;
  #leading: AbortSignal | undefined;
  #sent = 0;

  constructor(options: WriteGateOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#rate = options.rate ?? DEFAULT_WRITE_RATE;
    this.#eventRate = options.eventRate ?? DEFAULT_EVENT_RATE;
    for (const r of [this.#rate, this.#eventRate]) {
      if (!(r.perSecond > 0 && r.burst >= 1)) throw new RangeError(`write rate must be positive with a burst of at least 1, got ${r.perSecond}/s burst ${r.burst}`);
    }
    this.#onWrite = options.onWrite ?? (() => {});
    this.#onRefused = options.onRefused ?? (() => {});
    this.#onWait = options.onWait ?? (() => {});
    this.#bucket = fullBucket(this.#rate, this.#clock.now());
    this.#eventBucket = fullBucket(this.#eventRate, this.#clock.now());
  }

  /** Lets writes through until `leading` aborts. */
  open(leading: AbortSignal): void {
    this.#leading = leading;
  }

  /** Closes at once (also closed when the signal given to `open` aborts). */
  close(): void {
    this.#leading = undefined;
  }

  /** True while writes may go out. */
  isOpen(): boolean {
    return this.#leading !== undefined && !this.#leading.aborted;
  }

  /** Writes admitted so far. */
  get sent(): number {
    return this.#sent;
  }

  /**
   * Waits for a token, then returns the signal that aborts when leadership
   * ends. Throws ControllerNotLeader if the gate is closed before or after
   * the wait, so no write leaves a replica that stopped leading.
   */
  async admit(kind: string, verb: WriteVerb): Promise<AbortSignal> {
    const before = this.#leading;
    if (before === undefined || before.aborted) return this.#refuse(kind, verb);
    let waitMs: number;
    if (verb === 'event') {
      const reserved = reserveToken(this.#eventBucket, this.#eventRate, this.#clock.now());
      this.#eventBucket = reserved.bucket;
      waitMs = reserved.waitMs;
    } else {
      const reserved = reserveToken(this.#bucket, this.#rate, this.#clock.now());
      this.#bucket = reserved.bucket;
      waitMs = reserved.waitMs;
    }
    if (waitMs > 0) {
      this.#onWait(kind, verb, waitMs);
      await sleep(this.#clock, waitMs, before);
    }
    const after = this.#leading;
    if (after === undefined || after.aborted || after !== before) return this.#refuse(kind, verb);
    this.#sent++;
    this.#onWrite(kind, verb);
    return after;
  }

  #refuse(kind: string, verb: WriteVerb): never {
    this.#onRefused(kind, verb);
    throw new NetbootError(Errors.ControllerNotLeader, `${verb} of a ${kind} not sent: this controller does not hold the leader Lease`);
  }
}

const kindOfPlural = new Map(Kinds.map((k) => [k.plural, k.kind] as const));

/**
 * `fieldValidation` of the controller's status applies: `Ignore`. The bodies
 * are built by typed code from the same zod schemas the CRDs are generated
 * from (a drift test keeps them equal), as JSON, so they hold no unknown or
 * duplicate field for the server to report, and nothing here reads the
 * warnings `Warn` (the server's default) would send. `Warn` costs the API
 * server a second, strict YAML parse of every apply body: measured ~5.5% of
 * its CPU per BootMachine status apply (pprof, docs/benchmarks.md).
 */
export const STATUS_FIELD_VALIDATION = 'Ignore';

/** An ApplyApi (custom objects) whose writes pass the gate and abort when leadership ends. */
export function gatedApplyApi(api: ApplyApi, gate: WriteGate): ApplyApi {
  const kind = (plural: string) => kindOfPlural.get(plural) ?? plural;
  const withSignal = (signal: AbortSignal, options: ConfigurationOptions | undefined) => signalOptions(signal, options);
  const status = <P extends object>(param: P): P => ({ fieldValidation: STATUS_FIELD_VALIDATION, ...param });
  return {
    patchNamespacedCustomObject: async (param, options) => api.patchNamespacedCustomObject(param, withSignal(await gate.admit(kind(param.plural), 'apply'), options)),
    patchNamespacedCustomObjectStatus: async (param, options) => api.patchNamespacedCustomObjectStatus(status(param), withSignal(await gate.admit(kind(param.plural), 'apply-status'), options)),
    patchClusterCustomObject: async (param, options) => api.patchClusterCustomObject(param, withSignal(await gate.admit(kind(param.plural), 'apply'), options)),
    patchClusterCustomObjectStatus: async (param, options) => api.patchClusterCustomObjectStatus(status(param), withSignal(await gate.admit(kind(param.plural), 'apply-status'), options)),
  };
}

/** An AgentReportsApi whose removals pass the gate (reads do not: a standby replica may look, only the leader writes). */
export function gatedAgentReportsApi(api: AgentReportsApi, gate: WriteGate): AgentReportsApi {
  return {
    agentNodes: (namespace, selector) => api.agentNodes(namespace, selector),
    removeEntries: async (namespace, network, entries) => {
      await gate.admit('BootNetwork', 'patch-status');
      return api.removeEntries(namespace, network, entries);
    },
  };
}

/** An ObjectApplyApi whose writes pass the gate; Events count as verb `event`. */
export function gatedObjectApplyApi(api: ObjectApplyApi, gate: WriteGate): ObjectApplyApi {
  return {
    applyPatch: async (body, fieldManager) => {
      await gate.admit(body.kind, body.kind === 'Event' && body.apiVersion === 'v1' ? 'event' : 'apply');
      return api.applyPatch(body, fieldManager);
    },
  };
}

/**
 * Tells the informer event that only echoes one of the controller's own
 * status writes from a change made by someone else. The reconcile that wrote
 * it already saw the same inputs (an input that changed meanwhile queued the
 * key again on its own), so re-running it for the echo is wasted at best: at
 * a cold start one extra reconcile per BootMachine, and for a class or
 * profile a fresh count of machines that are still moving, so another write,
 * whose echo is reconciled again, as long as machines keep moving.
 *
 * The object's own event is classified against the write: while a status
 * apply of that key is in flight its events are held until the response
 * (the key is being reconciled anyway, so a held event loses no time), then
 * the one carrying the resourceVersion the apply returned is dropped and the
 * others are released in order; an echo that arrives after the response is
 * dropped the same way. A failed apply releases everything it held.
 */
export class OwnWrites {
  /** Completed writes whose echo has not been seen: "Kind key" -> resourceVersion. */
  readonly #echoes = new Map<string, string>();
  /** Writes in flight, with the events held meanwhile. */
  readonly #inFlight = new Map<string, { writes: number; held: { readonly rv: string | undefined; readonly release: () => void }[] }>();

  /** A status apply of `kind` `key` is about to be sent. */
  begin(kind: string, key: string): void {
    const id = `${kind} ${key}`;
    const entry = this.#inFlight.get(id);
    if (entry === undefined) this.#inFlight.set(id, { writes: 1, held: [] });
    else entry.writes++;
  }

  /** The apply ended: stored as `resourceVersion`, or failed (undefined). */
  end(kind: string, key: string, resourceVersion: string | undefined): void {
    const id = `${kind} ${key}`;
    const entry = this.#inFlight.get(id);
    let echoed = false;
    if (entry !== undefined && --entry.writes <= 0) {
      this.#inFlight.delete(id);
      for (const h of entry.held) {
        if (!echoed && resourceVersion !== undefined && h.rv === resourceVersion) echoed = true;
        else h.release();
      }
    } else if (entry !== undefined && resourceVersion !== undefined) {
      // Another write of the key is still in flight (not done by the controller's queues, which run a key once at a time).
      const i = entry.held.findIndex((h) => h.rv === resourceVersion);
      if (i >= 0) { entry.held.splice(i, 1); echoed = true; }
    }
    if (!echoed && resourceVersion !== undefined && resourceVersion !== '') this.#echoes.set(id, resourceVersion);
  }

  /**
   * An informer event of `kind` `key` whose object is now at `resourceVersion`
   * (undefined: deleted): calls `release` unless it is the echo of our write,
   * later if a write of the key is in flight.
   */
  event(kind: string, key: string, resourceVersion: string | undefined, release: () => void): void {
    const id = `${kind} ${key}`;
    const entry = this.#inFlight.get(id);
    if (entry !== undefined) {
      entry.held.push({ rv: resourceVersion, release });
      return;
    }
    const mine = this.#echoes.get(id);
    // Each write is echoed once; any other event (someone else's write, a delete, a relist) supersedes it.
    this.#echoes.delete(id);
    if (mine !== undefined && resourceVersion !== undefined && mine === resourceVersion) return;
    release();
  }

  /** Completed writes waiting for their echo, and keys with a write in flight (for tests). */
  get size(): { readonly echoes: number; readonly inFlight: number } {
    return { echoes: this.#echoes.size, inFlight: this.#inFlight.size };
  }
}

/** The resourceVersion of an apply response (the object the server stored). */
function versionOf(response: unknown): string | undefined {
  const rv = (response as { metadata?: { resourceVersion?: unknown } } | null | undefined)?.metadata?.resourceVersion;
  return typeof rv === 'string' ? rv : undefined;
}

/** An ApplyApi that reports each status apply of the controller to `own` (see OwnWrites). */
export function recordingApplyApi(api: ApplyApi, own: OwnWrites): ApplyApi {
  const key = (param: { namespace?: string; name: string }) => (param.namespace === undefined ? param.name : `${param.namespace}/${param.name}`);
  const kind = (plural: string) => kindOfPlural.get(plural) ?? plural;
  const tracked = async <P extends { plural: string; namespace?: string; name: string }>(param: P, send: () => Promise<unknown>): Promise<unknown> => {
    const k = kind(param.plural);
    const id = key(param);
    own.begin(k, id);
    let rv: string | undefined;
    try {
      const response = await send();
      rv = versionOf(response);
      return response;
    } finally {
      own.end(k, id, rv);
    }
  };
  return {
    patchNamespacedCustomObject: (param, options) => api.patchNamespacedCustomObject(param, options),
    patchClusterCustomObject: (param, options) => api.patchClusterCustomObject(param, options),
    patchNamespacedCustomObjectStatus: (param, options) => tracked(param, () => api.patchNamespacedCustomObjectStatus(param, options)),
    patchClusterCustomObjectStatus: (param, options) => tracked(param, () => api.patchClusterCustomObjectStatus(param, options)),
  };
}
