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
export type WriteVerb = 'apply' | 'apply-status' | 'event';

/** Hooks for counting; all optional. */
export interface WriteGateOptions {
  readonly clock?: Clock;
  readonly rate?: RateLimit;
  readonly eventRate?: RateLimit;
  /** A write is about to be sent. */
  readonly onWrite?: (kind: string, verb: WriteVerb) => void;
  /** A write was refused: not the leader. */
  readonly onRefused?: (kind: string, verb: WriteVerb) => void;
}

/** Opens while leading; `admit` waits for a token and returns the leading signal for the request. */
export class WriteGate {
  readonly #clock: Clock;
  readonly #rate: RateLimit;
  readonly #eventRate: RateLimit;
  readonly #onWrite: NonNullable<WriteGateOptions['onWrite']>;
  readonly #onRefused: NonNullable<WriteGateOptions['onRefused']>;
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
    if (waitMs > 0) await sleep(this.#clock, waitMs, before);
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

/** An ApplyApi (custom objects) whose writes pass the gate and abort when leadership ends. */
export function gatedApplyApi(api: ApplyApi, gate: WriteGate): ApplyApi {
  const kind = (plural: string) => kindOfPlural.get(plural) ?? plural;
  const withSignal = (signal: AbortSignal, options: ConfigurationOptions | undefined) => signalOptions(signal, options);
  return {
    patchNamespacedCustomObject: async (param, options) => api.patchNamespacedCustomObject(param, withSignal(await gate.admit(kind(param.plural), 'apply'), options)),
    patchNamespacedCustomObjectStatus: async (param, options) => api.patchNamespacedCustomObjectStatus(param, withSignal(await gate.admit(kind(param.plural), 'apply-status'), options)),
    patchClusterCustomObject: async (param, options) => api.patchClusterCustomObject(param, withSignal(await gate.admit(kind(param.plural), 'apply'), options)),
    patchClusterCustomObjectStatus: async (param, options) => api.patchClusterCustomObjectStatus(param, withSignal(await gate.admit(kind(param.plural), 'apply-status'), options)),
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
