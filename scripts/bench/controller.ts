/**
 * Controller benchmark (`npm run bench:controller`): 10,000 BootMachines and
 * 50 MachineClasses on a real etcd + kube-apiserver (test/support/cluster.ts),
 * then `netboot controller` and one `netboot agent` as processes against it.
 *
 *   node scripts/bench/controller.ts [--machines 10000] [--concurrency 16] [--idle-s 60]
 *        [--changes 10] [--leader-elect] [--timeout-s 300] [--change-timeout-s 180]
 *        [--quiet-wait-s 120] [--out FILE] [--markdown] [--no-write]
 *   node scripts/bench/controller.ts --render FILE
 *
 * Measures, checking the controller's claims with its own watch where it can:
 *   - how long creating the inventory takes (bounded pool of keep-alive requests);
 *   - time to initial sync: the controller's "initial reconcile done", and the
 *     moment the benchmark's watch saw every BootMachine current
 *     (observedGeneration == generation) with the class and profile
 *     resolveClass gives;
 *   - controller RSS (VmRSS every 200 ms): peak, and steady (mean when idle);
 *   - writes per minute when idle (`apiserver_request_total` over --idle-s,
 *     Lease writes apart);
 *   - time for MachineClass changes to re-resolve every affected machine, and
 *     the peak API write rate (busiest 1 s of the API server's counters);
 *   - plan delivery: one agent on loopback (unprivileged ports), the time from
 *     a MachineClass write being acknowledged to the agent serving the new
 *     plan, over --changes changes; object sizes; the agent's RSS.
 *
 * Prints the figures with their targets and rewrites the "## Controller"
 * section of docs/benchmarks.md (unless --no-write, a non-standard option,
 * or an incomplete run). `--render FILE` rewrites that section from a saved
 * result (its --out JSON) without running anything, for when only the
 * section's text changed. No root needed. Exit status 1 only when something
 * could not be measured; unmet targets are reported, not failed.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { installCrds, startCluster } from '../../test/support/cluster.ts';
import type { TestCluster } from '../../test/support/cluster.ts';
import { resolveClass } from '../../src/boot/match.ts';
import { compilePlan } from '../../src/boot/plan.ts';
import type { PlanClass, PlanSources } from '../../src/boot/plan.ts';
import { KubeHttp, netbootPath, pool } from './lib/kube.ts';
import type { KubeObject } from './lib/kube.ts';
import { CLASSES, DEFAULT_CLASS, NETWORK, PROFILES, bootMachine, bootNetwork, bootProfile, className, classSpec, groupPrefix, machineClass } from './lib/kube-fixtures.ts';
import type { Ports } from './lib/kube-fixtures.ts';
import { NetbootChild, freeTcpPort, freeUdpPort, httpGet } from './lib/kube-child.ts';
import { Tracker } from './lib/kube-tracker.ts';
import { CpuWindow, RssTimeline, WriteTimeline, peakPerSecond } from './lib/kube-sampling.ts';
import { describeCounts, writesBetween } from './lib/kube-metrics.ts';
import { controllerSynced, planDelivery, startAgent } from './lib/kube-agent.ts';
import { docSection, lines, rowsOf, targetsOf } from './lib/kube-report.ts';
import type { ChangeRow, ControllerResult, IdleResult, ObjectSizes, RestartResult, Settings, SyncResult } from './lib/kube-report.ts';
import { cpuMs, processesWith, waitForQuiet } from './lib/proc.ts';
import { REPO } from './lib/lab.ts';
import { BENCHMARKS_DOC, DEFAULT_OUT_DIR, fmt, machine, markdown, option, writeResult, writeSection } from './lib/report.ts';

/**
 * The controller's NODE_OPTIONS as the chart sets them (controller.nodeOptions
 * in its values.yaml), so the benchmark measures the heap bounds a cluster runs with.
 */
function chartNodeOptions(): string {
  const values = parse(readFileSync(join(REPO, 'charts/netboot-operator/values.yaml'), 'utf8')) as { controller?: { nodeOptions?: unknown } };
  const value = values.controller?.nodeOptions ?? '';
  if (typeof value !== 'string') throw new Error('charts/netboot-operator/values.yaml: controller.nodeOptions is not a string');
  return value;
}

