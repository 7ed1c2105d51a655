/**
 * This agent's entry in BootNetwork status.agentReports: which plan it
 * serves, whether it is ready, and its counters. Written only when something
 * changed (digest, generation, readiness; counters at most once per 60 s),
 * never on a timer when idle, and removed when the agent stops.
 */
import { timestampOf } from '../boot/status.ts';
import { Errors } from '../errors.ts';
import { backoffDelay } from '../kube/backoff.ts';
import type { BackoffPolicy } from '../kube/backoff.ts';
import type { Clock, Timer } from '../kube/clock.ts';
import { kubeError } from '../kube/kube.ts';
import type { Logger } from '../observability/logger.ts';
import type { AgentReport } from './kube-api.ts';

/** The entry as the agent wants it, without its timestamp. */
export type ReportContent = Omit<AgentReport, 'updatedAt'>;

/** How long after a write a status without the entry is taken for one from before it. */
export const ENTRY_SETTLE_MS = 5_000;

/** What was last written, and when the counters in it were. */
export interface WrittenReport {
  readonly content: ReportContent;
  readonly countersAt: number;
}

/** Write now, wait until `at` (counters only), or nothing to do. */
export type ReportDecision = { readonly kind: 'write' } | { readonly kind: 'wait'; readonly at: number } | { readonly kind: 'none' };

function sameCounters(a: ReportContent['counters'], b: ReportContent['counters']): boolean {
  const ka = Object.keys(a ?? {});
  if (ka.length !== Object.keys(b ?? {}).length) return false;
  return ka.every((k) => a?.[k] === b?.[k]);
}

/** Pure: whether `desired` needs a write at `now`, given what was written last. */
export function decideReport(last: WrittenReport | undefined, desired: ReportContent, now: number, counterIntervalMs: number): ReportDecision {
  if (last === undefined) return { kind: 'write' };
  const l = last.content;
  if (l.planDigest !== desired.planDigest || l.planGeneration !== desired.planGeneration || l.ready !== desired.ready || l.message !== desired.message || l.dhcp !== desired.dhcp) return { kind: 'write' };
  if (sameCounters(l.counters, desired.counters)) return { kind: 'none' };
  const at = last.countersAt + counterIntervalMs;
  return now >= at ? { kind: 'write' } : { kind: 'wait', at };
}

/** Mode dhcp: whether this agent answers DHCP on port 67, and who does when it does not. */
export interface DhcpRole {
  readonly role: 'serving' | 'standby';
  /** The node whose agent serves, when this one stands by. */
  readonly holder?: string;
}

/**
 * Pure: the DHCP role of the agent on `self` in a dhcp-mode network, from
 * the entries in status.agentReports. Each agent keeps its own lease table,
 * so two answering agents would hand out the same address twice: one serves
 * and the others stand by. The agent already serving keeps serving (its
 * lease table is the one the clients hold addresses from); of two that
 * claimed it at once (started together), the lower node name keeps it. A
 * standby takes over once no other entry says serving: the serving agent
 * stopped (and removed its entry), or its node vanished and the controller
 * removed its stale entry.
 */
export function dhcpRole(self: string, current: DhcpRole['role'] | undefined, reports: readonly { readonly node?: unknown; readonly dhcp?: unknown }[]): DhcpRole {
  const serving = reports.filter((r) => typeof r.node === 'string' && r.node !== self && r.dhcp === 'serving').map((r) => r.node as string).sort();
  const rivals = current === 'serving' ? serving.filter((n) => n < self) : serving;
  const holder = rivals[0];
  return holder === undefined ? { role: 'serving' } : { role: 'standby', holder };
}

/**
 * The generation to report: status.planGeneration while status.planDigest is
 * the agent's own digest, else the last generation it matched (none before).
 */
export function servedGeneration(status: { readonly planGeneration?: unknown; readonly planDigest?: unknown } | undefined, digest: string, lastMatched: number | undefined): number | undefined {
  if (status?.planDigest === digest && typeof status.planGeneration === 'number') return status.planGeneration;
  return lastMatched;
}

export interface AgentReporterOptions {
  readonly clock: Clock;
  readonly log: Logger;
  /** Applies the entry; `undefined` removes it. */
  readonly write: (report: AgentReport | undefined) => Promise<void>;
  /** Default 60 s. */
  readonly counterIntervalMs?: number;
  /** Retry pause after failures. Default 1 s doubling to 60 s. */
  readonly backoff?: BackoffPolicy;
}

/** Keeps the entry in line with what the agent says; one write in flight at a time. */
export class AgentReporter {
  readonly #opts: AgentReporterOptions;
  readonly #interval: number;
  #desired: Partial<ReportContent> & { node?: string } = {};
  #last: WrittenReport | undefined;
  #writing: Promise<void> | undefined;
  #timer: Timer | undefined;
  #failures = 0;
  #retryAt = 0;
  #closed = false;
  /** When the last write returned. */
  #writtenAt = -Infinity;
  /** Writes so far, for tests and metrics. */
  writes = 0;

