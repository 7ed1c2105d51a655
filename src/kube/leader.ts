/**
 * Lease-based leader election (client-node has none; this follows client-go's
 * leaderelection package). A candidate polls the Lease every retryPeriod, or
 * wakes exactly when the holder's lease expires, and takes it through an
 * update guarded by resourceVersion. The leader renews every retryPeriod; if
 * no renewal succeeds for renewDeadline it aborts its leading signal at once,
 * before the lease (leaseDuration) can expire and another candidate take
 * over, so two leaders never write at the same time. On a graceful stop it
 * waits for its work to end and then releases the lease, so failover takes a
 * retryPeriod instead of a whole lease duration.
 */
import { Errors, NetbootError, isNetbootError } from '../errors.ts';
import { sleep, systemClock } from './clock.ts';
import type { Clock } from './clock.ts';
import { isAbort } from './kube.ts';
import { claimedRecord, decideLease, releasedRecord } from './lease.ts';
import type { LeaseStore } from './lease-store.ts';

// The store interface, so callers need only this module.
export type { LeaseStore } from './lease-store.ts';

/** The elector's settings; durations in seconds like the kube flags (--leader-elect-lease-duration). */
export interface LeaderElectionConfig {
  /** This process, unique among candidates (pod name + a random suffix). */
  readonly identity: string;
  readonly store: LeaseStore;
  readonly clock?: Clock;
  /** How long a lease holds without renewal. Default 15. */
  readonly leaseDurationSeconds?: number;
  /** A leader that could not renew for this long stops leading. Default 10. */
  readonly renewDeadlineSeconds?: number;
  /** Time between attempts to acquire or renew. Default 2. */
  readonly retryPeriodSeconds?: number;
  /** Runs when this process becomes leader; `signal` aborts when it must stop writing. */
  readonly onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  /** Runs right after the leading signal aborted (lost, or stopping). */
  readonly onStoppedLeading?: () => void;
  /** Another holder was observed (for logs). */
  readonly onNewLeader?: (identity: string) => void;
  /** A failed lease request or a lost lease, as a catalogue error. */
  readonly onError?: (err: NetbootError) => void;
}

type Attempt = { readonly ok: true; readonly renewTime: number } | { readonly ok: false; readonly expiresAt?: number; readonly heldBy?: string };

/** One candidate. `run(signal)` campaigns, leads, and returns after `signal` aborts. */
export class LeaderElector {
  readonly #config: LeaderElectionConfig;
  readonly #clock: Clock;
  readonly #leaseMs: number;
  readonly #deadlineMs: number;
  readonly #retryMs: number;
  #leading = false;
  #observedHolder = '';

  constructor(config: LeaderElectionConfig) {
    const lease = config.leaseDurationSeconds ?? 15;
    const deadline = config.renewDeadlineSeconds ?? 10;
    const retry = config.retryPeriodSeconds ?? 2;
    if (!Number.isInteger(lease) || lease < 1) throw new RangeError(`leaseDurationSeconds must be a positive integer, got ${lease}`);
    if (!(deadline < lease && retry > 0 && retry < deadline)) throw new RangeError(`need retryPeriod < renewDeadline < leaseDuration, got ${retry} < ${deadline} < ${lease}`);
    this.#config = config;
    this.#clock = config.clock ?? systemClock;
    this.#leaseMs = lease * 1000;
    this.#deadlineMs = deadline * 1000;
    this.#retryMs = retry * 1000;
  }

  /** True between onStartedLeading and the abort of its signal. */
  isLeader(): boolean {
    return this.#leading;
  }