const argv = process.argv.slice(2);
const MACHINES = Number(option(argv, '--machines', '10000'));
const SETTINGS: Settings = {
  machines: MACHINES, classes: CLASSES, perGroup: Math.ceil(MACHINES / CLASSES), profiles: PROFILES.length, defaultClass: DEFAULT_CLASS,
  concurrency: Number(option(argv, '--concurrency', '16')),
  idleS: Number(option(argv, '--idle-s', '60')),
  changes: Number(option(argv, '--changes', '10')),
  leaderElect: argv.includes('--leader-elect'),
  nodeOptions: chartNodeOptions(),
};
/** Longest wait for the initial sync and the agent; for each class change. */
const TIMEOUT_S = Number(option(argv, '--timeout-s', '300'));
const CHANGE_TIMEOUT_S = Number(option(argv, '--change-timeout-s', '180'));
const QUIET_WAIT_S = Number(option(argv, '--quiet-wait-s', '120'));
/** A second idle window, with the agent running too. */
const AGENT_IDLE_S = Number(option(argv, '--agent-idle-s', '30'));
const OUT = option(argv, '--out', join(DEFAULT_OUT_DIR, 'controller.json'));
const STANDARD = !argv.some((a) => ['--machines', '--concurrency', '--idle-s', '--agent-idle-s', '--changes', '--leader-elect'].includes(a));
const WRITE_DOC = STANDARD && !argv.includes('--no-write');
const NAMESPACE = 'netboot-bench';
const notLease = (key: string) => !key.endsWith('/leases');

/** What the benchmark keeps of each BootMachine. */
interface MachineView {
  readonly mac: string;
  readonly uuid?: string;
  readonly labels: Record<string, string>;
  readonly generation: number;
  readonly observedGeneration?: number;
  readonly machineClass?: string;
  readonly profile?: string;
}

function machineView(o: KubeObject): MachineView {
  const spec = o.spec as { mac: string; uuid?: string };
  const status = (o.status ?? {}) as { observedGeneration?: number; machineClass?: string; profile?: string };
  return {
    mac: spec.mac, ...(spec.uuid === undefined ? {} : { uuid: spec.uuid }), labels: o.metadata.labels ?? {}, generation: o.metadata.generation ?? 0,
    ...(status.observedGeneration === undefined ? {} : { observedGeneration: status.observedGeneration }),
    ...(status.machineClass === undefined ? {} : { machineClass: status.machineClass }),
    ...(status.profile === undefined ? {} : { profile: status.profile }),
  };
}

/** The class specs as the benchmark last wrote them: the expected resolution follows from these alone. */
const classes = new Map<string, PlanClass['spec']>();
let planClasses: PlanClass[] = [];

/** True when the machine's status is current and names the class and profile resolveClass gives. */
function resolvedAsExpected(m: MachineView, name: string): boolean {
  if (m.observedGeneration !== m.generation) return false;
  const r = resolveClass({ mac: m.mac, ...(m.uuid === undefined ? {} : { uuid: m.uuid }) }, { name, spec: { mac: m.mac, network: NETWORK, netboot: 'allow' }, labels: m.labels }, planClasses, undefined);
  if (r.kind !== 'resolved') return m.machineClass === undefined;
  return m.machineClass === r.className && m.profile === r.profile;
}

/** Everything a phase needs. */
interface Bench {
  readonly kube: KubeHttp;
  readonly cluster: TestCluster;
  readonly work: string;
  readonly ports: Ports;
  readonly machines: Tracker<MachineView>;
  readonly writes: WriteTimeline;
  readonly result: ControllerResult;
  readonly children: NetbootChild[];
  readonly closers: Array<() => void>;
  /** kube-apiserver and etcd of the test cluster (pids), for their CPU time. */
  readonly servers: { readonly apiServer: number; readonly etcd: number };
}

/** Runs `fn` as a named phase, recording how busy the rest of the machine was meanwhile. */
async function phase<T>(b: Bench, name: string, fn: () => Promise<T>): Promise<T> {
  const loadAvg = loadavg().map((v) => Math.round(v * 100) / 100);
  const w = new CpuWindow();
  try {
    return await fn();
  } finally {
    b.result.load.push({ phase: name, ...w.close(), loadAvg });
  }
}

