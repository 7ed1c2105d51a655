/**
 * The dependency fan-out: which keys an informer event makes stale, with a
 * fake cache. Status-only writes must wake only the object itself, or the
 * controller's own writes would re-reconcile 10,000 machines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Fanout } from '../../../src/controller/manager/fanout.ts';
import { RECOUNT_MAX_DELAY_MS, RECOUNT_MIN_DELAY_MS, recountDelayMs } from '../../../src/controller/manager/manager.ts';
import type { FanoutObject, FanoutView, QueueKind, WatchedKind } from '../../../src/controller/manager/fanout.ts';

type Obj = FanoutObject & { metadata: { name: string; namespace: string } };

/** A cache of plain objects keyed by kind and "ns/name". */
class FakeView implements FanoutView {
  readonly objects = new Map<WatchedKind, Map<string, Obj>>();
  put(kind: WatchedKind, obj: Obj): string {
    const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
    let m = this.objects.get(kind);
    if (m === undefined) this.objects.set(kind, m = new Map());
    m.set(key, obj);
    return key;
  }
  remove(kind: WatchedKind, key: string): void { this.objects.get(kind)?.delete(key); }
  get(kind: WatchedKind, key: string): FanoutObject | undefined { return this.objects.get(kind)?.get(key); }
  keysIn(kind: QueueKind, namespace: string): string[] { return [...(this.objects.get(kind)?.keys() ?? [])].filter((k) => k.startsWith(`${namespace}/`)); }
}

const obj = (name: string, extra: Partial<Obj> & { generation?: number; labels?: Record<string, string>; namespace?: string } = {}): Obj => ({
  ...extra,
  metadata: { name, namespace: extra.namespace ?? 'lab', generation: extra.generation ?? 1, ...(extra.labels === undefined ? {} : { labels: extra.labels }), ...extra.metadata },
});

function world() {
  const view = new FakeView();
  view.put('BootNetwork', obj('net1'));
  view.put('BootNetwork', obj('net2'));
  view.put('BootProfile', obj('linux'));
  view.put('MachineClass', obj('workers'));
  view.put('MachineClass', obj('gpu'));
  view.put('AmtNetworkPolicy', obj('amt'));
  view.put('BootMachine', obj('m1', { spec: { network: 'net1' }, status: { machineClass: 'workers', profile: 'linux' } }));
  view.put('BootMachine', obj('m2', { spec: {} }));
  view.put('BootMachine', obj('m3', { spec: { network: 'net2' } }));
  // Another namespace: never touched by changes in "lab".
  view.put('BootNetwork', obj('other', { namespace: 'elsewhere' }));
  view.put('BootMachine', obj('x1', { namespace: 'elsewhere' }));
  const fanout = new Fanout(view, { delayMs: 150, countDelayMs: 1000 });
  // Prime the memo as the initial list would.
  for (const [kind, m] of view.objects) for (const key of m.keys()) fanout.changed(kind, 'add', key, () => {});
  const run = (kind: WatchedKind, event: 'add' | 'update' | 'delete', key: string) => {
    const out: string[] = [];
    fanout.changed(kind, event, key, (k, stale, delayMs) => out.push(`${k} ${stale}${delayMs > 0 ? ` +${delayMs}` : ''}`));
    return out.sort();
  };
  return { view, fanout, run };
}

test('a status-only update wakes only the object itself', () => {
  const { view, run } = world();
  for (const [kind, name] of [['BootNetwork', 'net1'], ['BootProfile', 'linux'], ['MachineClass', 'workers'], ['AmtNetworkPolicy', 'amt']] as const) {
    const key = `lab/${name}`;
    const current = view.get(kind, key) as Obj;
    view.put(kind, { ...current, status: { machineClass: 'changed?' } } as Obj); // same generation
    assert.deepEqual(run(kind, 'update', key), [`${kind} ${key}`], kind);
  }
  // An agent writing status.boot (no plan field, no class change) wakes the machine only.
  const m2 = view.get('BootMachine', 'lab/m2') as Obj;
  view.put('BootMachine', { ...m2, status: { boot: {} } } as Obj);
  assert.deepEqual(run('BootMachine', 'update', 'lab/m2'), ['BootMachine lab/m2']);
});