  constructor(options: AgentReporterOptions) {
    this.#opts = options;
    this.#interval = options.counterIntervalMs ?? 60_000;
  }

  /** Updates what the entry should say; writes if that is a change worth writing. Nothing is written before `ready` is known. */
  set(update: Partial<ReportContent>): void {
    this.#desired = { ...this.#desired, ...update };
    this.#evaluate(false);
  }

  /**
   * What the BootNetwork's status, as this agent's informer last saw it,
   * holds for this node. An entry that is gone although this agent wrote one
   * (the controller removed it as stale, src/controller/stale-reports.ts, or
   * someone edited the status) is written again; not within
   * ENTRY_SETTLE_MS of a write, since the informer may still deliver a status
   * from before it.
   */
  observed(present: boolean): void {
    if (present || this.#closed || this.#last === undefined || this.#writing !== undefined) return;
    if (this.#opts.clock.now() - this.#writtenAt < ENTRY_SETTLE_MS) return;
    this.#opts.log.info({}, 'this agent\'s entry in BootNetwork status.agentReports is gone; writing it again');
    this.#last = undefined;
    this.#evaluate(false);
  }

  /** The entry as last written, if any. */
  last(): WrittenReport | undefined {
    return this.#last;
  }

  /** Writes a pending change now (counters too), and waits for the write in flight. */
  async flush(): Promise<void> {
    await this.#writing;
    this.#evaluate(true);
    await this.#writing;
  }

  /** Stops writing and removes the entry (one attempt; a failure is logged). */
  async remove(): Promise<void> {
    this.#closed = true;
    this.#timer?.cancel();
    await this.#writing;
    try {
      await this.#opts.write(undefined);
      this.writes++;
    } catch (err) {
      const e = kubeError(Errors.AgentReportWriteFailed, 'removing this agent\'s entry from BootNetwork status.agentReports', err);
      this.#opts.log.warn({ code: Errors.AgentReportWriteFailed.code, cause: e.code }, `${e.message}; the stale entry stays in status.agentReports (and counts in PlanServed) until an agent on this node reports again`);
    }
  }

  #content(): ReportContent | undefined {
    const d = this.#desired;
    if (d.node === undefined || d.planDigest === undefined || d.ready === undefined) return undefined;
    return {
      node: d.node, planDigest: d.planDigest, ready: d.ready,
      ...(d.planGeneration === undefined ? {} : { planGeneration: d.planGeneration }),
      ...(d.message === undefined ? {} : { message: d.message.slice(0, 1024) }),
      ...(d.counters === undefined ? {} : { counters: d.counters }),
      ...(d.dhcp === undefined ? {} : { dhcp: d.dhcp }),
    };
  }

  #evaluate(force: boolean): void {
    if (this.#closed || this.#writing !== undefined) return;
    const content = this.#content();
    if (content === undefined) return;
    const now = this.#opts.clock.now();
    // After a failure the retry timer is already set; changes meanwhile go out with that retry.
    if (!force && now < this.#retryAt) return;
    const decision = decideReport(this.#last, content, now, force ? 0 : this.#interval);
    this.#timer?.cancel();
    this.#timer = undefined;
    if (decision.kind === 'none') return;
    if (decision.kind === 'wait') {
      this.#timer = this.#opts.clock.setTimer(() => { this.#timer = undefined; this.#evaluate(false); }, decision.at - now);
      return;
    }
    const countersChanged = this.#last === undefined || !sameCounters(this.#last.content.counters, content.counters);
    const report: AgentReport = { ...content, updatedAt: timestampOf(new Date(now)) };
    this.#writing = this.#opts.write(report).then(() => {
      this.writes++;
      this.#failures = 0;
      this.#writtenAt = this.#opts.clock.now();
      this.#last = { content, countersAt: countersChanged ? now : (this.#last?.countersAt ?? now) };
    }, (err: unknown) => {
      this.#failures++;
      const delay = backoffDelay(this.#failures, this.#opts.backoff ?? { baseMs: 1000, maxMs: 60_000 });
      this.#retryAt = now + delay;
      const e = kubeError(Errors.AgentReportWriteFailed, 'server-side apply of this agent\'s entry in BootNetwork status.agentReports', err);
      const fields = { code: Errors.AgentReportWriteFailed.code, cause: e.code, retryInMs: delay };
      if (this.#failures === 1) this.#opts.log.warn(fields, `${e.message}; retrying`);
      else this.#opts.log.debug(fields, e.message);
      if (!this.#closed) this.#timer = this.#opts.clock.setTimer(() => { this.#timer = undefined; this.#evaluate(false); }, delay);
    }).finally(() => {
      this.#writing = undefined;
      // Something may have changed while the write was in flight.
      if (this.#failures === 0) this.#evaluate(false);
    });
  }
}