async function createInventory(kube: KubeHttp, ports: Ports): Promise<NonNullable<ControllerResult['create']>> {
  const t0 = performance.now();
  await kube.json('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
  await kube.json('POST', netbootPath(NAMESPACE, 'bootnetworks'), bootNetwork(NAMESPACE, ports));
  for (const p of PROFILES) await kube.json('POST', netbootPath(NAMESPACE, 'bootprofiles'), bootProfile(NAMESPACE, p));
  for (let i = 0; i < CLASSES; i++) classes.set(className(i), classSpec(i));
  planClasses = [...classes].map(([name, spec]) => ({ name, spec }));
  await pool([...classes], SETTINGS.concurrency, async ([name, spec]) => { await kube.json('POST', netbootPath(NAMESPACE, 'machineclasses'), machineClass(NAMESPACE, name, spec)); });
  const t1 = performance.now();
  let done = 0;
  const progress = setInterval(() => process.stderr.write(`  ${fmt(done)} BootMachines created\n`), 5000);
  try {
    await pool(Array.from({ length: MACHINES }, (_, i) => i), SETTINGS.concurrency, async (i) => {
      await kube.json('POST', netbootPath(NAMESPACE, 'bootmachines'), bootMachine(NAMESPACE, i, SETTINGS.perGroup));
      done++;
    });
  } finally {
    clearInterval(progress);
  }
  const t2 = performance.now();
  return { seconds: (t2 - t0) / 1000, machineSeconds: (t2 - t1) / 1000, machinesPerS: MACHINES / ((t2 - t1) / 1000) };
}

/** Writes one class's new spec (the benchmark's only write during a measurement); returns when the API server acknowledged it. */
async function changeClass(kube: KubeHttp, name: string, spec: PlanClass['spec']): Promise<number> {
  await kube.apply(netbootPath(NAMESPACE, 'machineclasses', name), machineClass(NAMESPACE, name, spec), 'netboot-bench');
  const ack = performance.now();
  classes.set(name, spec);
  planClasses = [...classes].map(([n, s]) => ({ name: n, spec: s }));
  return ack;
}

async function startController(b: Bench): Promise<{ controller: NetbootChild; rss: RssTimeline; metricsPort: number; exited: Promise<never> }> {
  const metricsPort = await freeTcpPort();
  const args = ['controller', '--kubeconfig', b.cluster.kubeconfig, `--leader-elect=${SETTINGS.leaderElect}`, '--metrics-address', `127.0.0.1:${metricsPort}`,
    ...(SETTINGS.leaderElect ? ['--lease-namespace', NAMESPACE] : [])];
  process.stderr.write(`controller bench: starting NODE_OPTIONS='${SETTINGS.nodeOptions}' netboot ${args.join(' ')}\n`);
  // Always set, so the benchmark's own NODE_OPTIONS (if any) never leaks into the controller.
  const controller = new NetbootChild('controller', args, b.work, { NODE_OPTIONS: SETTINGS.nodeOptions });
  b.children.push(controller);
  const rss = new RssTimeline(controller.pid, 200);
  b.closers.push(() => rss.stop());
  const exited = controller.exit().then((code): never => { throw new Error(`netboot controller exited (code ${code}):\n${controller.lastLines()}`); });
  exited.catch(() => {});
  return { controller, rss, metricsPort, exited };
}

async function initialSync(b: Bench, controller: NetbootChild, metricsPort: number, exited: Promise<never>, serverCpu0: { apiServer: number; etcd: number; bench: NodeJS.CpuUsage }): Promise<SyncResult> {
  const base = b.writes.samples[0] ?? await b.writes.snapshot();
  const own = controllerSynced(controller, metricsPort);
  const watched = await Promise.race([b.machines.until(resolvedAsExpected, TIMEOUT_S * 1000), exited]);
  const signal = await Promise.race([own, exited, new Promise<Awaited<typeof own>>((r) => setTimeout(() => r({ how: `no "initial reconcile done" within ${TIMEOUT_S} s`, at: NaN, ownSeconds: NaN, syncSeconds: NaN }), 30_000).unref())]);
  const cpu = cpuMs(controller.pid);
  const { meanReconcileMs: reconcileMs, writeWaitS } = await saveControllerMetrics(b, metricsPort, 'initial-sync');
  if (!watched.done) b.result.problems.push(`initial sync: after ${TIMEOUT_S} s ${watched.pending} BootMachines were not resolved as expected (e.g. ${watched.examples.join(', ')})`);
  await b.machines.quiet(5000, 60_000);
  const settled = await b.writes.snapshot();
  const serverCpu = { apiServer: cpuMs(b.servers.apiServer) - serverCpu0.apiServer, etcd: cpuMs(b.servers.etcd) - serverCpu0.etcd };
  const benchCpu = process.cpuUsage(serverCpu0.bench);
  const w = writesBetween(base, settled);
  const sync: SyncResult = {
    watchS: (watched.at - controller.startedAt) / 1000, done: watched.done, pending: watched.pending,
    controllerSignal: signal.how, controllerS: (signal.at - controller.startedAt) / 1000, controllerOwnReconcileS: signal.ownSeconds, controllerCacheSyncS: signal.syncSeconds,
    controllerCpuS: cpu / 1000, meanReconcileMs: reconcileMs, writes: w.total, writesByKey: Object.fromEntries(w.byKey), leaseWrites: w.leases,
    peakWritesPerS: b.writes.peakRate(base.t, settled.t, notLease).perSecond, peakWatchEventsPerS: peakPerSecond(b.machines.modifiedAt),
    apiServerCpuS: serverCpu.apiServer / 1000, etcdCpuS: serverCpu.etcd / 1000, benchCpuS: (benchCpu.user + benchCpu.system) / 1e6, writeWaitS,
  };
  process.stderr.write(`  every BootMachine resolved after ${fmt(sync.watchS, 1)} s (watch); controller: ${signal.how} at ${fmt(sync.controllerS, 1)} s; ${fmt(w.total)} writes (${describeCounts(w.byKey)}), peak ${fmt(sync.peakWritesPerS)}/s\n`);
  return sync;
}

/**
 * Keeps the controller's /metrics text in the log directory (for whoever
 * wants to know why a figure is what it is) and returns the mean reconcile
 * time per kind from its duration histogram.
 */
async function saveControllerMetrics(b: Bench, port: number, label: string): Promise<{ meanReconcileMs: Record<string, number>; writeWaitS: number }> {
  const { status, body } = await httpGet(port, '/metrics', 5000);
  if (status !== 200) return { meanReconcileMs: {}, writeWaitS: NaN };
  writeFileSync(join(b.work, `controller-metrics-${label}.txt`), body);
  const mean: Record<string, number> = {};
  for (const m of body.matchAll(/^netboot_controller_reconcile_duration_seconds_sum\{kind="([^"]+)"\} ([0-9.e+-]+)$/gm)) {
    const count = Number(body.match(new RegExp(`^netboot_controller_reconcile_duration_seconds_count\\{kind="${m[1]}"\\} ([0-9]+)$`, 'm'))?.[1]);
    if (count > 0) mean[m[1] ?? '?'] = (Number(m[2]) / count) * 1000;
  }
  // Time object and status writes spent waiting for the controller's own write bound (events have theirs).
  let writeWaitS = 0;
  for (const m of body.matchAll(/^netboot_controller_write_wait_seconds_total\{([^}]*)\} ([0-9.e+-]+)$/gm)) {
    if (!(m[1] ?? '').includes('verb="event"')) writeWaitS += Number(m[2]);
  }
  return { meanReconcileMs: mean, writeWaitS };
}

