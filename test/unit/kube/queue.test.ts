import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WorkQueue } from '../../../src/kube/queue.ts';
import { backoffDelay, fullBucket, reserveToken } from '../../../src/kube/backoff.ts';
import { FakeClock, settle } from '../../support/fake-clock.ts';

/** A reconciler whose runs the test finishes by hand. */
function manual() {
  const log: string[] = [];
  const open = new Map<string, { resolve: () => void; reject: (e: Error) => void }[]>();
  const reconcile = (key: string) => new Promise<void>((resolve, reject) => {
    log.push(key);
    open.set(key, [...(open.get(key) ?? []), { resolve, reject }]);
  });
  const finish = async (key: string, err?: Error) => {
    const runs = open.get(key) ?? [];
    const run = runs.shift();
    assert.ok(run !== undefined, `${key} is not running`);
    if (err === undefined) run.resolve(); else run.reject(err);
    await settle();
  };
  const running = () => [...open.entries()].filter(([, r]) => r.length > 0).map(([k]) => k).sort();
  return { log, reconcile, finish, running, open };
}

test('backoff doubles from the base and stops at the max', () => {
  const policy = { baseMs: 5, maxMs: 1000 };
  assert.deepEqual([0, 1, 2, 3, 8, 9, 500].map((n) => backoffDelay(n, policy)), [0, 5, 10, 20, 640, 1000, 1000]);
});

test('the token bucket spends the burst, then spaces reservations by the rate', () => {
  const limit = { perSecond: 2, burst: 2 };
  let bucket = fullBucket(limit, 0);
  const waits: number[] = [];
  for (let i = 0; i < 4; i++) {
    const r = reserveToken(bucket, limit, 0);
    bucket = r.bucket;
    waits.push(r.waitMs);
  }
  assert.deepEqual(waits, [0, 0, 500, 1000]);
  assert.equal(reserveToken(bucket, limit, 10_000).waitMs, 0, 'refilled after a quiet period');
});

test('keys run in first-added order, and a queued key is not queued twice', async () => {
  const clock = new FakeClock();
  const q = new WorkQueue({ clock });
  const m = manual();
  for (const k of ['a', 'b', 'a', 'c', 'b']) q.add(k);
  assert.equal(q.depth(), 3);
  q.start(m.reconcile, 1);
  await settle();
  for (const k of ['a', 'b', 'c']) await m.finish(k);
  assert.deepEqual(m.log, ['a', 'b', 'c']);
  assert.equal(q.depth(), 0);
});

test('adding a key while it runs merges into exactly one more run afterwards', async () => {
  const q = new WorkQueue({ clock: new FakeClock() });
  const m = manual();
  q.start(m.reconcile, 4);
  q.add('a');
  await settle();
  q.add('a');
  q.add('a');
  q.add('a');
  await settle();
  assert.deepEqual(m.running(), ['a'], 'never two runs of one key, even with idle workers');
  assert.equal(q.depth(), 0, 'the dirty key waits for the running one');
  await m.finish('a');
  assert.deepEqual(m.log, ['a', 'a']);
  await m.finish('a');
  assert.deepEqual(m.log, ['a', 'a'], 'three adds during one run made one more run');
});

test('N workers run N different keys at once', async () => {
  const q = new WorkQueue({ clock: new FakeClock() });
  const m = manual();
  for (const k of ['a', 'b', 'c', 'd']) q.add(k);
  q.start(m.reconcile, 2);
  await settle();
  assert.deepEqual(m.running(), ['a', 'b']);
  assert.equal(q.depth(), 2);
  await m.finish('b');
  assert.deepEqual(m.running(), ['a', 'c']);
});

test('a failing key is retried with exponential backoff, reset by a success', async () => {
  const clock = new FakeClock();
  const errors: number[] = [];
  const q = new WorkQueue({ clock, backoff: { baseMs: 100, maxMs: 400 }, onError: (_k, _e, ms) => errors.push(ms) });
  const runs: number[] = [];
  let fail = 4;
  q.start(async () => {
    runs.push(clock.now());
    if (fail-- > 0) throw new Error('boom');
  });
  const t0 = clock.now();
  q.add('a');
  await clock.advance(2000);
  assert.deepEqual(runs.map((t) => t - t0), [0, 100, 300, 700, 1100]);
  assert.deepEqual(errors, [100, 200, 400, 400]);
  assert.equal(q.failures('a'), 0, 'success forgets the failures');
});

test('the retry rate limit spreads many failing keys out', async () => {
  const clock = new FakeClock();
  const q = new WorkQueue({ clock, backoff: { baseMs: 1, maxMs: 1 }, retryRate: { perSecond: 10, burst: 2 } });
  const runs: string[] = [];
  q.start(async (key) => {
    runs.push(`${key}@${clock.now() - t0}`);
    throw new Error('always');
  }, 8);
  const t0 = clock.now();
  for (const k of ['a', 'b', 'c', 'd']) q.add(k);
  await clock.advance(250);
  // First runs at 0; retries: two from the burst after 1 ms, then one per 100 ms.
  assert.deepEqual(runs.slice(0, 8), ['a@0', 'b@0', 'c@0', 'd@0', 'a@1', 'b@1', 'c@100', 'd@200']);
  await q.shutdown();
});

test('requeueAfterMs brings the key back later; an earlier add wins', async () => {
  const clock = new FakeClock();
  const q = new WorkQueue({ clock });
  const runs: number[] = [];
  const t0 = clock.now();
  q.start(async () => {
    runs.push(clock.now() - t0);
    return runs.length === 1 ? { requeueAfterMs: 1000 } : undefined;
  });
  q.add('a');
  await clock.advance(10);
  q.addAfter('a', 300);
  await clock.advance(2000);
  assert.deepEqual(runs, [0, 310]);
  assert.equal(q.waiting(), 0);
});

test('shutdown waits for running reconciles, drops delayed keys and ignores new adds', async () => {
  const clock = new FakeClock();
  const q = new WorkQueue({ clock });
  const m = manual();
  q.start(m.reconcile, 1);
  q.add('a');
  q.add('b');
  q.addAfter('c', 1000);
  await settle();
  let done = false;
  const stopping = q.shutdown().then(() => { done = true; });
  await settle();
  assert.equal(done, false, 'still waiting for a');
  q.add('d');
  await m.finish('a');
  await stopping;
  assert.equal(done, true);
  await clock.advance(5000);
  assert.deepEqual(m.log, ['a'], 'b was queued but not started; c and d never ran');
  assert.equal(clock.pending(), 0, 'no timer left behind');
});

test('shutdown with drain reconciles what is already queued', async () => {
  const q = new WorkQueue({ clock: new FakeClock() });
  const seen: string[] = [];
  for (const k of ['a', 'b', 'c']) q.add(k);
  q.start(async (k) => { seen.push(k); }, 1);
  await q.shutdown({ drain: true });
  assert.deepEqual(seen, ['a', 'b', 'c']);
});
