/**
 * The event recorder: repeats within the window bump one Event, the buffer
 * is bounded, and a failed write never reaches the caller.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventRecorder } from '../../../src/controller/events.ts';
import type { EventResult } from '../../../src/controller/events.ts';
import type { ApplyableObject } from '../../../src/kube/apply-object.ts';
import { FakeClock, settle } from '../../support/fake-clock.ts';

const machine = { apiVersion: 'netboot.dev/v1alpha1', kind: 'BootMachine', metadata: { name: '52-54-00-00-00-01', namespace: 'lab', uid: 'u1' } };
const changed = { type: 'Normal' as const, reason: 'ClassChanged', message: 'class a -> b' };

function recorder(write: (e: ApplyableObject) => Promise<unknown>, maxPending?: number) {
  const clock = new FakeClock();
  const results: EventResult[] = [];
  const errors: unknown[] = [];
  const rec = new EventRecorder({ write, instance: 'ctl-1', clock, onResult: (r) => results.push(r), onError: (e) => errors.push(e), ...(maxPending === undefined ? {} : { maxPending }) });
  return { rec, clock, results, errors };
}

test('an event becomes a core/v1 Event; a repeat within 10 minutes bumps it, a later one is new', async () => {
  const written: ApplyableObject[] = [];
  const { rec, clock, results } = recorder(async (e) => { written.push(e); });
  rec.record(machine, changed);
  await rec.idle();
  const first = written[0] as ApplyableObject & Record<string, unknown>;
  assert.equal(first.apiVersion, 'v1');
  assert.equal(first.kind, 'Event');
  assert.equal(first.metadata.namespace, 'lab');
  assert.match(first.metadata.name, /^52-54-00-00-00-01\.[0-9a-f]+$/);
  assert.deepEqual(first['involvedObject'], { apiVersion: 'netboot.dev/v1alpha1', kind: 'BootMachine', name: '52-54-00-00-00-01', namespace: 'lab', uid: 'u1' });
  assert.deepEqual(first['source'], { component: 'netboot-controller' });
  assert.equal(first['reportingComponent'], 'netboot-controller');
  assert.equal(first['reportingInstance'], 'ctl-1');
  assert.equal(first['count'], 1);
  assert.equal(first['firstTimestamp'], '2026-11-23T10:00:00Z');

  await clock.advance(5 * 60_000);
  rec.record(machine, changed);
  await rec.idle();
  const bumped = written[1] as ApplyableObject & Record<string, unknown>;
  assert.equal(bumped.metadata.name, first.metadata.name, 'the same Event');
  assert.equal(bumped['count'], 2);
  assert.equal(bumped['firstTimestamp'], '2026-11-23T10:00:00Z');
  assert.equal(bumped['lastTimestamp'], '2026-11-23T10:05:00Z');

  // Another message is another Event; and past the window the same message starts over.
  rec.record(machine, { ...changed, message: 'class b -> a' });
  await clock.advance(11 * 60_000);
  rec.record(machine, changed);
  await rec.idle();
  assert.equal(written.length, 4);
  assert.notEqual(written[2]?.metadata.name, first.metadata.name);
  assert.notEqual(written[3]?.metadata.name, first.metadata.name);
  assert.equal((written[3] as Record<string, unknown>)['count'], 1);
  assert.deepEqual(results, ['created', 'bumped', 'created', 'created']);
});

test('repeats waiting to be written are coalesced; past the buffer new events are dropped', async () => {
  let release = () => {};
  const gate = new Promise<void>((r) => { release = r; });
  const written: ApplyableObject[] = [];
  const { rec, results } = recorder(async (e) => { await gate; written.push(e); }, 2);
  rec.record(machine, changed); // taken by the writer, waiting on the gate
  await settle();
  rec.record(machine, { ...changed, message: 'x' });
  rec.record(machine, { ...changed, message: 'x' }); // bump of a waiting body: replaces it
  rec.record(machine, { ...changed, message: 'y' });
  rec.record(machine, { ...changed, message: 'z' }); // buffer full (2 waiting)
  assert.equal(rec.pending(), 2);
  release();
  await rec.idle();
  assert.deepEqual(written.map((e) => `${String(e['message'])}:${String(e['count'])}`), ['class a -> b:1', 'x:2', 'y:1']);
  assert.deepEqual(results, ['created', 'created', 'bumped', 'created', 'dropped']);
});

test('a failed write is reported and does not stop the next one', async () => {
  let calls = 0;
  const { rec, results, errors } = recorder(async () => { if (calls++ === 0) throw new Error('HTTP 403'); });
  assert.doesNotThrow(() => rec.record(machine, changed));
  rec.record(machine, { ...changed, message: 'other' });
  await rec.idle();
  assert.equal(calls, 2);
  assert.equal(errors.length, 1);
  assert.ok(results.includes('failed'));
});
