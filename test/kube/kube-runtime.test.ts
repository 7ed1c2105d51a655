/**
 * The controller runtime against a real kube-apiserver: the informer through
 * an API server restart, leader election between two processes (kill -9 and
 * SIGTERM), and server-side apply of status that writes only on change.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../../src/api/v1alpha1/index.ts';
import { setConditions } from '../../src/api/v1alpha1/conditions.ts';
import type { Condition } from '../../src/api/v1alpha1/conditions.ts';
import { Applier } from '../../src/kube/apply.ts';
import type { AppliedObject, ApplyApi } from '../../src/kube/apply.ts';
import { Informer } from '../../src/kube/informer.ts';
import type { ListWatchSource } from '../../src/kube/informer.ts';
import { customObjectSource } from '../../src/kube/source.ts';
import { isNetbootError, Errors } from '../../src/errors.ts';
import { installCrds, startCluster } from '../support/cluster.ts';
import type { TestCluster } from '../support/cluster.ts';

let cluster: TestCluster;
let kc: KubeConfig;

before(async () => {
  cluster = await startCluster();
  await installCrds(cluster);
  kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
});
after(async () => { await cluster?.stop(); });

const network = (name: string, extra = '') => `apiVersion: ${GROUP}/${VERSION}\nkind: BootNetwork\nmetadata:\n  name: ${name}\n  namespace: default\n${extra}spec:\n  mode: proxy\n  subnet: 192.168.100.0/24\n`;

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A source whose list and watch calls wait while `closed` (the informer is "down"). */
function gated<T extends object>(inner: ListWatchSource<T & { metadata?: { name?: string } }>) {
  let open: Promise<void> = Promise.resolve();
  let release = () => {};
  const source: typeof inner = {
    resource: inner.resource,
    list: async (signal) => { await open; return inner.list(signal); },
    watch: async (rv, onEvent, signal) => { await open; return inner.watch(rv, onEvent, signal); },
  };
  return {
    source,
    close: () => { open = new Promise((r) => { release = r; }); },
    open: () => release(),
  };
}

test('the informer sees create, update and delete, and survives an API server restart without losing an update', async (t) => {
  type Net = { metadata: { name: string; namespace: string; resourceVersion: string; labels?: Record<string, string> } };
  const gate = gated<Net>(customObjectSource<Net>(kc, { group: GROUP, version: VERSION, plural: 'bootnetworks', namespace: 'default' }));
  const errors: string[] = [];
  const informer = new Informer(gate.source, { backoff: { baseMs: 200, maxMs: 2000 }, onError: (e) => errors.push(String(e)) });
  const events: string[] = [];
  for (const ev of ['add', 'update', 'delete'] as const) informer.on(ev, (key) => events.push(`${ev} ${key}`));
  const label = (key: string) => informer.get(key)?.metadata.labels?.['step'];
  informer.start();
  try {
    assert.equal(await informer.waitForSync(), true);
    await cluster.kubectl(['apply', '-f', '-'], network('rt1'));
    await until('add', () => events.find((e) => e === 'add default/rt1'));
    await cluster.kubectl(['label', 'bootnetwork', 'rt1', 'step=one']);
    await until('update', () => (label('default/rt1') === 'one' ? true : undefined));
    assert.ok(events.includes('update default/rt1'));

    // The API server goes away: the watch breaks and reconnecting fails until it is back. Once a
    // failure has been reported, the gate holds the informer disconnected, so the update below
    // lands while it is down; the resumed watch (or the relist after 410 Gone) must deliver it.
    const failuresBefore = errors.length;
    const restarting = cluster.restartApiServer();
    await until('a reported connection failure', () => (errors.length > failuresBefore ? true : undefined), 60_000);
    gate.close();
    await restarting;
    assert.match(errors[failuresBefore] ?? '', /^NB400[15]: (watch|list) of bootnetworks\.netboot\.dev/);
    await cluster.kubectl(['label', '--overwrite', 'bootnetwork', 'rt1', 'step=two']);
    await cluster.kubectl(['apply', '-f', '-'], network('rt2'));
    assert.equal(label('default/rt1'), 'one', 'the informer has not seen it yet');
    const before = events.length;
    gate.open();
    await until('the update made while disconnected', () => (label('default/rt1') === 'two' && informer.get('default/rt2') !== undefined ? true : undefined), 40_000);
    assert.deepEqual(events.slice(before).sort(), ['add default/rt2', 'update default/rt1']);
    t.diagnostic(`informer stats: ${JSON.stringify(informer.stats())}; first failure: ${errors[failuresBefore]}`);

    await cluster.kubectl(['delete', 'bootnetwork', 'rt1', 'rt2']);
    await until('deletes', () => (informer.keys().length === 0 ? true : undefined));
    assert.ok(events.includes('delete default/rt1') && events.includes('delete default/rt2'));
  } finally {
    gate.open();
    await informer.stop();
  }
});

