import { test } from 'node:test';
import assert from 'node:assert/strict';
import { claimedRecord, decideLease, leaseExpiresAt, releasedRecord } from '../../../src/kube/lease.ts';
import type { LeaseDecision, LeaseRecord } from '../../../src/kube/lease.ts';
import { LeaderElector } from '../../../src/kube/leader.ts';
import type { LeaseStore } from '../../../src/kube/leader.ts';
import { recordFromSpec, specFromRecord } from '../../../src/kube/lease-store.ts';
import { Errors, NetbootError } from '../../../src/errors.ts';
import { FakeClock, settle } from '../../support/fake-clock.ts';

const T = 1_800_000_000_000;
const held = (holderIdentity: string, renewTime: number | undefined, leaseDurationSeconds = 15): LeaseRecord => ({
  holderIdentity, leaseDurationSeconds, leaseTransitions: 3, ...(renewTime === undefined ? {} : { renewTime, acquireTime: renewTime - 60_000 }),
});

test('take-over decision table', () => {
  const table: [string, LeaseRecord | undefined, number, LeaseDecision][] = [
    ['no lease: create it', undefined, T, { action: 'create' }],
    ['ours: renew', held('me', T - 1000), T, { action: 'renew' }],
    ['ours even if expired: renew (the update is still guarded by resourceVersion)', held('me', T - 60_000), T, { action: 'renew' }],
    ['released: take at once', held('', T), T, { action: 'take', reason: 'released' }],
    ['held and fresh: wait until it expires', held('other', T - 1000), T, { action: 'wait', holder: 'other', expiresAt: T + 14_000 }],
    ['held, one millisecond before expiry: wait', held('other', T - 14_999), T, { action: 'wait', holder: 'other', expiresAt: T + 1 }],
    ['held, exactly at expiry: take', held('other', T - 15_000), T, { action: 'take', reason: 'expired' }],
    ['held, long expired: take', held('other', T - 3_600_000), T, { action: 'take', reason: 'expired' }],
    ['a released lease of 1 s', held('other', T - 999, 1), T, { action: 'wait', holder: 'other', expiresAt: T + 1 }],
    ['never renewed: expired', held('other', undefined), T, { action: 'take', reason: 'expired' }],
  ];
  for (const [name, record, now, want] of table) assert.deepEqual(decideLease(record, now, 'me'), want, name);
});

test('claiming keeps acquireTime on renewal and counts transitions on a change of holder', () => {
  const ours = claimedRecord(held('me', T - 2000), 'me', T, 15);
  assert.deepEqual(ours, { ...held('me', T - 2000), renewTime: T });
  assert.deepEqual(claimedRecord(held('other', T - 20_000), 'me', T, 15), { holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: T, renewTime: T, leaseTransitions: 4 });
  assert.deepEqual(claimedRecord(undefined, 'me', T, 15), { holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: T, renewTime: T, leaseTransitions: 0 });
  const released = releasedRecord(ours, T + 5);
  assert.deepEqual(released, { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: T + 5, renewTime: T + 5, leaseTransitions: 3 });
  assert.equal(leaseExpiresAt(released), T + 1005);
});

test('Lease spec round trip: MicroTime with six fractional digits, strings read back', () => {
  const spec = specFromRecord({ holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: T, renewTime: T + 123, leaseTransitions: 2 });
  const json = JSON.parse(JSON.stringify(spec)) as Record<string, unknown>;
  assert.equal(json['renewTime'], new Date(T + 123).toISOString().replace('Z', '000Z'));
  assert.match(String(json['renewTime']), /\.\d{6}Z$/);
  assert.deepEqual(recordFromSpec(json as never), { holderIdentity: 'me', leaseDurationSeconds: 15, acquireTime: T, renewTime: T + 123, leaseTransitions: 2 });
  assert.deepEqual(recordFromSpec(undefined), { holderIdentity: '', leaseDurationSeconds: 0, leaseTransitions: 0 });
});

/** One Lease in memory; each candidate gets its own view, which the test can cut off. */
function memoryLease() {
  let stored: { record: LeaseRecord; rv: number } | undefined;
  let writes = 0;
  const view = (name: string) => {
    const state = { down: false };
    const check = () => { if (state.down) throw new NetbootError(Errors.KubeApiUnavailable, `${name}: API server unreachable`); };
    const store: LeaseStore = {
      description: 'Lease test/lock',
      async get() { check(); return stored === undefined ? undefined : { record: stored.record, resourceVersion: String(stored.rv) }; },
      async create(record) { check(); if (stored !== undefined) return 'conflict'; stored = { record, rv: ++writes }; return 'ok'; },
      async update(record, rv) { check(); if (stored === undefined || String(stored.rv) !== rv) return 'conflict'; stored = { record, rv: ++writes }; return 'ok'; },
    };
    return { store, state };
  };
  return { view, current: () => stored?.record };
}

