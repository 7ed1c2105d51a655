/**
 * The manager wired to fake sources and fake write APIs, on a fake clock:
 * a standby writes nothing, a leader reconciles every kind once and then
 * stays quiet, a class change re-resolves the machine with an Event, and
 * losing leadership stops writes at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { Manager } from '../../../src/controller/manager/manager.ts';
import type { CacheSources, CachedKinds } from '../../../src/controller/manager/caches.ts';
import type { WatchedKind } from '../../../src/controller/manager/fanout.ts';
import { createControllerMetrics } from '../../../src/controller/metrics.ts';
import type { ApplyApi } from '../../../src/kube/apply.ts';
import type { ObjectApplyApi, ApplyableObject } from '../../../src/kube/apply-object.ts';
import type { KubeObject, ListWatchSource, WatchEvent } from '../../../src/kube/informer.ts';
import { FakeClock } from '../../support/fake-clock.ts';
import { AGENT, machine, machineClass, network, profile, withGeneration, withSpec } from './builders.ts';

type Stored = KubeObject & { apiVersion?: string; kind?: string; metadata: { name: string; namespace: string; resourceVersion: string; generation?: number }; status?: Record<string, unknown> };

/** One kind's objects: listed once, then changes pushed to the open watch. */
class FakeSource implements ListWatchSource<Stored> {
  readonly resource: string;
  readonly objects = new Map<string, Stored>();
  #watcher: ((e: WatchEvent) => void) | undefined;
  #rv: () => string;
  constructor(resource: string, rv: () => string) { this.resource = resource; this.#rv = rv; }
  async list() { return { items: [...this.objects.values()].map((o) => structuredClone(o)), resourceVersion: this.#rv() }; }
  watch(_rv: string, onEvent: (e: WatchEvent) => void, signal: AbortSignal): Promise<void> {
    this.#watcher = onEvent;
    return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  }
  put(obj: object, type: 'ADDED' | 'MODIFIED' = 'MODIFIED', deliver: (send: () => void) => void = (send) => send()): Stored {
    const o = { ...structuredClone(obj), metadata: { ...(obj as Stored).metadata, resourceVersion: this.#rv() } } as Stored;
    this.objects.set(`${o.metadata.namespace}/${o.metadata.name}`, o);
    const watcher = this.#watcher;
    deliver(() => watcher?.({ type, object: structuredClone(o) }));
    return o;
  }
}

/**
 * `echoAfterResponse`: status applies answer with the stored object and its
 * watch event arrives after the response, as from a real API server (the
 * default delivers the event first and answers `{}`).
 */
/** One network, profile, class and machine, all at generation 1: the world most tests start from. */
function seedLab(sources: ReturnType<typeof world>['sources']): void {
  sources.BootNetwork.put(network('lab', withGeneration(1)), 'ADDED');
  sources.BootProfile.put(profile('linux', withGeneration(1)), 'ADDED');
  sources.MachineClass.put(machineClass('qemu', 'linux', withGeneration(1)), 'ADDED');
  sources.BootMachine.put(machine('52:54:00:00:00:01', withGeneration(1)), 'ADDED');
}

function world(options: { readonly echoAfterResponse?: boolean } = {}) {
  let rv = 1;
  const next = () => String(rv++);
  const kinds: WatchedKind[] = ['BootNetwork', 'BootProfile', 'MachineClass', 'BootMachine', 'AmtNetworkPolicy', 'DaemonSet'];
  const sources = Object.fromEntries(kinds.map((k) => [k, new FakeSource(k, next)])) as Record<WatchedKind, FakeSource>;
  const writes: string[] = [];
  const events: ApplyableObject[] = [];
  const kindOf: Record<string, keyof CachedKinds> = { bootnetworks: 'BootNetwork', bootprofiles: 'BootProfile', machineclasses: 'MachineClass', bootmachines: 'BootMachine', amtnetworkpolicies: 'AmtNetworkPolicy' };
  // Status applies land in the fake store (merged over what others own) and come back as watch events, like SSA.
  const applyStatus = async (p: { plural: string; namespace: string; name: string; body: unknown }) => {
    const kind = kindOf[p.plural] as WatchedKind;
    writes.push(`${kind} ${p.namespace}/${p.name}`);
    const source = sources[kind];
    const current = source.objects.get(`${p.namespace}/${p.name}`) as Stored;
    const status = (p.body as { status: Record<string, unknown> }).status;
    if (options.echoAfterResponse === true) return source.put({ ...current, status: { ...current.status, ...status } }, 'MODIFIED', (send) => setImmediate(send));
    source.put({ ...current, status: { ...current.status, ...status } });
    return {};
  };
  const applyApi = {
    patchNamespacedCustomObjectStatus: applyStatus,
    patchNamespacedCustomObject: async () => { throw new Error('no spec writes expected'); },
    patchClusterCustomObject: async () => { throw new Error('no cluster writes expected'); },
    patchClusterCustomObjectStatus: async () => { throw new Error('no cluster writes expected'); },
  } as unknown as ApplyApi;
  const objectApi: ObjectApplyApi = {
    applyPatch: async (body) => {
      if (body.kind === 'Event') { events.push(body); return body; }
      writes.push(`${body.kind} ${body.metadata.namespace}/${body.metadata.name}`);
      sources.DaemonSet.put({ ...body, metadata: { ...body.metadata, generation: 1 } });
      return body;
    },
  };
  const clock = new FakeClock();
  const metrics = createControllerMetrics(new Registry());
  const manager = new Manager({
    sources: sources as unknown as CacheSources, applyApi, objectApi, agent: AGENT, identity: 'test', clock, metrics,
    logger: pino({ level: 'silent' }),
  });
  return { sources, writes, events, clock, manager, metrics };
}

/** Runs the fake clock until the manager's queues are empty. */
async function drain(clock: FakeClock, manager: Manager): Promise<void> {
  for (let i = 0; i < 200; i++) {
    await clock.advance(250);
    if (manager.backlog() === 0) { await clock.advance(1500); if (manager.backlog() === 0) return; }
  }
  throw new Error('queues did not drain');
}

test('a standby writes nothing; a leader reconciles every kind once, then stays quiet', async () => {
  const { sources, writes, clock, manager, metrics } = world();
  seedLab(sources);
  manager.start();
  assert.equal(await manager.caches.waitForSync(), true);
  await clock.advance(5000);
  assert.deepEqual(writes, [], 'no writes before leading');

  const leading = new AbortController();
  const run = manager.lead(leading.signal);
  await drain(clock, manager);
  assert.ok(manager.isLeading());
  assert.deepEqual([...new Set(writes)].sort(), [
    'BootMachine lab/52-54-00-00-00-01', 'BootNetwork lab/lab', 'BootProfile lab/linux', 'DaemonSet lab/netboot-agent-lab', 'MachineClass lab/qemu',
  ]);
  const m = sources.BootMachine.objects.get('lab/52-54-00-00-00-01');
  assert.equal(m?.status?.['machineClass'], 'qemu');
  assert.equal((await metrics.registry.getSingleMetric('netboot_controller_leader')?.get())?.values[0]?.value, 1);

  // Idle: a minute of nothing, and a no-op update (a status-only echo), write nothing.
  const settled = writes.length;
  await clock.advance(60_000);
  sources.BootNetwork.put(sources.BootNetwork.objects.get('lab/lab') as object);
  await drain(clock, manager);
  assert.equal(writes.length, settled, `idle writes: ${writes.slice(settled).join(', ')}`);

  leading.abort();
  await run;
  assert.equal(manager.isLeading(), false);
  await manager.stop();
});

test('a class change re-resolves the machine with a ClassChanged event; after losing the lease nothing is written', async () => {
  const { sources, writes, events, clock, manager } = world();
  seedLab(sources);
  manager.start();
  await manager.caches.waitForSync();
  const leading = new AbortController();
  const run = manager.lead(leading.signal);
  await drain(clock, manager);

  sources.MachineClass.put(machineClass('gpu', 'linux', withGeneration(1), withSpec({ priority: 10, selector: { macs: ['52:54:00:00:00:01'] } })), 'ADDED');
  await drain(clock, manager);
  assert.equal(sources.BootMachine.objects.get('lab/52-54-00-00-00-01')?.status?.['machineClass'], 'gpu');
  assert.equal(sources.MachineClass.objects.get('lab/gpu')?.status?.['matchedMachines'], 1);
  assert.equal(sources.MachineClass.objects.get('lab/qemu')?.status?.['matchedMachines'], 0);
  const changed = events.find((e) => e['reason'] === 'ClassChanged');
  assert.ok(changed !== undefined, `events: ${events.map((e) => e['reason']).join(', ')}`);
  assert.equal(changed['message'], 'class qemu -> gpu');
  assert.deepEqual(changed['involvedObject'], { apiVersion: 'netboot.dev/v1alpha1', kind: 'BootMachine', name: '52-54-00-00-00-01', namespace: 'lab' });
  assert.equal(changed['reportingComponent'], 'netboot-controller');

  leading.abort();
  await run;
  const before = writes.length;
  sources.MachineClass.put(machineClass('gpu', 'linux', withGeneration(2), withSpec({ priority: -5, selector: { macs: ['52:54:00:00:00:01'] } })));
  await clock.advance(10_000);
  assert.equal(writes.length, before, 'a former leader wrote');
  await manager.stop();
});

test('the watch event echoing our own status write does not reconcile the object again; anyone else\'s write does', async () => {
  const { sources, writes, clock, manager, metrics } = world({ echoAfterResponse: true });
  seedLab(sources);
  manager.start();
  assert.equal(await manager.caches.waitForSync(), true);
  const reconciles = async (kind: string) => (await metrics.registry.getSingleMetric('netboot_controller_reconcile_total')?.get())?.values
    .filter((v) => v.labels['kind'] === kind && v.labels['result'] === 'success').reduce((n, v) => n + v.value, 0) ?? 0;
  const leading = new AbortController();
  const run = manager.lead(leading.signal);
  await drain(clock, manager);
  const key = 'lab/52-54-00-00-00-01';
  assert.equal(writes.filter((w) => w === `BootMachine ${key}`).length, 1);
  assert.equal(sources.BootMachine.objects.get(key)?.status?.['machineClass'], 'qemu');
  assert.equal(await reconciles('BootMachine'), 1, 'one reconcile: the echo of its status write is not reconciled');
  // The class was recounted after the machine moved to it (the echo still fans out to dependents).
  assert.equal(sources.MachineClass.objects.get('lab/qemu')?.status?.['matchedMachines'], 1);

  // An agent's write (status.boot) is not ours: the machine is reconciled.
  const current = sources.BootMachine.objects.get(key) as Stored;
  sources.BootMachine.put({ ...current, status: { ...current.status, boot: { phase: 'ScriptServed', lastBoot: '2026-11-23T10:00:00Z', node: 'n1' } } });
  await drain(clock, manager);
  assert.equal(await reconciles('BootMachine'), 2);
  const booted = sources.BootMachine.objects.get(key)?.status?.['conditions'] as { type: string; reason: string }[];
  assert.equal(booted.find((c) => c.type === 'BootHealthy')?.reason, 'Booted');

  leading.abort();
  await run;
  await manager.stop();
});