  /** Campaigns and leads until `signal` aborts; after losing the lease it campaigns again. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const renewTime = await this.#acquire(signal);
      if (renewTime === undefined) return;
      await this.#lead(renewTime, signal);
    }
  }

  async #acquire(signal: AbortSignal): Promise<number | undefined> {
    while (!signal.aborted) {
      const attempt = await this.#tryAcquireOrRenew(signal);
      if (attempt.ok) return attempt.renewTime;
      // Wake when the holder's lease runs out rather than up to a retryPeriod later.
      const untilExpiry = attempt.expiresAt === undefined ? this.#retryMs : attempt.expiresAt - this.#clock.now();
      await sleep(this.#clock, Math.max(0, Math.min(this.#retryMs, untilExpiry)), signal);
    }
    return undefined;
  }

  async #lead(acquiredAt: number, signal: AbortSignal): Promise<void> {
    const leading = new AbortController();
    let lastRenew = acquiredAt;
    let lost: NetbootError | undefined;
    const stopLeading = (reason?: NetbootError) => {
      if (leading.signal.aborted) return;
      lost = reason;
      leading.abort(reason);
      this.#leading = false;
      this.#config.onStoppedLeading?.();
      if (reason !== undefined) this.#config.onError?.(reason);
    };
    const armDeadline = () => this.#clock.setTimer(() => stopLeading(new NetbootError(Errors.LeaderLost,
      `${this.#config.identity} could not renew ${this.#config.store.description} for ${this.#deadlineMs / 1000} s and stopped leading before the lease could expire`)),
    lastRenew + this.#deadlineMs - this.#clock.now());
    let deadline = armDeadline();
    this.#leading = true;
    const work = Promise.resolve().then(() => this.#config.onStartedLeading(leading.signal)).catch((err: unknown) => {
      this.#config.onError?.(isNetbootError(err) ? err : new NetbootError(Errors.LeaderLost, `the leader's work failed: ${String(err)}`, { cause: err }));
    });
    const stopOrLost = AbortSignal.any([signal, leading.signal]);
    while (!stopOrLost.aborted) {
      await sleep(this.#clock, this.#retryMs, stopOrLost);
      if (stopOrLost.aborted) break;
      const attempt = await this.#tryAcquireOrRenew(stopOrLost);
      if (stopOrLost.aborted) break;
      if (attempt.ok) {
        lastRenew = attempt.renewTime;
        deadline.cancel();
        deadline = armDeadline();
      } else if (attempt.heldBy !== undefined) {
        stopLeading(new NetbootError(Errors.LeaderLost, `${this.#config.store.description} is now held by ${attempt.heldBy}; ${this.#config.identity} stopped leading`));
      }
    }
    deadline.cancel();
    stopLeading();
    if (lost === undefined && signal.aborted) {
      // Release only if the work ended while the lease was surely still ours.
      if (await this.#settles(work, lastRenew + this.#deadlineMs - this.#clock.now())) await this.#release();
      return;
    }
    await work;
  }

  /** Resolves true if `work` ends within `ms`. */
  async #settles(work: Promise<void>, ms: number): Promise<boolean> {
    if (ms <= 0) return false;
    const timeout = new AbortController();
    const finished = await Promise.race([work.then(() => true), sleep(this.#clock, ms, timeout.signal).then(() => false)]);
    timeout.abort();
    return finished;
  }

  async #tryAcquireOrRenew(signal: AbortSignal): Promise<Attempt> {
    const { store, identity } = this.#config;
    const now = this.#clock.now();
    const request = this.#requestSignal(signal);
    try {
      const current = await store.get(request.signal);
      const holder = current?.record.holderIdentity ?? '';
      if (holder !== '' && holder !== this.#observedHolder) this.#config.onNewLeader?.(holder);
      this.#observedHolder = holder;
      const decision = decideLease(current?.record, now, identity);
      if (decision.action === 'wait') return { ok: false, expiresAt: decision.expiresAt, heldBy: decision.holder };
      const next = claimedRecord(current?.record, identity, now, this.#leaseMs / 1000);
      const result = current === undefined ? await store.create(next, request.signal) : await store.update(next, current.resourceVersion, request.signal);
      if (result === 'conflict') return { ok: false };
      this.#observedHolder = identity;
      return { ok: true, renewTime: now };
    } catch (err) {
      if (!signal.aborted && !isAbort(err)) this.#report(err);
      return { ok: false };
    } finally {
      request.cancel();
    }
  }

  async #release(): Promise<void> {
    const { store, identity } = this.#config;
    const request = this.#requestSignal();
    try {
      const current = await store.get(request.signal);
      if (current === undefined || current.record.holderIdentity !== identity) return;
      await store.update(releasedRecord(current.record, this.#clock.now()), current.resourceVersion, request.signal);
    } catch (err) {
      this.#report(err);
    } finally {
      request.cancel();
    }
  }

  /** A signal for one request: aborts with `parent` or after a retryPeriod-bounded timeout. */
  #requestSignal(parent?: AbortSignal): { signal: AbortSignal; cancel: () => void } {
    const timeout = new AbortController();
    const timer = this.#clock.setTimer(() => timeout.abort(), Math.max(this.#retryMs, this.#deadlineMs / 2));
    return { signal: parent === undefined ? timeout.signal : AbortSignal.any([parent, timeout.signal]), cancel: () => timer.cancel() };
  }

  #report(err: unknown): void {
    this.#config.onError?.(isNetbootError(err) ? err : new NetbootError(Errors.LeaseRequestFailed, `${this.#config.store.description}: ${String(err)}`, { cause: err }));
  }
}