function candidate(clock: FakeClock, lease: ReturnType<typeof memoryLease>, id: string, timeline: string[]) {
  const { store, state } = lease.view(id);
  const errors: string[] = [];
  let signal: AbortSignal | undefined;
  const elector = new LeaderElector({
    identity: id, store, clock,
    onStartedLeading: (s) => { signal = s; timeline.push(`${clock.now() - T} LEADING ${id}`); },
    onStoppedLeading: () => timeline.push(`${clock.now() - T} STOPPED ${id}`),
    onError: (e) => errors.push(e.code),
  });
  const stop = new AbortController();
  const done = elector.run(stop.signal);
  return { elector, state, errors, stop, done, signal: () => signal };
}

test('one candidate creates the lease, leads, and renews every retry period', async () => {
  const clock = new FakeClock(T);
  const lease = memoryLease();
  const timeline: string[] = [];
  const a = candidate(clock, lease, 'a', timeline);
  await settle();
  assert.deepEqual(timeline, ['0 LEADING a']);
  assert.equal(a.elector.isLeader(), true);
  await clock.advance(6000);
  assert.equal(lease.current()?.renewTime, T + 6000);
  assert.equal(lease.current()?.acquireTime, T);
  a.stop.abort();
  await a.done;
  assert.equal(lease.current()?.holderIdentity, '', 'released on a graceful stop');
  assert.equal(a.signal()?.aborted, true);
});

test('a leader that cannot renew stops at the renew deadline; the other takes over only after the lease expired', async () => {
  const clock = new FakeClock(T);
  const lease = memoryLease();
  const timeline: string[] = [];
  const a = candidate(clock, lease, 'a', timeline);
  await settle();
  const b = candidate(clock, lease, 'b', timeline);
  await clock.advance(4000);
  assert.deepEqual(timeline, ['0 LEADING a']);
  a.state.down = true; // a is cut off from the API server right after its renewal at t=4000
  await clock.advance(30_000);
  assert.deepEqual(timeline, ['0 LEADING a', '14000 STOPPED a', '19000 LEADING b']);
  assert.ok(a.errors.includes('NB4003'), 'the loss is reported as LeaderLost');
  assert.equal(a.signal()?.aborted, true);
  assert.equal(lease.current()?.holderIdentity, 'b');
  assert.equal(lease.current()?.leaseTransitions, 1);
  a.state.down = false;
  await clock.advance(10_000);
  assert.equal(timeline.length, 3, 'a campaigns again but waits, b keeps renewing');
  for (const c of [a, b]) c.stop.abort();
  await Promise.all([a.done, b.done]);
});

test('a graceful stop releases the lease and the other candidate leads within a retry period', async () => {
  const clock = new FakeClock(T);
  const lease = memoryLease();
  const timeline: string[] = [];
  const a = candidate(clock, lease, 'a', timeline);
  await settle();
  const b = candidate(clock, lease, 'b', timeline);
  await clock.advance(5000);
  a.stop.abort();
  await a.done;
  await clock.advance(2000);
  assert.deepEqual(timeline, ['0 LEADING a', '5000 STOPPED a', '6000 LEADING b']);
  b.stop.abort();
  await b.done;
});

test('the leader waits for its work to end before releasing, and does not release if that takes too long', async () => {
  const clock = new FakeClock(T);
  const lease = memoryLease();
  const { store } = lease.view('a');
  let finishWork = () => {};
  const elector = new LeaderElector({ identity: 'a', store, clock, onStartedLeading: (signal) => new Promise<void>((r) => { signal.addEventListener('abort', () => { finishWork = r; }); }) });
  const stop = new AbortController();
  const done = elector.run(stop.signal);
  await clock.advance(3000);
  stop.abort();
  await clock.advance(1000);
  assert.equal(lease.current()?.holderIdentity, 'a', 'work still running: not released');
  finishWork();
  await done;
  assert.equal(lease.current()?.holderIdentity, '');

  const lease2 = memoryLease();
  const stuck = new LeaderElector({ identity: 'a', store: lease2.view('a').store, clock, onStartedLeading: () => new Promise<void>(() => {}) });
  const stop2 = new AbortController();
  const done2 = stuck.run(stop2.signal);
  await clock.advance(1000);
  stop2.abort();
  await clock.advance(20_000);
  await done2;
  assert.equal(lease2.current()?.holderIdentity, 'a', 'never released while its work may still write; the lease expires instead');
});

test('two candidates racing for a new lease: exactly one leads', async () => {
  const clock = new FakeClock(T);
  const lease = memoryLease();
  const timeline: string[] = [];
  const cs = ['a', 'b', 'c'].map((id) => candidate(clock, lease, id, timeline));
  await clock.advance(10_000);
  assert.equal(timeline.length, 1, timeline.join(', '));
  for (const c of cs) c.stop.abort();
  await Promise.all(cs.map((c) => c.done));
});

test('settings must leave room: retryPeriod < renewDeadline < leaseDuration', () => {
  const store = memoryLease().view('x').store;
  assert.throws(() => new LeaderElector({ identity: 'x', store, onStartedLeading: () => {}, renewDeadlineSeconds: 15 }), /renewDeadline < leaseDuration/);
  assert.throws(() => new LeaderElector({ identity: 'x', store, onStartedLeading: () => {}, leaseDurationSeconds: 1.5 }), /positive integer/);
});