async function idle(b: Bench, controller: NetbootChild, rss: RssTimeline): Promise<{ idle: IdleResult; steadyMiB: number }> {
  const settleS = await b.writes.quiet(writesBetween, 5000, 120_000);
  process.stderr.write(`controller bench: idle for ${SETTINGS.idleS} s (writes stopped ${Number.isFinite(settleS) ? `after ${fmt(settleS)} s` : 'NOT within 120 s'}) ...\n`);
  const a = await b.writes.snapshot();
  const events0 = b.machines.modifiedAt.length;
  const cpu0 = cpuMs(controller.pid);
  await new Promise((r) => setTimeout(r, SETTINGS.idleS * 1000));
  const z = await b.writes.snapshot();
  const w = writesBetween(a, z);
  const minutes = (z.t - a.t) / 60_000;
  const result: IdleResult = {
    seconds: (z.t - a.t) / 1000, settleS, writesPerMin: w.total / minutes, writesByKey: Object.fromEntries(w.byKey),
    leaseWritesPerMin: w.leases / minutes, apiServerOwnWrites: Object.fromEntries(w.server),
    machineEvents: b.machines.modifiedAt.length - events0, controllerCpuS: (cpuMs(controller.pid) - cpu0) / 1000,
  };
  const steadyMiB = rss.meanMiB(a.t, z.t);
  process.stderr.write(`  ${fmt(result.writesPerMin, 1)} writes/min (${describeCounts(w.byKey)}); Lease writes ${fmt(result.leaseWritesPerMin, 1)}/min; RSS ${fmt(steadyMiB, 1)} MiB\n`);
  return { idle: result, steadyMiB };
}