/** A candidate process and its printed lines. */
function candidate(id: string, timeline: { at: number; what: string; id: string }[]) {
  const node = process.execPath;
  const child: ChildProcess = spawn(node, [resolve(import.meta.dirname, 'support/leader-proc.ts'), cluster.kubeconfig, id, 'default', 'rt-lease'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  const seen = new Set<string>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const [what = '', who = '', at = '0'] = line.split(' ');
    timeline.push({ at: Number(at), what, id: who });
    seen.add(what);
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const reached = (what: string, timeoutMs = 30_000) => until(`${id} ${what} (stderr: ${stderr.slice(-500)})`, () => (seen.has(what) ? timeline.find((e) => e.id === id && e.what === what)?.at : undefined), timeoutMs);
  return { child, reached, exited, stderr: () => stderr };
}

test('leader election between two processes: kill -9 fails over after the lease expires, SIGTERM within a retry period, never two leaders', async (t) => {
  const timeline: { at: number; what: string; id: string }[] = [];
  const procs: ChildProcess[] = [];
  try {
    const a = candidate('a', timeline);
    procs.push(a.child);
    await a.reached('LEADING');
    const b = candidate('b', timeline);
    procs.push(b.child);
    await b.reached('READY');
    await new Promise((r) => setTimeout(r, 2500)); // b has seen a's lease
    assert.equal(timeline.filter((e) => e.what === 'LEADING').length, 1);

    // a's renewal as the API server has it; a may renew once more before the kill, which only moves expiry later.
    const held = JSON.parse((await cluster.kubectl(['get', 'lease', 'rt-lease', '-o', 'json'])).stdout) as { spec: { holderIdentity: string; renewTime: string; leaseDurationSeconds: number } };
    assert.equal(held.spec.holderIdentity, 'a');
    assert.equal(held.spec.leaseDurationSeconds, 15);
    const expiresNoEarlierThan = Date.parse(held.spec.renewTime) + 15_000;
    const killedAt = Date.now();
    a.child.kill('SIGKILL');
    timeline.push({ at: killedAt, what: 'KILLED', id: 'a' });
    const bLeads = await b.reached('LEADING', 25_000);
    const failover = bLeads - killedAt;
    t.diagnostic(`kill -9 → b leads after ${failover} ms`);
    // The lease is 15 s from a's last renewal, which is at most the moment of the kill; b wakes at expiry.
    assert.ok(failover <= 15_000 + 1_000, `b led ${failover} ms after the kill`);
    assert.ok(bLeads >= expiresNoEarlierThan, `b led ${expiresNoEarlierThan - bLeads} ms before a's lease expired`);

    const c = candidate('c', timeline);
    procs.push(c.child);
    await c.reached('READY');
    await new Promise((r) => setTimeout(r, 1000));
    const termAt = Date.now();
    b.child.kill('SIGTERM');
    const cLeads = await c.reached('LEADING', 10_000);
    t.diagnostic(`SIGTERM → c leads after ${cLeads - termAt} ms`);
    assert.ok(cLeads - termAt <= 3_000, `c led ${cLeads - termAt} ms after b's SIGTERM`);
    assert.equal(await b.exited, 0, `b exits cleanly: ${b.stderr()}`);
    assert.ok(timeline.some((e) => e.id === 'b' && e.what === 'EXITED'));

    // The timeline: nobody leads until the previous leader stopped or died.
    const order = { STOPPED: 0, KILLED: 0, EXITED: 1, READY: 1, LEADING: 2 } as Record<string, number>;
    const sorted = [...timeline].sort((x, y) => x.at - y.at || (order[x.what] ?? 0) - (order[y.what] ?? 0));
    const leaders = new Set<string>();
    for (const e of sorted) {
      if (e.what === 'LEADING') {
        assert.equal(leaders.size, 0, `${e.id} leads while ${[...leaders].join(',')} still leads:\n${sorted.map((x) => `${x.at} ${x.what} ${x.id}`).join('\n')}`);
        leaders.add(e.id);
      }
      if (e.what === 'STOPPED' || e.what === 'KILLED') leaders.delete(e.id);
    }
    assert.deepEqual(sorted.filter((e) => e.what === 'LEADING').map((e) => e.id), ['a', 'b', 'c']);
    const lease = JSON.parse((await cluster.kubectl(['get', 'lease', 'rt-lease', '-o', 'json'])).stdout) as { spec: { holderIdentity: string; leaseTransitions: number } };
    assert.equal(lease.spec.holderIdentity, 'c');
    assert.equal(lease.spec.leaseTransitions, 2);
  } finally {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }
});

test('server-side apply of status writes status only, and an identical second apply sends nothing', async () => {
  await cluster.kubectl(['apply', '-f', '-'], network('ssa'));
  const api = kc.makeApiClient(CustomObjectsApi);
  let writes = 0;
  const counting: ApplyApi = {
    patchNamespacedCustomObject: (...a) => { writes++; return api.patchNamespacedCustomObject(...a); },
    patchNamespacedCustomObjectStatus: (...a) => { writes++; return api.patchNamespacedCustomObjectStatus(...a); },
    patchClusterCustomObject: (...a) => { writes++; return api.patchClusterCustomObject(...a); },
    patchClusterCustomObjectStatus: (...a) => { writes++; return api.patchClusterCustomObjectStatus(...a); },
  };
  const applier = new Applier(counting);
  type Net = AppliedObject & { spec: unknown; status?: { conditions?: Condition[] }; metadata: AppliedObject['metadata'] & { generation: number; resourceVersion: string } };
  const get = async () => await api.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: 'default', plural: 'bootnetworks', name: 'ssa' }) as Net;
  const desired = (current: Net, now: Date, agentsReady = '0/0') => ({
    observedGeneration: current.metadata.generation,
    agentsReady,
    conditions: setConditions(current.status?.conditions, [{ type: 'Ready', status: 'False', reason: 'NoAgents', message: 'no node matches the nodeSelector' }], current.metadata.generation, now),
  });

  const first = await get();
  const r1 = await applier.applyStatus(first, desired(first, new Date('2026-11-23T10:00:00Z')));
  assert.equal(r1.written, true);
  const second = await get();
  assert.deepEqual(second.spec, first.spec, 'spec untouched');
  assert.equal(second.metadata.generation, first.metadata.generation, 'generation untouched');
  assert.ok(second.metadata.managedFields?.some((m) => m.manager === 'netboot-controller' && m.subresource === 'status'));

  // Recomputed a minute later: same status, and the conditions helper keeps lastTransitionTime.
  const r2 = await applier.applyStatus(second, desired(second, new Date('2026-11-23T10:01:00Z')));
  assert.equal(r2.written, false);
  assert.equal(writes, 1, 'no request for an unchanged status');
  assert.equal((await get()).metadata.resourceVersion, second.metadata.resourceVersion);

  const r3 = await applier.applyStatus(second, desired(second, new Date('2026-11-23T10:02:00Z'), '1/1'));
  assert.equal(r3.written, true);
  const third = await get();
  assert.equal((third.status as { agentsReady?: string }).agentsReady, '1/1');
  assert.equal(third.status?.conditions?.[0]?.lastTransitionTime, '2026-11-23T10:00:00Z', 'Ready did not flip, its transition time stays');

  // Dropping a field we own is a change too: SSA removes it.
  const { agentsReady: _dropped, ...withoutAgents } = desired(third, new Date('2026-11-23T10:03:00Z'));
  assert.equal((await applier.applyStatus(third, withoutAgents)).written, true);
  assert.equal(((await get()).status as { agentsReady?: string }).agentsReady, undefined);
  assert.equal(writes, 3);

  // A rejected apply is a catalogue error naming the object, without the raw response.
  const fourth = await get();
  await assert.rejects(applier.applyStatus(fourth, { conditions: [{ type: 'Ready', status: 'Maybe', reason: 'X', message: '', lastTransitionTime: '2026-11-23T10:00:00Z' }] }), (err: unknown) => {
    assert.ok(isNetbootError(err, Errors.KubeApplyFailed), String(err));
    assert.match(err.message, /^server-side apply of the status of BootNetwork default\/ssa was rejected \(HTTP 422: .*Unsupported value: "Maybe"/);
    assert.doesNotMatch(err.message, /Headers|HTTP-Code/);
    return true;
  });
});
