/**
 * The controller benchmark's processes under test, beyond starting them:
 * when the controller says it finished its initial reconcile, and how long
 * a plan change takes to reach an agent (`netboot agent` on loopback with
 * unprivileged ports, reading the resources through informers).
 *
 * An agent serving a new plan is seen three ways: its /metrics (plan
 * generation and digest gauges, polled every 20 ms), its own entry in
 * BootNetwork status.agentReports (the digest it compiled, and the
 * generation once it matches the controller's), and, once at the end, the
 * iPXE script it renders for a machine of the changed class.
 */
import { AGENT_NODE_OPTIONS } from '../../../src/controller/daemonset.ts';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { TestCluster } from '../../../test/support/cluster.ts';
import { NetbootChild, gauge, httpGet } from './kube-child.ts';
import type { KubeHttp, KubeObject } from './kube.ts';
import { netbootPath } from './kube.ts';
import { RssTimeline } from './kube-sampling.ts';
import { Tracker } from './kube-tracker.ts';
import { percentile } from './report.ts';
import type { Ports } from './kube-fixtures.ts';

export const AGENT_NODE = 'bench-node';

/**
 * When the controller says its initial reconcile is done: its log line
 * "initial reconcile done" (src/controller/manager/manager.ts), with the
 * arrival time of the line; and the seconds it measured itself
 * (netboot_controller_initial_reconcile_seconds, from leadership with synced
 * caches to the queues drained), read from /metrics once the line is in.
 */
export async function controllerSynced(controller: NetbootChild, metricsPort: number): Promise<{ how: string; at: number; ownSeconds: number; syncSeconds: number }> {
  const line = await controller.waitForLine((l) => /^initial reconcile done/.test(String(l.json?.['msg'] ?? '')));
  const { body } = await httpGet(metricsPort, '/metrics', 2000);
  const writes = line.json?.['writes'];
  return {
    how: `log "initial reconcile done"${typeof writes === 'number' ? ` (${writes} writes)` : ''}`,
    at: line.at,
    ownSeconds: gauge(body, 'netboot_controller_initial_reconcile_seconds'),
    syncSeconds: gauge(body, 'netboot_controller_initial_sync_seconds'),
  };
}

/** What the benchmark keeps of the BootNetwork. */
export interface NetworkView {
  readonly planGeneration?: number;
  readonly planDigest?: string;
  readonly report?: { readonly planDigest?: string; readonly planGeneration?: number; readonly ready?: boolean };
}

function networkView(o: KubeObject): NetworkView {
  const s = (o.status ?? {}) as { planGeneration?: number; planDigest?: string; agentReports?: Array<{ node: string; planDigest?: string; planGeneration?: number; ready?: boolean }> };
  const r = s.agentReports?.find((a) => a.node === AGENT_NODE);
  return {
    ...(s.planGeneration === undefined ? {} : { planGeneration: s.planGeneration }),
    ...(s.planDigest === undefined ? {} : { planDigest: s.planDigest }),
    ...(r === undefined ? {} : { report: { ...(r.planDigest === undefined ? {} : { planDigest: r.planDigest }), ...(r.planGeneration === undefined ? {} : { planGeneration: r.planGeneration }), ...(r.ready === undefined ? {} : { ready: r.ready }) } }),
  };
}

