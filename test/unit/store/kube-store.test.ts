/**
 * The kube store with a fake namespace and a fake API that counts calls, on
 * a fake clock: coalescing, the write rate limit, an outage and recovery,
 * discovery limits, the agent report entry, and plan recompiles. The real
 * path (informers and server-side apply against kube-apiserver) is covered by
 * test/kube/agent-store.test.ts.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planDigest } from '../../../src/boot/plan-digest.ts';
import type { BootObservation } from '../../../src/boot/status.ts';
import { isNetbootError, Errors } from '../../../src/errors.ts';
import { openKubeStore } from '../../../src/store/kube.ts';
import type { KubeStore, KubeStoreOptions } from '../../../src/store/kube.ts';
import { PlanDigester } from '../../../src/store/kube-digest.ts';
import { ENTRY_SETTLE_MS, decideReport, dhcpRole, servedGeneration } from '../../../src/store/kube-report.ts';
import { FakeClock, settle } from '../../support/fake-clock.ts';
import { planFrom, labYaml } from '../../support/dhcp.ts';
import { FakeApi, FakeNamespace, captureLogger, unreachable } from './fake-kube.ts';

const dirs: string[] = [];
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
const tmp = () => { const d = mkdtempSync(join(tmpdir(), 'netboot-kube-store-')); dirs.push(d); return d; };

const NET = { mode: 'proxy', subnet: '10.9.0.0/24', unknownMachines: 'boot', defaultProfile: 'hello' };
const macOf = (i: number) => `52:54:00:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
const nameOf = (mac: string) => mac.replaceAll(':', '-');

function obs(mac: string, event: BootObservation['event'], second: number, extra: Partial<BootObservation> = {}): BootObservation {
  return { mac, network: 'lab', node: 'n1', time: `2026-11-23T10:00:${String(second).padStart(2, '0')}Z`, event, ...extra };
}

interface Setup {
  readonly clock: FakeClock;
  readonly ns: FakeNamespace;
  readonly api: FakeApi;
  readonly store: KubeStore;
  readonly lines: Record<string, unknown>[];
  readonly stateDir: string;
}

async function setup(opts: { network?: Record<string, unknown>; machines?: number; discovered?: number; options?: Partial<KubeStoreOptions> } = {}): Promise<Setup> {
  const clock = new FakeClock();
  const ns = new FakeNamespace('ns');
  ns.put('bootnetworks', 'lab', { ...NET, ...opts.network });
  ns.put('bootprofiles', 'hello', { ipxe: { script: '#!ipxe\necho hello\n' } });
  ns.put('machineclasses', 'default', { default: true, profile: 'hello' });
  for (let i = 0; i < (opts.machines ?? 0); i++) ns.put('bootmachines', nameOf(macOf(i)), { mac: macOf(i), network: 'lab' });
  for (let i = 0; i < (opts.discovered ?? 0); i++) ns.put('bootmachines', nameOf(macOf(5000 + i)), { mac: macOf(5000 + i), network: 'lab', netboot: 'deny' }, { labels: { 'netboot.dev/discovered': 'true' } });
  const api = new FakeApi(ns);
  const { log, lines } = captureLogger();
  const stateDir = tmp();
  const store = await openKubeStore({ namespace: 'ns', network: 'lab', node: 'n1', stateDir, log, clock, informer: { watchdogMs: 1e9 }, ...opts.options }, { api, sources: ns.sources() });
  return { clock, ns, api, store, lines, stateDir };
}

test('the memoised digest equals planDigest as machines, classes and labels change', () => {
  const digester = new PlanDigester();
  const yaml = (extra: string) => labYaml('proxy', `---
apiVersion: netboot.dev/v1alpha1
kind: BootMachine
metadata: {name: 52-54-00-00-00-01, labels: {rack: a}}
spec: {mac: "52:54:00:00:00:01"}
---
apiVersion: netboot.dev/v1alpha1
kind: BootMachine
metadata: {name: 52-54-00-00-00-02}
spec: {mac: "52:54:00:00:00:02", netboot: deny}
${extra}`);
  const plans = [
    planFrom(yaml('')),
    planFrom(yaml('---\napiVersion: netboot.dev/v1alpha1\nkind: MachineClass\nmetadata: {name: c}\nspec: {default: true, profile: hello}\n')),
    planFrom(yaml('').replace('rack: a', 'rack: b')),
    planFrom(yaml('').replace('netboot: deny', 'netboot: once')),
  ];
  const base = plans[0];
  assert.ok(base !== undefined);
  const completed = { ...base, machines: new Map([...base.machines].map(([mac, m]) => [mac, mac.endsWith('01') ? { ...m, completedAt: '2026-11-23T10:00:00Z' } : m])) };
  for (const plan of [...plans, completed, base, base]) assert.equal(digester.digest(plan), planDigest(plan));
  assert.notEqual(digester.digest(completed), digester.digest(base));
});

test('two observations within a second make one write holding both; the next comes a window later', async () => {
  const { clock, api, store } = await setup({ machines: 1 });
  const mac = macOf(0);
  store.report(obs(mac, 'Discover', 0, { phase: 'Discovered', firmware: { stage: 'pxe', arch: 'bios' } }));
  await clock.advance(300);
  store.report(obs(mac, 'ProxyOffer', 0, { phase: 'Offered' }));
  await clock.advance(699);
  assert.equal(api.statusWrites.length, 0, 'nothing before the window ends');
  await clock.advance(1);
  assert.equal(api.statusWrites.length, 1);
  const [write] = api.statusWrites;
  assert.equal(write?.name, nameOf(mac));
  assert.deepEqual(write?.boot.history?.map((h) => h.event), ['Discover', 'ProxyOffer']);
  assert.equal(write?.boot.phase, 'Offered');
  assert.equal(write?.boot.firmware?.arch, 'bios');
  store.report(obs(mac, 'PxeAck', 1, { phase: 'BootFileSent' }));
  await clock.advance(999);
  assert.equal(api.statusWrites.length, 1);
  await clock.advance(1);
  assert.equal(api.statusWrites.length, 2);
  assert.deepEqual(api.statusWrites[1]?.boot.history?.map((h) => h.event), ['Discover', 'ProxyOffer', 'PxeAck'], 'the next observation builds on the written status');
  // A firmware repeating itself in the same second changes nothing: no write.
  store.report(obs(mac, 'PxeAck', 1, { phase: 'BootFileSent' }));
  await clock.advance(5000);
  assert.equal(api.statusWrites.length, 2);
  await store.close();
});

test('observations of MACs without a BootMachine are dropped', async () => {
  const { clock, api, store } = await setup({ machines: 1 });
  store.report(obs('52:54:00:99:99:99', 'Discover', 0));
  await clock.advance(3000);
  assert.equal(api.statusWrites.length, 0);
  await store.close();
});

test('the total write rate is bounded by the token bucket (burst 50, then 20/s)', async () => {
  const { clock, api, store } = await setup({ machines: 200 });
  for (let i = 0; i < 200; i++) store.report(obs(macOf(i), 'Discover', 0));
  await clock.advance(1000);
  assert.equal(api.statusWrites.length, 50, 'the burst');
  await clock.advance(1000);
  assert.equal(api.statusWrites.length, 70, '20 more in the next second');
  await clock.advance(5000);
  assert.equal(api.statusWrites.length, 170);
  await clock.advance(2000);
  assert.equal(api.statusWrites.length, 200, 'every machine written exactly once');
  assert.equal(new Set(api.statusWrites.map((w) => w.name)).size, 200);
  await store.close();
});

test('the rate is configurable', async () => {
  const { clock, api, store } = await setup({ machines: 30, options: { status: { rate: { perSecond: 5, burst: 10 } } } });
  for (let i = 0; i < 30; i++) store.report(obs(macOf(i), 'Discover', 0));
  await clock.advance(1000);
  assert.equal(api.statusWrites.length, 10);
  await clock.advance(1000);
  assert.equal(api.statusWrites.length, 15);
  await store.close();
});

test('while the API server is unreachable the latest status is kept, retried with backoff, and written after recovery', async () => {
  const { clock, api, store, lines, ns } = await setup({ machines: 2 });
  api.failWith = unreachable;
  store.report(obs(macOf(0), 'Discover', 0, { phase: 'Discovered' }));
  store.report(obs(macOf(1), 'Discover', 0, { phase: 'Discovered' }));
  await clock.advance(1000);
  const firstRound = api.statusWrites.length;
  assert.equal(firstRound, 2, 'both attempted once');
  store.report(obs(macOf(0), 'ProxyOffer', 5, { phase: 'Offered' }));
  store.report(obs(macOf(0), 'PxeAck', 6, { phase: 'BootFileSent' }));
  await clock.advance(20_000);
  const attempts = api.statusWrites.length;
  // 500 ms doubling: retries at ~0.5, 1.5, 3.5, 7.5, 15.5 s -> a handful of rounds, not one per pump.
  assert.ok(attempts <= 2 * 7, `backoff bounds the attempts during the outage (${attempts})`);
  const warnings = lines.filter((l) => l['code'] === Errors.BootStatusWriteFailed.code && l['level'] === 40);
  assert.equal(warnings.length, 1, 'one warning per outage');
  assert.match(String(warnings[0]?.['msg']), /could not be reached.*keeping the latest status/);
  api.failWith = undefined;
  await clock.advance(31_000);
  const ok = api.statusWrites.filter((w) => w.ok);
  assert.deepEqual(ok.map((w) => w.name).sort(), [nameOf(macOf(0)), nameOf(macOf(1))]);
  const written = ns.get('bootmachines', nameOf(macOf(0)))?.status?.['boot'] as { phase: string; history: { event: string }[] };
  assert.equal(written.phase, 'BootFileSent', 'the latest pending status');
  assert.deepEqual(written.history.map((h) => h.event), ['Discover', 'ProxyOffer', 'PxeAck'], 'no observation lost');
  assert.equal(store.stats().status.pending, 0);
  await store.close();
});

test('the backlog is bounded: past maxPending further machines are dropped with a warning', async () => {
  const { clock, api, store, lines } = await setup({ machines: 5, options: { status: { maxPending: 3 } } });
  api.failWith = unreachable;
  for (let i = 0; i < 5; i++) store.report(obs(macOf(i), 'Discover', 0));
  assert.equal(store.stats().status.pending, 3);
  assert.equal(store.stats().status.dropped, 2);
  assert.equal(lines.filter((l) => l['code'] === Errors.StatusBacklogFull.code).length, 1);
  api.failWith = undefined;
  await clock.advance(40_000);
  assert.equal(new Set(api.statusWrites.filter((w) => w.ok).map((w) => w.name)).size, 3);
  await store.close();
});

test('a rejected write (not retryable) is dropped and logged; a deleted machine is forgotten', async () => {
  const { clock, api, store, lines, ns } = await setup({ machines: 2 });
  store.report(obs(macOf(0), 'Discover', 0));
  ns.delete('bootmachines', nameOf(macOf(0)));
  store.report(obs(macOf(1), 'Discover', 0));
  api.statusFailWith = () => Object.assign(new Error('HTTP-Code: 422'), { code: 422, body: '{"message":"status.boot.history: Too many"}' });
  await clock.advance(1000);
  assert.deepEqual(api.statusWrites.map((w) => w.name), [nameOf(macOf(1))], 'the deleted machine\'s status was forgotten');
  assert.match(String(lines.find((l) => l['code'] === Errors.BootStatusWriteFailed.code)?.['msg']), /rejected \(HTTP 422: status.boot.history: Too many\); this status is dropped/);
  api.statusFailWith = undefined;
  await clock.advance(10_000);
  assert.equal(api.statusWrites.length, 1, 'not retried');
  await store.close();
});

test('flush writes everything pending at once; close removes the report entry and stops', async () => {
  const { api, store } = await setup({ machines: 3 });
  store.setReady(true, 'serving');
  for (let i = 0; i < 3; i++) store.report(obs(macOf(i), 'Discover', 0));
  await settle();
  await store.flush();
  assert.equal(api.statusWrites.length, 3);
  assert.equal(api.reports.length, 1);
  await store.close();
  assert.equal(api.reports.at(-1), undefined, 'the entry is removed');
  store.report(obs(macOf(0), 'Discover', 1));
  await settle();
  assert.equal(api.statusWrites.length, 3, 'nothing after close');
});

test('discovery: seeded with the cached discovered machines, capped and rate-limited; creates asynchronously; the plan sees the machine at once', async () => {
  const { clock, api, store, ns } = await setup({ discovered: 1, network: { discovery: { maxMachines: 3, perMinute: 1 } } });
  let plans = 0;
  store.onPlan(() => plans++);
  const a = '52:54:00:aa:00:01';
  const b = '52:54:00:aa:00:02';
  assert.equal(store.discover(a, 0), 'create');
  assert.equal(plans, 1);
  assert.equal(store.plan().machines.get(a)?.spec.netboot, 'allow', 'unknownMachines: boot');
  assert.equal(api.creates.length, 0, 'the create is asynchronous');
  assert.equal(store.discover(a, 10), 'exists');
  assert.equal(store.discover(b, 1000), 'rate-limited');
  await clock.advance(100);
  assert.deepEqual(api.creates, [{ name: nameOf(a), ok: true }]);
  const created = ns.get('bootmachines', nameOf(a));
  assert.deepEqual(created?.metadata.labels, { 'netboot.dev/discovered': 'true' });
  assert.deepEqual(created?.spec, { mac: a, network: 'lab', netboot: 'allow' });
  assert.equal(store.discover(b, 61_000), 'create');
  assert.equal(store.discover('52:54:00:aa:00:03', 200_000), 'capped', '1 seeded + 2 created = maxMachines 3');
  assert.deepEqual(store.discoveryCounts, { created: 3, refused: 2 });
  await clock.advance(100);
  assert.equal(store.plan().machines.get(b)?.name, nameOf(b));
  // Deleting a discovered machine frees its place under the cap.
  ns.delete('bootmachines', nameOf(macOf(5000)));
  await clock.advance(100);
  assert.equal(store.discover('52:54:00:aa:00:03', 300_000), 'create');
  await store.close();
});

test('discovery with unknownMachines: discover records netboot: deny; a create during an outage is retried, and its status waits for it', async () => {
  const { clock, api, store, ns } = await setup({ network: { unknownMachines: 'discover' } });
  const mac = '52:54:00:bb:00:01';
  api.failWith = unreachable;
  assert.equal(store.discover(mac, 0), 'create');
  assert.equal(store.plan().machines.get(mac)?.spec.netboot, 'deny');
  store.report(obs(mac, 'Discover', 0, { phase: 'Discovered' }));
  await clock.advance(5000);
  assert.ok(api.creates.length >= 2 && api.creates.every((c) => !c.ok), 'retried');
  assert.equal(api.statusWrites.length, 0, 'the status waits for the machine to exist');
  api.failWith = undefined;
  await clock.advance(40_000);
  assert.equal(ns.get('bootmachines', nameOf(mac))?.spec && (ns.get('bootmachines', nameOf(mac))?.spec as { netboot: string }).netboot, 'deny');
  assert.equal((ns.get('bootmachines', nameOf(mac))?.status?.['boot'] as { phase?: string } | undefined)?.phase, 'Discovered');
  await store.close();
});

test('report entry: decisions are pure and counters wait 60 s', () => {
  const base = { node: 'n1', planDigest: 'd1', ready: true };
  const last = { content: { ...base, counters: { offers: 1 } }, countersAt: 1000 };
  assert.deepEqual(decideReport(undefined, base, 0, 60_000), { kind: 'write' });
  assert.deepEqual(decideReport(last, { ...base, counters: { offers: 1 } }, 2000, 60_000), { kind: 'none' });
  assert.deepEqual(decideReport(last, { ...base, counters: { offers: 2 } }, 2000, 60_000), { kind: 'wait', at: 61_000 });
  assert.deepEqual(decideReport(last, { ...base, counters: { offers: 2 } }, 61_000, 60_000), { kind: 'write' });
  assert.deepEqual(decideReport(last, { ...base, planDigest: 'd2', counters: { offers: 1 } }, 2000, 60_000), { kind: 'write' });
  assert.deepEqual(decideReport(last, { ...base, ready: false, counters: { offers: 1 } }, 2000, 60_000), { kind: 'write' });
  assert.deepEqual(decideReport(last, { ...base, planGeneration: 3, counters: { offers: 1 } }, 2000, 60_000), { kind: 'write' });
  assert.equal(servedGeneration({ planDigest: 'd1', planGeneration: 4 }, 'd1', 2), 4);
  assert.equal(servedGeneration({ planDigest: 'dX', planGeneration: 5 }, 'd1', 4), 4, 'the last generation matched');
  assert.equal(servedGeneration({ planDigest: 'dX', planGeneration: 5 }, 'd1', undefined), undefined, 'absent if never matched');
  assert.equal(servedGeneration(undefined, 'd1', undefined), undefined);
});

test('report entry: written on change only, generation follows the controller\'s digest, counters at most once per 60 s', async () => {
  const { clock, api, store, ns } = await setup({ machines: 2 });
  await clock.advance(1000);
  assert.equal(api.reports.length, 0, 'nothing before readiness is known');
  store.setReady(true, 'serving proxy on lo');
  await clock.advance(10);
  assert.equal(api.reports.length, 1);
  const first = api.reports[0];
  assert.equal(first?.node, 'n1');
  assert.equal(first?.planDigest, store.planDigest());
  assert.equal(first?.planGeneration, undefined, 'no generation before the controller published this digest');
  assert.equal(first?.ready, true);
  store.setReady(true, 'serving proxy on lo');
  store.setCounters({ offers: 0 });
  await clock.advance(10);
  assert.equal(api.reports.length, 1, 'no change, no write; first counters wait for the interval');
  store.setCounters({ offers: 3 });
  await clock.advance(59_000);
  assert.equal(api.reports.length, 1);
  await clock.advance(1_000);
  assert.equal(api.reports.length, 2);
  assert.deepEqual(api.reports[1]?.counters, { offers: 3, discoveryCapped: 0 });
  await clock.advance(600_000);
  assert.equal(api.reports.length, 2, 'never on a timer when idle');

  // The controller publishes the digest this agent serves: the entry takes its generation.
  const net = ns.get('bootnetworks', 'lab');
  ns.setStatus('bootnetworks', 'lab', { ...net?.status, planGeneration: 7, planDigest: store.planDigest() });
  await clock.advance(10);
  assert.equal(api.reports.at(-1)?.planGeneration, 7);
  const writes = api.reports.length;
  // A class change: a new digest; the generation stays the last one matched until the controller catches up.
  ns.put('machineclasses', 'default', { default: true, priority: 5, profile: 'hello' });
  await clock.advance(100);
  assert.equal(api.reports.length, writes + 1);
  assert.notEqual(api.reports.at(-1)?.planDigest, net?.status?.['planDigest']);
  assert.equal(api.reports.at(-1)?.planGeneration, 7);
  const net2 = ns.get('bootnetworks', 'lab');
  ns.setStatus('bootnetworks', 'lab', { ...net2?.status, planGeneration: 8, planDigest: store.planDigest() });
  await clock.advance(10);
  assert.equal(api.reports.at(-1)?.planGeneration, 8);
  store.setReady(false, 'listeners closing');
  await clock.advance(10);
  assert.equal(api.reports.at(-1)?.ready, false);
  await store.close();
  assert.equal(api.reports.at(-1), undefined);
  assert.deepEqual(ns.get('bootnetworks', 'lab')?.status?.['agentReports'], []);
});

test('plan: a class change recompiles after the debounce with a new digest; status-only updates do not', async () => {
  const { clock, ns, store, api } = await setup({ machines: 3 });
  const seen: { generation: number; digest: string }[] = [];
  store.onPlan((p) => seen.push({ generation: p.generation, digest: store.planDigest() }));
  const before = { generation: store.plan().generation, digest: store.planDigest() };
  assert.equal(store.plan().machines.size, 3);
  ns.put('machineclasses', 'default', { default: true, priority: 1, profile: 'hello' });
  ns.put('machineclasses', 'other', { selector: { macs: [macOf(1)] }, profile: 'hello' });
  await clock.advance(74);
  assert.equal(seen.length, 0, 'debounced');
  await clock.advance(1);
  assert.equal(seen.length, 1, 'two changes, one recompile');
  assert.equal(seen[0]?.generation, before.generation + 1);
  assert.notEqual(seen[0]?.digest, before.digest);
  assert.equal(store.plan().classes.length, 2);
  // Our own status writes arrive as machine updates: no new plan.
  store.report(obs(macOf(0), 'Discover', 0));
  await clock.advance(2000);
  assert.equal(api.statusWrites.length, 1);
  assert.equal(seen.length, 1);
  // A label change is a plan change.
  ns.put('bootmachines', nameOf(macOf(2)), { mac: macOf(2), network: 'lab' }, { labels: { rack: 'r1' } });
  await clock.advance(100);
  assert.equal(seen.length, 2);
  assert.deepEqual(store.plan().machines.get(macOf(2))?.labels, { rack: 'r1' });
  // A machine pinned to another network leaves the plan.
  ns.put('bootmachines', nameOf(macOf(2)), { mac: macOf(2), network: 'elsewhere' });
  await clock.advance(100);
  assert.equal(store.plan().machines.has(macOf(2)), false);
  await store.close();
});

test('a completed boot counts in the plan at once, before its status is written', async () => {
  const { clock, ns, store, api } = await setup({ machines: 1 });
  ns.put('bootprofiles', 'hello', { bootPolicy: 'once', ipxe: { script: '#!ipxe\necho hello\n' } });
  await clock.advance(200);
  store.report(obs(macOf(0), 'ScriptFetched', 3, { phase: 'ScriptServed', completes: true }));
  await clock.advance(100);
  assert.equal(api.statusWrites.length, 0);
  assert.equal(store.plan().machines.get(macOf(0))?.completedAt, '2026-11-23T10:00:03Z');
  await clock.advance(2000);
  assert.equal(api.statusWrites.length, 1);
  assert.equal(store.plan().machines.get(macOf(0))?.completedAt, '2026-11-23T10:00:03Z');
  await store.close();
});

test('a deleted or invalid BootNetwork keeps the last plan and says why; fixing it resumes', async () => {
  const { clock, ns, store, lines } = await setup({ machines: 1 });
  const plan = store.plan();
  ns.delete('bootnetworks', 'lab');
  ns.put('machineclasses', 'default', { default: true, priority: 9, profile: 'hello' });
  await clock.advance(200);
  assert.equal(store.plan(), plan, 'the last plan stays');
  assert.match(String(lines.find((l) => l['code'] === Errors.NetworkNotFound.code)?.['msg']), /BootNetwork ns\/lab: it does not exist; serving the last plan \(generation \d+\)/);
  ns.put('bootnetworks', 'lab', { ...NET, subnet: 'not-a-cidr' });
  await clock.advance(200);
  assert.equal(store.plan(), plan);
  assert.ok(lines.some((l) => /it is invalid \(spec\.subnet: /.test(String(l['msg']))), 'the schema problem is named');
  ns.put('bootnetworks', 'lab', NET);
  await clock.advance(200);
  assert.notEqual(store.plan(), plan);
  assert.equal(store.plan().classes[0]?.spec.priority, 9);
  await store.close();
});

test('openKubeStore waits for a missing BootNetwork, logs why, and gives up when aborted', async () => {
  const clock = new FakeClock();
  const ns = new FakeNamespace('ns');
  const { log, lines } = captureLogger();
  const abort = new AbortController();
  const opening = openKubeStore({ namespace: 'ns', network: 'lab', node: 'n1', stateDir: tmp(), log, clock, signal: abort.signal }, { api: new FakeApi(ns), sources: ns.sources() });
  await settle(10);
  assert.match(String(lines.find((l) => l['code'] === Errors.NetworkNotFound.code)?.['msg']), /BootNetwork ns\/lab: it does not exist; waiting for it before serving/);
  abort.abort();
  await assert.rejects(opening, (err) => isNetbootError(err, Errors.NetworkNotFound) && /gave up waiting for BootNetwork ns\/lab: it does not exist/.test(err.message));

  const ns2 = new FakeNamespace('ns');
  const opening2 = openKubeStore({ namespace: 'ns', network: 'lab', node: 'n1', stateDir: tmp(), log, clock }, { api: new FakeApi(ns2), sources: ns2.sources() });
  await settle(10);
  ns2.put('bootnetworks', 'lab', NET);
  await clock.advance(100);
  const store = await opening2;
  assert.equal(store.plan().networkName, 'lab');
  await store.close();
});

test('leases persist in a file named for namespace and network', async () => {
  const { store, stateDir } = await setup();
  await store.saveLeases([{ mac: '52:54:00:00:00:01', ip: '10.9.0.100', expiresAt: 5 }]);
  assert.ok(existsSync(join(stateDir, 'leases-ns-lab.json')));
  await store.close();
  const again = await setup();
  assert.deepEqual(again.store.leases(), []);
  await again.store.close();
});

test('10,000 machines: a class change recompiles in well under the 2 s budget', async (t) => {
  const { clock, ns, store } = await setup({ machines: 10_000 });
  const seen: number[] = [];
  store.onPlan(() => seen.push(performance.now()));
  const start = performance.now();
  ns.put('machineclasses', 'default', { default: true, priority: 2, profile: 'hello' });
  await clock.advance(75);
  assert.equal(seen.length, 1);
  const ms = (seen[0] ?? 0) - start;
  t.diagnostic(`recompile + digest of 10,000 machines: ${ms.toFixed(1)} ms`);
  assert.ok(ms < 1000, `recompile took ${ms} ms`);
  // The second digest reuses every machine's text.
  const d0 = performance.now();
  ns.put('machineclasses', 'default', { default: true, priority: 3, profile: 'hello' });
  await clock.advance(75);
  t.diagnostic(`second recompile: ${(performance.now() - d0).toFixed(1)} ms`);
  assert.equal(store.planDigest(), planDigest(store.plan()));
  assert.equal(store.plan().machines.size, 10_000);
  await store.close();
});

test('report entry: removed by someone else (the controller, as stale), it is written again; a status from before the write is not taken for a removal', async () => {
  const { clock, api, store, ns } = await setup({ machines: 1 });
  store.setReady(true, 'serving proxy on lo');
  await clock.advance(10);
  assert.equal(api.reports.length, 1);
  const entries = () => (ns.get('bootnetworks', 'lab')?.status?.['agentReports'] ?? []) as { node: string }[];
  assert.deepEqual(entries().map((r) => r.node), ['n1']);

  // Within ENTRY_SETTLE_MS of the write a status without the entry may simply be older than it: no write.
  ns.setStatus('bootnetworks', 'lab', { ...ns.get('bootnetworks', 'lab')?.status, agentReports: [] });
  await clock.advance(10);
  assert.equal(api.reports.length, 1);

  // Later, the entry gone means removed: the same content is written again, once.
  await clock.advance(ENTRY_SETTLE_MS);
  ns.setStatus('bootnetworks', 'lab', { ...ns.get('bootnetworks', 'lab')?.status, planGeneration: 3, agentReports: [] });
  await clock.advance(10);
  assert.equal(api.reports.length, 2);
  assert.equal(api.reports[1]?.node, 'n1');
  assert.equal(api.reports[1]?.planDigest, store.planDigest());
  assert.deepEqual(entries().map((r) => r.node), ['n1']);
  await clock.advance(600_000);
  assert.equal(api.reports.length, 2, 'present again: nothing more to write');
  await store.close();
});

test('dhcpRole: one agent serves; the one serving keeps it; of two claiming at once the lower node name keeps it', () => {
  assert.deepEqual(dhcpRole('n1', undefined, []), { role: 'serving' });
  assert.deepEqual(dhcpRole('n1', undefined, [{ node: 'n1', dhcp: 'serving' }, { node: 'n2', dhcp: 'standby' }]), { role: 'serving' }, 'its own entry and standbys do not count');
  assert.deepEqual(dhcpRole('n1', undefined, [{ node: 'n2', dhcp: 'serving' }]), { role: 'standby', holder: 'n2' }, 'a new agent joins as standby');
  assert.deepEqual(dhcpRole('n1', 'serving', [{ node: 'n2', dhcp: 'serving' }]), { role: 'serving' }, 'n1 < n2: n1 keeps serving');
  assert.deepEqual(dhcpRole('n3', 'serving', [{ node: 'n2', dhcp: 'serving' }, { node: 'n0', dhcp: 'serving' }]), { role: 'standby', holder: 'n0' });
  assert.deepEqual(dhcpRole('n1', 'standby', [{ node: 'n2', dhcp: 'standby' }]), { role: 'serving' }, 'no one serves: take over');
  assert.deepEqual(dhcpRole('n1', undefined, [{ node: 7, dhcp: 'serving' }, {}]), { role: 'serving' }, 'malformed entries are ignored');
});

test('mode dhcp: the store stands by while another node\'s agent serves, reports it, and takes over when that entry goes', async () => {
  const { clock, api, store, ns, lines } = await setup({ network: { mode: 'dhcp', dhcp: { pool: { start: '10.9.0.100', end: '10.9.0.101' }, router: '10.9.0.1', leaseSeconds: 600 } } });
  const other = { node: 'n0', planDigest: 'x', ready: true, dhcp: 'serving', updatedAt: '2026-11-23T10:00:00Z' };
  ns.setStatus('bootnetworks', 'lab', { ...ns.get('bootnetworks', 'lab')?.status, agentReports: [other] });
  await clock.advance(10);
  assert.match(store.dhcpStandby() ?? '', /agent on node n0 answers DHCP/);
  store.setReady(true, 'serving dhcp on lo');
  await clock.advance(10);
  assert.equal(api.reports.at(-1)?.dhcp, 'standby');
  assert.ok(lines.some((l) => l['code'] === 'NB4016' && l['level'] === 50), 'standing by is logged as an error: the network needs one node');

  // The serving agent's entry goes (it stopped, or the controller removed it as stale): this one serves, and warns about leases.
  await clock.advance(ENTRY_SETTLE_MS);
  ns.setStatus('bootnetworks', 'lab', { ...ns.get('bootnetworks', 'lab')?.status, agentReports: (ns.get('bootnetworks', 'lab')?.status?.['agentReports'] as { node: string }[]).filter((r) => r.node !== 'n0') });
  await clock.advance(10);
  assert.equal(store.dhcpStandby(), undefined);
  assert.equal(api.reports.at(-1)?.dhcp, 'serving');
  assert.ok(lines.some((l) => l['code'] === 'NB4016' && String(l['msg']).includes('answers DHCP now')));
  await store.close();
});

test('proxy modes: no DHCP role, none reported', async () => {
  const { clock, api, store } = await setup();
  store.setReady(true, 'serving proxy on lo');
  await clock.advance(10);
  assert.equal(store.dhcpStandby(), undefined);
  assert.equal(api.reports.at(-1)?.dhcp, undefined);
  await store.close();
});
