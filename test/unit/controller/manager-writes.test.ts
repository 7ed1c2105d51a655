/**
 * The write gate: closed unless leading, a bounded rate (events apart), and
 * a write that waited for its token is refused if leadership ended meanwhile.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OwnWrites, STATUS_FIELD_VALIDATION, WriteGate, gatedApplyApi, recordingApplyApi } from '../../../src/controller/manager/writes.ts';
import type { ApplyApi } from '../../../src/kube/apply.ts';
import { Errors, isNetbootError } from '../../../src/errors.ts';
import { FakeClock, settle } from '../../support/fake-clock.ts';

test('closed: every write is refused with ControllerNotLeader', async () => {
  const refused: string[] = [];
  const gate = new WriteGate({ onRefused: (kind, verb) => refused.push(`${kind} ${verb}`) });
  await assert.rejects(gate.admit('BootMachine', 'apply-status'), (err: unknown) => isNetbootError(err, Errors.ControllerNotLeader));
  const leading = new AbortController();
  gate.open(leading.signal);
  assert.ok(gate.isOpen());
  await gate.admit('BootMachine', 'apply-status');
  leading.abort();
  assert.equal(gate.isOpen(), false);
  await assert.rejects(gate.admit('BootMachine', 'apply-status'));
  assert.deepEqual(refused, ['BootMachine apply-status', 'BootMachine apply-status']);
  assert.equal(gate.sent, 1);
});

test('the rate is bounded: a burst, then perSecond; events have their own bucket', async () => {
  const clock = new FakeClock();
  const gate = new WriteGate({ clock, rate: { perSecond: 10, burst: 5 }, eventRate: { perSecond: 1, burst: 1 } });
  gate.open(new AbortController().signal);
  let done = 0;
  for (let i = 0; i < 15; i++) void gate.admit('BootMachine', 'apply-status').then(() => { done++; });
  await settle();
  assert.equal(done, 5, 'the burst goes at once');
  await clock.advance(500);
  assert.equal(done, 10, '10 per second after it');
  await clock.advance(500);
  assert.equal(done, 15);
  // Events do not wait behind status writes, nor take their tokens.
  let events = 0;
  for (let i = 0; i < 3; i++) void gate.admit('Event', 'event').then(() => { events++; });
  await settle();
  assert.equal(events, 1);
  await clock.advance(2000);
  assert.equal(events, 3);
});

test('a write held back by the bound reports how long it waits; one that finds a token reports nothing', async () => {
  const clock = new FakeClock();
  const waits: string[] = [];
  const gate = new WriteGate({ clock, rate: { perSecond: 10, burst: 2 }, onWait: (kind, verb, ms) => waits.push(`${kind} ${verb} ${ms}`) });
  gate.open(new AbortController().signal);
  const admitted = [1, 2, 3, 4].map(() => gate.admit('BootMachine', 'apply-status'));
  await settle();
  // The burst of 2 goes at once; the third waits one token (100 ms), the fourth two.
  assert.deepEqual(waits, ['BootMachine apply-status 100', 'BootMachine apply-status 200']);
  await clock.advance(200);
  await Promise.all(admitted);
});

test('a write waiting for its token is refused when leadership ends first, and in-flight requests get the leading signal', async () => {
  const clock = new FakeClock();
  const gate = new WriteGate({ clock, rate: { perSecond: 1, burst: 1 } });
  const leading = new AbortController();
  gate.open(leading.signal);
  await gate.admit('BootMachine', 'apply-status');
  const waiting = gate.admit('BootMachine', 'apply-status');
  leading.abort();
  await assert.rejects(waiting, (err: unknown) => isNetbootError(err, Errors.ControllerNotLeader));

  const gate2 = new WriteGate({ clock });
  const leading2 = new AbortController();
  gate2.open(leading2.signal);
  const seen: unknown[] = [];
  const fake = { patchNamespacedCustomObjectStatus: async (_p: unknown, options: unknown) => { seen.push(options); return {}; } } as unknown as ApplyApi;
  await gatedApplyApi(fake, gate2).patchNamespacedCustomObjectStatus({ group: 'netboot.dev', version: 'v1alpha1', namespace: 'lab', plural: 'bootmachines', name: 'm', body: {} });
  const middleware = (seen[0] as { middleware?: unknown[] }).middleware;
  assert.equal(middleware?.length, 1, 'the request carries the abort middleware');
});

test('status applies go out with fieldValidation=Ignore; object applies keep the server default', async () => {
  const gate = new WriteGate();
  gate.open(new AbortController().signal);
  const params: Record<string, unknown>[] = [];
  const record = async (p: unknown) => { params.push(p as Record<string, unknown>); return {}; };
  const fake = { patchNamespacedCustomObjectStatus: record, patchClusterCustomObjectStatus: record, patchNamespacedCustomObject: record, patchClusterCustomObject: record } as unknown as ApplyApi;
  const api = gatedApplyApi(fake, gate);
  const ref = { group: 'netboot.dev', version: 'v1alpha1', plural: 'bootmachines', name: 'm', body: {}, fieldManager: 'netboot-controller', force: true };
  await api.patchNamespacedCustomObjectStatus({ ...ref, namespace: 'lab' });
  await api.patchClusterCustomObjectStatus(ref);
  await api.patchNamespacedCustomObject({ ...ref, namespace: 'lab' });
  assert.deepEqual(params.map((p) => p['fieldValidation']), [STATUS_FIELD_VALIDATION, STATUS_FIELD_VALIDATION, undefined]);
  assert.equal(STATUS_FIELD_VALIDATION, 'Ignore');
  assert.equal(params[0]?.['fieldManager'], 'netboot-controller', 'the rest of the request is unchanged');
  assert.equal(params[0]?.['force'], true);
});

test('OwnWrites: the echo of our own status apply is dropped, whether it arrives before or after the response; other events are released in order', async () => {
  const own = new OwnWrites();
  const released: string[] = [];
  const ev = (kind: string, key: string, rv: string | undefined) => own.event(kind, key, rv, () => released.push(`${kind} ${key} ${rv ?? 'deleted'}`));
  let answer: (rv: string) => void = () => {};
  const fake = {
    patchNamespacedCustomObjectStatus: (p: { name: string }) => new Promise((resolve) => { answer = (rv) => resolve({ metadata: { name: p.name, resourceVersion: rv } }); }),
    patchClusterCustomObjectStatus: async () => { throw new Error('conflict'); },
  } as unknown as ApplyApi;
  const api = recordingApplyApi(fake, own);
  const ref = { group: 'netboot.dev', version: 'v1alpha1', namespace: 'lab', plural: 'bootmachines', name: 'm1', body: {} };

  // No write of the key: every event goes through.
  ev('BootMachine', 'lab/m1', '100');
  assert.deepEqual(released, ['BootMachine lab/m1 100']);

  // The echo arrives after the response: dropped; the next event is someone else's.
  let pending = api.patchNamespacedCustomObjectStatus(ref);
  answer('101');
  await pending;
  assert.deepEqual(own.size, { echoes: 1, inFlight: 0 });
  ev('MachineClass', 'lab/m1', '101');
  ev('BootMachine', 'lab/m1', '101');
  ev('BootMachine', 'lab/m1', '102');
  assert.deepEqual(released.slice(1), ['MachineClass lab/m1 101', 'BootMachine lab/m1 102'], 'another kind is another object');

  // The echo arrives before the response, after an agent's write: held until the response, then only the agent's is released.
  released.length = 0;
  pending = api.patchNamespacedCustomObjectStatus(ref);
  ev('BootMachine', 'lab/m1', '103');
  ev('BootMachine', 'lab/m1', '104');
  assert.deepEqual(released, [], 'held while the write is in flight');
  answer('104');
  await pending;
  assert.deepEqual(released, ['BootMachine lab/m1 103']);
  assert.deepEqual(own.size, { echoes: 0, inFlight: 0 });

  // A failed write releases what it held; a delete is never an echo.
  released.length = 0;
  const failed = api.patchClusterCustomObjectStatus({ group: 'netboot.dev', version: 'v1alpha1', plural: 'bootmachines', name: 'c1', body: {} });
  ev('BootMachine', 'c1', '200');
  await assert.rejects(failed, /conflict/);
  ev('BootMachine', 'c1', undefined);
  assert.deepEqual(released, ['BootMachine c1 200', 'BootMachine c1 deleted']);
  assert.deepEqual(own.size, { echoes: 0, inFlight: 0 });
});