/**
 * A controller restart with the inventory already resolved (a rollout, a
 * crash, a leader failover): the old process stops, a new one starts cold
 * (empty caches) and catches up. Its initial sync lists every object and
 * reconciles each once; with every status already current it should write
 * nothing. Returns the new controller, which serves the rest of the run.
 */
async function restartSync(b: Bench, old: NetbootChild): Promise<{ restart: RestartResult; controller: NetbootChild; metricsPort: number; rss: RssTimeline; exited: Promise<never> }> {
  await b.machines.until(resolvedAsExpected, CHANGE_TIMEOUT_S * 1000);
  await b.writes.quiet(writesBetween, 3000, 120_000);
  await old.stop();
  const base = await b.writes.snapshot();
  const events0 = b.machines.modifiedAt.length;
  const serverCpu0 = { apiServer: cpuMs(b.servers.apiServer), etcd: cpuMs(b.servers.etcd) };
  const next = await startController(b);
  const signal = await Promise.race([controllerSynced(next.controller, next.metricsPort), next.exited,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`restarted controller: no "initial reconcile done" within ${TIMEOUT_S} s`)), TIMEOUT_S * 1000).unref())]);
  const cpu = cpuMs(next.controller.pid);
  const { meanReconcileMs: reconcileMs } = await saveControllerMetrics(b, next.metricsPort, 'restart-sync');
  const settleS = await b.writes.quiet(writesBetween, 5000, 120_000);
  const settled = await b.writes.snapshot();
  const w = writesBetween(base, settled);
  const restart: RestartResult = {
    controllerS: (signal.at - next.controller.startedAt) / 1000, controllerCacheSyncS: signal.syncSeconds, controllerOwnReconcileS: signal.ownSeconds,
    controllerCpuS: cpu / 1000, meanReconcileMs: reconcileMs, writes: w.total, writesByKey: Object.fromEntries(w.byKey), settleS,
    machineEvents: b.machines.modifiedAt.length - events0, peakRssMiB: next.rss.peakMiB(),
    apiServerCpuS: (cpuMs(b.servers.apiServer) - serverCpu0.apiServer) / 1000, etcdCpuS: (cpuMs(b.servers.etcd) - serverCpu0.etcd) / 1000,
  };
  process.stderr.write(`  restarted controller: ${signal.how} at ${fmt(restart.controllerS, 1)} s (caches listed ${fmt(restart.controllerCacheSyncS, 1)} s); ${fmt(w.total)} writes (${describeCounts(w.byKey)}); BootMachine updates ${fmt(restart.machineEvents)}\n`);
  return { restart, ...next };
}

async function measureChange(b: Bench, name: string, affected: number, change: () => Promise<number>): Promise<ChangeRow> {
  process.stderr.write(`controller bench: class change: ${name} (${fmt(affected)} machines) ...\n`);
  const before = await b.writes.snapshot();
  const ack = await change();
  const outcome = await b.machines.until(resolvedAsExpected, CHANGE_TIMEOUT_S * 1000);
  // Until the last write it caused (recounts, Events): its writes and the next change's stay apart.
  await b.writes.quiet(writesBetween, 3000, CHANGE_TIMEOUT_S * 1000);
  const after = await b.writes.snapshot();
  const w = writesBetween(before, after);
  const row: ChangeRow = {
    name, machines: affected, seconds: (outcome.at - ack) / 1000, done: outcome.done, pending: outcome.pending,
    writes: w.total, writesByKey: Object.fromEntries(w.byKey), quietAfterS: (after.t - ack) / 1000 - 3, peakWritesPerS: b.writes.peakRate(before.t, after.t, notLease).perSecond,
  };
  process.stderr.write(`  ${outcome.done ? `re-resolved in ${fmt(row.seconds, 2)} s` : `NOT done after ${CHANGE_TIMEOUT_S} s: ${outcome.pending} pending (${outcome.examples.join(', ')})`}; ${fmt(row.writes)} writes (${describeCounts(w.byKey)})\n`);
  if (!outcome.done) await b.machines.until(resolvedAsExpected, CHANGE_TIMEOUT_S * 1000); // let it finish before the next change
  return row;
}

