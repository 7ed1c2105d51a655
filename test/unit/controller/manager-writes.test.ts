/**
 * The write gate: closed unless leading, a bounded rate (events apart), and
 * a write that waited for its token is refused if leadership ended meanwhile.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WriteGate, gatedApplyApi } from '../../../src/controller/manager/writes.ts';
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