test('a class spec change re-resolves every machine of its namespace and replans its networks', () => {
  const { view, run } = world();
  view.put('MachineClass', obj('workers', { generation: 2 }));
  assert.deepEqual(run('MachineClass', 'update', 'lab/workers'), [
    'AmtNetworkPolicy lab/amt +150',
    'BootMachine lab/m1', 'BootMachine lab/m2', 'BootMachine lab/m3',
    'BootNetwork lab/net1 +150', 'BootNetwork lab/net2 +150',
    'MachineClass lab/workers',
  ]);
  // A new class and a deleted one fan out the same way.
  view.put('MachineClass', obj('fresh'));
  assert.equal(run('MachineClass', 'add', 'lab/fresh').filter((s) => s.startsWith('BootMachine ')).length, 3);
  view.remove('MachineClass', 'lab/gpu');
  assert.equal(run('MachineClass', 'delete', 'lab/gpu').filter((s) => s.startsWith('BootMachine ')).length, 3);
});

test('a profile spec change wakes networks, classes and machines; a policy change wakes classes', () => {
  const { view, run } = world();
  view.put('BootProfile', obj('linux', { generation: 5 }));
  assert.deepEqual(run('BootProfile', 'update', 'lab/linux'), [
    'BootMachine lab/m1', 'BootMachine lab/m2', 'BootMachine lab/m3',
    'BootNetwork lab/net1 +150', 'BootNetwork lab/net2 +150',
    'BootProfile lab/linux',
    'MachineClass lab/gpu', 'MachineClass lab/workers',
  ]);
  view.put('AmtNetworkPolicy', obj('amt', { generation: 2 }));
  // Machines too: their status.amt depends on the policy.
  assert.deepEqual(run('AmtNetworkPolicy', 'update', 'lab/amt'), [
    'AmtNetworkPolicy lab/amt', 'BootMachine lab/m1', 'BootMachine lab/m2', 'BootMachine lab/m3', 'MachineClass lab/gpu', 'MachineClass lab/workers',
  ]);
});

test('a network spec change wakes the machines on it and those not pinned to any network', () => {
  const { view, run } = world();
  view.put('BootNetwork', obj('net1', { generation: 3 }));
  assert.deepEqual(run('BootNetwork', 'update', 'lab/net1'), ['BootMachine lab/m1', 'BootMachine lab/m2', 'BootNetwork lab/net1']);
});

test('a machine: plan fields replan its network; a class or profile change updates old and new counts', () => {
  const { view, run } = world();
  const m1 = view.get('BootMachine', 'lab/m1') as Obj;
  // Labels are plan input (class selectors): only its own network replans.
  view.put('BootMachine', { ...m1, metadata: { ...m1.metadata, labels: { rack: 'a' } } });
  assert.deepEqual(run('BootMachine', 'update', 'lab/m1'), ['BootMachine lab/m1', 'BootNetwork lab/net1 +150']);
  // The controller resolved another class and profile: both old and new get recounted, policies too.
  const labelled = view.get('BootMachine', 'lab/m1') as Obj;
  view.put('BootMachine', { ...labelled, status: { machineClass: 'gpu', profile: 'gpu-linux' } });
  assert.deepEqual(run('BootMachine', 'update', 'lab/m1'), [
    'AmtNetworkPolicy lab/amt +1000', 'BootMachine lab/m1',
    'BootProfile lab/gpu-linux +1000', 'BootProfile lab/linux +1000',
    'MachineClass lab/gpu +1000', 'MachineClass lab/workers +1000',
  ]);
  // completedAt changes what a boot-once machine gets next: a plan change.
  const m3 = view.get('BootMachine', 'lab/m3') as Obj;
  view.put('BootMachine', { ...m3, status: { boot: { completedAt: '2026-11-23T10:00:00Z' } } });
  assert.deepEqual(run('BootMachine', 'update', 'lab/m3'), ['BootMachine lab/m3', 'BootNetwork lab/net2 +150']);
  // A machine on no particular network is in every network's plan of the namespace.
  view.put('BootMachine', obj('m4', { spec: {} }));
  assert.deepEqual(run('BootMachine', 'add', 'lab/m4'), ['BootMachine lab/m4', 'BootNetwork lab/net1 +150', 'BootNetwork lab/net2 +150']);
  // Deleted: its network replans and its class is recounted from the memo (the cache no longer has it).
  view.remove('BootMachine', 'lab/m1');
  assert.deepEqual(run('BootMachine', 'delete', 'lab/m1'), [
    'AmtNetworkPolicy lab/amt +1000', 'BootMachine lab/m1', 'BootNetwork lab/net1 +150', 'BootProfile lab/gpu-linux +1000', 'MachineClass lab/gpu +1000',
  ]);
});