/** Four changes: ~1/50 of the machines move, the default class changes, one class claims every machine, and back. */
async function classChanges(b: Bench): Promise<ChangeRow[]> {
  const spec = (name: string) => classes.get(name) as PlanClass['spec'];
  const n = SETTINGS.perGroup;
  const last = className(CLASSES - 1);
  const lastSpec = spec(last);
  return [
    await measureChange(b, `${className(2)} takes over ${className(1)}'s ${fmt(n)} machines (priority 30, a second MAC prefix)`, n,
      () => changeClass(b.kube, className(2), { ...spec(className(2)), priority: 30, selector: { macPrefixes: [groupPrefix(2), groupPrefix(1)] } })),
    await measureChange(b, `default class ${DEFAULT_CLASS} switches profile (all machines re-evaluated; ${fmt(n)} fall back to it)`, n,
      () => changeClass(b.kube, DEFAULT_CLASS, { ...spec(DEFAULT_CLASS), profile: PROFILES[1] })),
    await measureChange(b, `${last} claims all ${fmt(MACHINES)} machines (priority 1000, prefix 02:00)`, MACHINES,
      () => changeClass(b.kube, last, { ...lastSpec, priority: 1000, selector: { macPrefixes: ['02:00'] } })),
    await measureChange(b, `${last} reverted: ${fmt(MACHINES - n)} machines back to their own class`, MACHINES - n,
      () => changeClass(b.kube, last, lastSpec)),
  ];
}

async function delivery(b: Bench): Promise<void> {
  const agent = await startAgent({ kube: b.kube, cluster: b.cluster, namespace: NAMESPACE, network: NETWORK, ports: b.ports, work: b.work, timeoutMs: TIMEOUT_S * 1000, children: b.children, closers: b.closers });
  b.result.agent = { readyS: agent.readyS, rssMiB: agent.rss.lastMiB(), peakMiB: agent.rss.peakMiB() };
  // Idle with the agent running, before anything asks it for a script: a script fetch records a boot
  // and changes the agent's counters, whose report write is legitimately deferred by up to 60 s.
  await agent.network.quiet(5000, 60_000);
  const settleS = await b.writes.quiet(writesBetween, 5000, 120_000);
  process.stderr.write(`controller bench: idle for ${AGENT_IDLE_S} s with the agent running (writes stopped ${Number.isFinite(settleS) ? `after ${fmt(settleS)} s` : 'NOT within 120 s'}) ...\n`);
  const a = await b.writes.snapshot();
  await new Promise((r) => setTimeout(r, AGENT_IDLE_S * 1000));
  const z = await b.writes.snapshot();
  const w = writesBetween(a, z);
  const minutes = (z.t - a.t) / 60_000;
  b.result.agentIdle = { seconds: (z.t - a.t) / 1000, settleS, writesPerMin: w.total / minutes, writesByKey: Object.fromEntries(w.byKey), agentRssMiB: agent.rss.meanMiB(a.t, z.t) };
  process.stderr.write(`  ${fmt(w.total / minutes, 1)} writes/min (${describeCounts(w.byKey)}); agent RSS ${fmt(b.result.agentIdle.agentRssMiB, 1)} MiB\n`);
  const probe = className(3);
  b.result.delivery = await planDelivery({
    agent, changes: SETTINGS.changes,
    change: async () => {
      const spec = classes.get(probe) as PlanClass['spec'];
      const profile = (spec.profile === PROFILES[0] ? PROFILES[1] : PROFILES[0]) as string;
      const ack = await changeClass(b.kube, probe, { ...spec, profile });
      return { ack, probeMac: macOfClass(b.machines, probe), expectProfile: profile };
    },
    settle: async () => {
      await b.machines.until(resolvedAsExpected, CHANGE_TIMEOUT_S * 1000);
      await b.machines.quiet(1000, 20_000);
    },
  });
}