/** The plan lines of an agent's /metrics: generation and digest gauges, whatever their exact names. */
export function planSignature(metricsText: string): string {
  return metricsText.split('\n').filter((l) => /^netboot_[a-z_]*plan[a-z_]*(\{|\s)/.test(l)).sort().join('\n');
}

export interface AgentRun {
  readonly child: NetbootChild;
  readonly rss: RssTimeline;
  readonly network: Tracker<NetworkView>;
  readonly ports: Ports;
  readonly readyS: number;
}

export interface AgentOptions {
  readonly kube: KubeHttp;
  readonly cluster: TestCluster;
  readonly namespace: string;
  readonly network: string;
  readonly ports: Ports;
  readonly work: string;
  readonly timeoutMs: number;
  /** Started children go here, so the caller stops them whatever happens. */
  readonly children: NetbootChild[];
  /** And the agent's watch and sampler. */
  readonly closers: Array<() => void>;
}

/** Starts the agent and waits until /readyz answers 200 (listeners bound, plan loaded). */
export async function startAgent(o: AgentOptions): Promise<AgentRun> {
  const state = join(o.work, 'agent-state');
  mkdirSync(state, { recursive: true });
  const network = new Tracker<NetworkView>(o.kube, netbootPath(o.namespace, 'bootnetworks'), networkView);
  await network.start();
  o.closers.push(() => network.stop());
  const args = ['agent', '--network', o.network, '--namespace', o.namespace, '--node', AGENT_NODE, '--interface', 'lo', '--kubeconfig', o.cluster.kubeconfig, '--state', state];
  process.stderr.write(`controller bench: starting netboot ${args.join(' ')}\n`);
  // The environment the rendered DaemonSet gives agent containers.
  const child = new NetbootChild('agent', args, o.work, { NODE_OPTIONS: AGENT_NODE_OPTIONS });
  o.children.push(child);
  const rss = new RssTimeline(child.pid, 200);
  o.closers.push(() => rss.stop());
  const deadline = performance.now() + o.timeoutMs;
  for (;;) {
    if (child.exited) throw new Error(`netboot agent exited (code ${child.child.exitCode}):\n${child.lastLines()}`);
    if (performance.now() > deadline) throw new Error(`netboot agent not ready after ${o.timeoutMs / 1000} s:\n${child.lastLines()}`);
    if ((await httpGet(o.ports.http, '/readyz', 1000)).status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const readyS = (performance.now() - child.startedAt) / 1000;
  process.stderr.write(`  agent ready after ${readyS.toFixed(1)} s, RSS ${(rss.lastMiB()).toFixed(1)} MiB\n`);
  return { child, rss, network, ports: o.ports, readyS };
}

export interface DeliveryChange {
  /** When the API server acknowledged the write. */
  readonly ack: number;
  /** A machine of the changed class, whose script shows the profile. */
  readonly probeMac: string;
  readonly expectProfile: string;
}

export interface DeliveryResult {
  readonly changes: number;
  /** Seconds from the acknowledged write to: the agent's /metrics showing a new plan; its report carrying the new digest; the controller publishing it. */
  readonly metricsS: readonly number[];
  readonly reportS: readonly number[];
  readonly publishedS: readonly number[];
  readonly confirmedS: readonly number[];
  readonly p50: { metrics: number; report: number; published: number; confirmed: number };
  readonly max: { metrics: number; report: number; published: number; confirmed: number };
  readonly scriptCheck: string;
  readonly agentRssMiB: number;
  readonly agentPeakMiB: number;
  readonly notes: readonly string[];
}

const stat = (v: readonly number[]) => ({ p50: percentile(v.filter(Number.isFinite), 50), max: v.some((x) => !Number.isFinite(x)) ? NaN : Math.max(...v) });

/**
 * Makes `changes` plan changes, one at a time (`settle` between them lets
 * the controller finish re-resolving), and times each one's arrival.
 */
export async function planDelivery(o: { agent: AgentRun; changes: number; change: (i: number) => Promise<DeliveryChange>; settle: () => Promise<void> }): Promise<DeliveryResult> {
  const { agent } = o;
  const metricsS: number[] = [];
  const reportS: number[] = [];
  const publishedS: number[] = [];
  const confirmedS: number[] = [];
  const notes: string[] = [];
  let lastChange: DeliveryChange | undefined;
  for (let i = 0; i < o.changes; i++) {
    await o.settle();
    // Everything settled: the agent's report matches the published digest (or the agent writes none).
    await agent.network.until((n) => n.report === undefined || (n.report.planDigest === n.planDigest), 10_000);
    const before = agent.network.states.values().next().value as NetworkView | undefined;
    const sigBefore = planSignature((await httpGet(agent.ports.http, '/metrics')).body);
    const change = await o.change(i);
    lastChange = change;
    const timeout = 30_000;
    const metricsDone = (async () => {
      while (performance.now() - change.ack < timeout) {
        const sig = planSignature((await httpGet(agent.ports.http, '/metrics', 1000)).body);
        if (sig !== '' && sig !== sigBefore) return performance.now();
        await new Promise((r) => setTimeout(r, 20));
      }
      return NaN;
    })();
    const published = agent.network.until((n) => n.planDigest !== undefined && n.planDigest !== before?.planDigest, timeout);
    const reported = agent.network.until((n) => n.report?.planDigest !== undefined && n.report.planDigest !== before?.report?.planDigest, timeout);
    const confirmed = agent.network.until((n) => n.planGeneration !== undefined && n.planGeneration !== before?.planGeneration && n.report?.planGeneration === n.planGeneration, timeout);
    const [m, p, r, c] = await Promise.all([metricsDone, published, reported, confirmed]);
    metricsS.push((m - change.ack) / 1000);
    publishedS.push(p.done ? (p.at - change.ack) / 1000 : NaN);
    reportS.push(r.done ? (r.at - change.ack) / 1000 : NaN);
    confirmedS.push(c.done ? (c.at - change.ack) / 1000 : NaN);
    process.stderr.write(`  change ${i + 1}: agent /metrics ${fmtS(metricsS.at(-1))}, controller published ${fmtS(publishedS.at(-1))}, agent report ${fmtS(reportS.at(-1))}, report at published generation ${fmtS(confirmedS.at(-1))}\n`);
  }
  if (publishedS.every((s) => !Number.isFinite(s))) notes.push('the controller never published a new status.planDigest');
  if (reportS.every((s) => !Number.isFinite(s))) notes.push('the agent never wrote a new digest in its agentReports entry');
  if (metricsS.every((s) => !Number.isFinite(s))) notes.push('the agent\'s /metrics showed no plan generation/digest change');
  // Fetching a script records a boot (status.boot.completedAt, part of the plan), so it is done once, after the timings.
  let scriptCheck = 'not run';
  if (lastChange !== undefined) {
    const res = await httpGet(agent.ports.http, `/ipxe/${lastChange.probeMac}`);
    scriptCheck = res.status === 200 && res.body.includes(`profile=${lastChange.expectProfile}`)
      ? `script for ${lastChange.probeMac} names profile ${lastChange.expectProfile}`
      : `UNEXPECTED: HTTP ${res.status} for ${lastChange.probeMac}, expected profile=${lastChange.expectProfile}: ${res.body.slice(0, 200)}`;
  }
  const s = { metrics: stat(metricsS), report: stat(reportS), published: stat(publishedS), confirmed: stat(confirmedS) };
  return {
    changes: o.changes, metricsS, reportS, publishedS, confirmedS,
    p50: { metrics: s.metrics.p50, report: s.report.p50, published: s.published.p50, confirmed: s.confirmed.p50 },
    max: { metrics: s.metrics.max, report: s.report.max, published: s.published.max, confirmed: s.confirmed.max },
    scriptCheck, agentRssMiB: agent.rss.lastMiB(), agentPeakMiB: agent.rss.peakMiB(), notes,
  };
}

function fmtS(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? 'never' : `${v.toFixed(3)} s`;
}