test('a DaemonSet wakes its owner network, also after it was deleted', () => {
  const { view, run } = world();
  const ds = obj('netboot-agent-net1', { metadata: { name: 'netboot-agent-net1', namespace: 'lab', ownerReferences: [{ apiVersion: 'netboot.dev/v1alpha1', kind: 'BootNetwork', name: 'net1' }] } });
  const key = view.put('DaemonSet', ds);
  assert.deepEqual(run('DaemonSet', 'add', key), ['BootNetwork lab/net1']);
  assert.deepEqual(run('DaemonSet', 'update', key), ['BootNetwork lab/net1']);
  view.remove('DaemonSet', key);
  assert.deepEqual(run('DaemonSet', 'delete', key), ['BootNetwork lab/net1']);
  // Not owned by a BootNetwork: nothing to do.
  const stray = view.put('DaemonSet', obj('stray', { metadata: { name: 'stray', namespace: 'lab', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'x' }] } }));
  assert.deepEqual(run('DaemonSet', 'add', stray), []);
});

test('fan-out over 10,000 machines is cheap', () => {
  const view = new FakeView();
  view.put('MachineClass', obj('c'));
  for (let i = 0; i < 10_000; i++) view.put('BootMachine', obj(`m${i}`, { spec: {} }));
  const fanout = new Fanout(view);
  for (const key of view.keysIn('BootMachine', 'lab')) fanout.changed('BootMachine', 'add', key, () => {});
  fanout.changed('MachineClass', 'add', 'lab/c', () => {});
  view.put('MachineClass', obj('c', { generation: 2 }));
  let n = 0;
  const started = performance.now();
  fanout.changed('MachineClass', 'update', 'lab/c', () => { n++; });
  const ms = performance.now() - started;
  assert.equal(n, 10_001);
  assert.ok(ms < 200, `fan-out took ${ms} ms`);
  assert.equal(fanout.machinesTracked(), 10_000);
});

test('the recount delay may be a function, read at each machine event (the manager stretches it while machines are queued)', () => {
  const view = new FakeView();
  view.put('MachineClass', obj('workers'));
  view.put('BootMachine', obj('m1', { spec: {} }));
  let countDelayMs = 1000;
  const fanout = new Fanout(view, { delayMs: 150, countDelayMs: () => countDelayMs });
  fanout.changed('BootMachine', 'add', 'lab/m1', () => {});
  const run = () => {
    const out: string[] = [];
    fanout.changed('BootMachine', 'update', 'lab/m1', (k, stale, delayMs) => out.push(`${k} ${stale}${delayMs > 0 ? ` +${delayMs}` : ''}`));
    return out.sort();
  };
  countDelayMs = 7500;
  view.put('BootMachine', obj('m1', { spec: {}, status: { machineClass: 'workers', profile: 'linux' } }));
  assert.deepEqual(run(), ['BootMachine lab/m1', 'BootProfile lab/linux +7500', 'MachineClass lab/workers +7500']);
  countDelayMs = 1000;
  view.put('BootMachine', obj('m1', { spec: {}, status: { machineClass: 'gpu', profile: 'linux' } }));
  assert.deepEqual(run(), ['BootMachine lab/m1', 'MachineClass lab/gpu +1000', 'MachineClass lab/workers +1000']);
});

test('recountDelayMs: the time the machine queue needs to drain at the write rate, within [1 s, 10 s]', () => {
  assert.equal(recountDelayMs(0, 400), RECOUNT_MIN_DELAY_MS);
  assert.equal(recountDelayMs(200, 400), 1000, 'a few machines moving: counted after 1 s as before');
  assert.equal(recountDelayMs(1200, 400), 3000);
  assert.equal(recountDelayMs(10_000, 400), RECOUNT_MAX_DELAY_MS, 'a cold start: a count at most every 10 s');
  assert.equal(recountDelayMs(50, 0), RECOUNT_MAX_DELAY_MS, 'a zero rate does not divide by zero (taken as 1/s)');
  assert.equal(RECOUNT_MIN_DELAY_MS, 1000);
  assert.equal(RECOUNT_MAX_DELAY_MS, 10_000);
});