function macOfClass(machines: Tracker<MachineView>, cls: string): string {
  for (const m of machines.states.values()) if (m.machineClass === cls) return m.mac;
  throw new Error(`no BootMachine resolved to ${cls}`);
}

/** The largest stored object of each kind, and what the plan would weigh compiled into one object. */
async function objectSizes(kube: KubeHttp): Promise<ObjectSizes> {
  const lists = new Map<string, KubeObject[]>();
  const largest: Record<string, number> = {};
  let machinesListBytes = 0;
  for (const plural of ['bootnetworks', 'bootprofiles', 'machineclasses', 'bootmachines']) {
    const l = await kube.list(netbootPath(NAMESPACE, plural));
    lists.set(plural, l.items);
    largest[plural] = Math.max(0, ...l.items.map((o) => Buffer.byteLength(JSON.stringify(o))));
    if (plural === 'bootmachines') machinesListBytes = l.bytes;
  }
  const [network] = lists.get('bootnetworks') ?? [];
  let compiledPlanBytes = NaN;
  if (network !== undefined) {
    const sources = { network, profiles: lists.get('bootprofiles') ?? [], classes: lists.get('machineclasses') ?? [], machines: lists.get('bootmachines') ?? [] } as unknown as PlanSources;
    const plan = compilePlan(sources, 1);
    compiledPlanBytes = Buffer.byteLength(JSON.stringify({ ...plan, profiles: Object.fromEntries(plan.profiles), machines: [...plan.machines.values()] }));
  }
  const [largestKind, largestBytes] = Object.entries(largest).sort((x, y) => y[1] - x[1])[0] ?? ['-', 0];
  return { largest, largestKind, largestBytes, machinesListBytes, compiledPlanBytes };
}

async function run(b: Bench): Promise<void> {
  const r = b.result;
  await b.machines.start();
  b.closers.push(() => b.machines.stop());
  b.closers.push(() => b.writes.stop());
  await b.writes.snapshot();
  b.writes.start(1000);
  const serverCpu0 = { apiServer: cpuMs(b.servers.apiServer), etcd: cpuMs(b.servers.etcd), bench: process.cpuUsage() };
  const { controller, rss, metricsPort, exited } = await startController(b);
  r.initialSync = await phase(b, 'initial sync', () => initialSync(b, controller, metricsPort, exited, serverCpu0));
  const { idle: idleResult, steadyMiB } = await phase(b, 'idle', () => idle(b, controller, rss));
  r.idle = idleResult;
  r.changes = await phase(b, 'class changes', () => classChanges(b));
  rss.stop();
  const restarted = await phase(b, 'restart sync', () => restartSync(b, controller));
  r.restartSync = restarted.restart;
  try {
    await phase(b, 'plan delivery', () => delivery(b));
  } catch (err) {
    r.problems.push(`plan delivery: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (restarted.controller.exited) r.problems.push(`netboot controller exited during the run:\n${restarted.controller.lastLines()}`);
  await saveControllerMetrics(b, restarted.metricsPort, 'end');
  restarted.rss.stop();
  b.writes.stop();
  const end = await b.writes.snapshot();
  r.controllerRss = { peakMiB: rss.peakMiB(), steadyMiB, lastMiB: rss.lastMiB(), samples: rss.samples.length };
  r.peakWritesPerS = b.writes.peakRate(controller.startedAt, end.t, notLease).perSecond;
  r.objects = await objectSizes(b.kube);
}

/** `--render FILE`: the section again from a saved complete standard run, with this tree's text. */
function render(file: string): void {
  const result = JSON.parse(readFileSync(file, 'utf8')) as ControllerResult;
  if (result.bench !== 'controller' || result.problems.length > 0) throw new Error(`${file}: not a complete controller benchmark result`);
  writeSection(BENCHMARKS_DOC, 'Controller', docSection(result.machine, result, result.settings));
  process.stdout.write(`section "Controller" of ${BENCHMARKS_DOC} rewritten from ${file} (commit ${result.machine.commit})\n`);
}

async function main(): Promise<void> {
  const info = machine();
  const work = mkdtempSync(join(tmpdir(), 'netboot-bench-controller-'));
  process.stderr.write(`controller bench: ${info.cpus} CPUs (${info.cpuModel}), ${info.memoryGiB} GiB, Linux ${info.kernel}, Node ${info.node}, commit ${info.commit}; logs in ${work}\n`);
  const result: ControllerResult = { bench: 'controller', machine: info, settings: SETTINGS, changes: [], load: [], targets: [], problems: [] };
  const children: NetbootChild[] = [];
  const closers: Array<() => void> = [];
  let cluster: TestCluster | undefined;
  const stopAll = async () => {
    for (const close of closers.splice(0)) close();
    for (const c of children) await c.stop().catch(() => {});
    await cluster?.stop();
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { void stopAll().finally(() => process.exit(130)); });
  try {
    const quiet = await waitForQuiet(QUIET_WAIT_S, 0.3);
    if (!quiet.quiet) process.stderr.write(`controller bench: the machine is still busy after ${fmt(quiet.waitedS)} s (${quiet.busyCores.toFixed(2)} cores); measuring anyway\n`);
    const t0 = performance.now();
    cluster = await startCluster();
    await installCrds(cluster);
    result.clusterStartS = (performance.now() - t0) / 1000;
    const kube = new KubeHttp(cluster.server, cluster.token, SETTINGS.concurrency);
    closers.push(() => kube.close());
    const ports: Ports = { dhcp: await freeUdpPort(), pxe: await freeUdpPort(), tftp: await freeUdpPort(), http: await freeTcpPort() };
    // The cluster's processes name its temporary directory on their command lines (--cert-dir, --data-dir).
    const clusterDir = dirname(cluster.kubeconfig);
    const servers = { apiServer: processesWith(['kube-apiserver', clusterDir])[0] ?? -1, etcd: processesWith(['etcd', `--data-dir=${clusterDir}`])[0] ?? -1 };
    const b: Bench = { kube, cluster, work, ports, result, children, closers, servers, machines: new Tracker<MachineView>(kube, netbootPath(NAMESPACE, 'bootmachines'), machineView), writes: new WriteTimeline(kube) };
    process.stderr.write(`controller bench: creating 1 BootNetwork, ${PROFILES.length} BootProfiles, ${CLASSES} MachineClasses, ${fmt(MACHINES)} BootMachines (${SETTINGS.concurrency} requests in flight) ...\n`);
    result.create = await phase(b, 'create', () => createInventory(kube, ports));
    process.stderr.write(`  done in ${fmt(result.create.seconds, 1)} s (BootMachines ${fmt(result.create.machinesPerS)}/s)\n`);
    await run(b);
    result.targets = targetsOf(result, SETTINGS);
  } catch (err) {
    result.problems.push(err instanceof Error ? err.message : String(err));
  } finally {
    await stopAll();
  }
  writeResult(OUT, result);
  const rows = rowsOf(result, SETTINGS);
  process.stdout.write(`\nController: ${fmt(MACHINES)} BootMachines, ${CLASSES} MachineClasses, real kube-apiserver; ${info.cpus} CPUs (${info.cpuModel}), ${info.memoryGiB} GiB, Linux ${info.kernel}, Node ${info.node}, commit ${info.commit}\n\n`);
  process.stdout.write(`${argv.includes('--markdown') ? markdown(['measure', 'result', 'target'], rows) : lines(rows)}\n\n`);
  for (const t of result.targets) process.stdout.write(`target ${t.met ? 'MET    ' : 'NOT MET'} ${t.name}: ${t.detail}\n`);
  for (const p of result.problems) process.stdout.write(`problem: ${p}\n`);
  const complete = result.problems.length === 0;
  if (WRITE_DOC && complete) writeSection(BENCHMARKS_DOC, 'Controller', docSection(info, result, SETTINGS));
  process.stdout.write(`\nresults: ${OUT}${WRITE_DOC && complete ? `; section "Controller" of ${BENCHMARKS_DOC} rewritten` : WRITE_DOC ? '; docs/benchmarks.md not rewritten (incomplete run)' : ''}\nlogs: ${work}\n`);
  process.exitCode = complete ? 0 : 1;
}

const renderFrom = option(argv, '--render', '');
if (renderFrom === '') await main();
else render(renderFrom);
