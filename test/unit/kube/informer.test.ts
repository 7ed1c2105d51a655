import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Informer } from '../../../src/kube/informer.ts';
import type { ListWatchSource, WatchEvent } from '../../../src/kube/informer.ts';
import { applyWatchEvent, diffRelist, objectKey, splitKey } from '../../../src/kube/cache.ts';
import type { NetbootError } from '../../../src/errors.ts';
import { FakeClock, settle } from '../../support/fake-clock.ts';

interface Obj { metadata: { name: string; namespace?: string; resourceVersion: string }; data?: string }
const obj = (name: string, rv: string, data?: string): Obj => ({ metadata: { name, namespace: 'ns', resourceVersion: rv }, ...(data === undefined ? {} : { data }) });

/** A source the test scripts: the list's content, and each watch as a handle. */
function fakeSource() {
  const state = { items: [] as Obj[], rv: '1', listError: undefined as Error | undefined };
  const watches: { rv: string; emit: (e: WatchEvent) => void; end: () => void; fail: (err: unknown) => void; signal: AbortSignal }[] = [];
  const source: ListWatchSource<Obj> = {
    resource: 'things.test',
    async list() {
      if (state.listError !== undefined) throw state.listError;
      return { items: [...state.items], resourceVersion: state.rv };
    },
    watch(rv, onEvent, signal) {
      return new Promise((resolve, reject) => {
        signal.addEventListener('abort', () => resolve(), { once: true });
        watches.push({ rv, emit: onEvent, end: resolve, fail: reject, signal });
      });
    },
  };
  const current = () => { const w = watches.at(-1); assert.ok(w !== undefined); return w; };
  return { state, watches, source, current };
}

function record(informer: Informer<Obj>) {
  const seen: string[] = [];
  for (const ev of ['add', 'update', 'delete'] as const) informer.on(ev, (key) => seen.push(`${ev} ${key} ${informer.get(key)?.data ?? '-'}`));
  return seen;
}

test('keys are namespace/name, or name when cluster-scoped', () => {
  assert.equal(objectKey(obj('a', '1')), 'ns/a');
  assert.equal(objectKey({ metadata: { name: 'n1' } }), 'n1');
  assert.deepEqual(splitKey('ns/a'), { namespace: 'ns', name: 'a' });
  assert.deepEqual(splitKey('n1'), { name: 'n1' });
});

test('a relist diff emits deletes for vanished keys, adds, and updates only where the resourceVersion moved', () => {
  const cached = new Map([['ns/a', obj('a', '1')], ['ns/b', obj('b', '2')], ['ns/c', obj('c', '3')]]);
  const { cache, changes } = diffRelist(cached, [obj('a', '1'), obj('b', '5'), obj('d', '6')]);
  assert.deepEqual(changes, [{ event: 'delete', key: 'ns/c' }, { event: 'update', key: 'ns/b' }, { event: 'add', key: 'ns/d' }]);
  assert.deepEqual([...cache.keys()], ['ns/a', 'ns/b', 'ns/d']);
});

test('watch events: a repeated resourceVersion is no change; bookmarks only move the resourceVersion', () => {
  const cache = new Map<string, Obj>();
  assert.deepEqual(applyWatchEvent(cache, { type: 'ADDED', object: obj('a', '1') }), { change: { event: 'add', key: 'ns/a' }, resourceVersion: '1' });
  assert.deepEqual(applyWatchEvent(cache, { type: 'MODIFIED', object: obj('a', '1') }), { resourceVersion: '1' });
  assert.deepEqual(applyWatchEvent(cache, { type: 'BOOKMARK', object: { metadata: { resourceVersion: '9' } } }), { resourceVersion: '9' });
  assert.deepEqual(applyWatchEvent(cache, { type: 'DELETED', object: obj('a', '10') }), { change: { event: 'delete', key: 'ns/a' }, resourceVersion: '10' });
  assert.deepEqual(applyWatchEvent(cache, { type: 'DELETED', object: obj('a', '11') }), { resourceVersion: '11' });
});

test('lists, syncs, then hands listeners keys after the cache holds the new object', async () => {
  const clock = new FakeClock();
  const f = fakeSource();
  f.state.items = [obj('a', '1', 'v1')];
  f.state.rv = '1';
  const informer = new Informer(f.source, { clock });
  const seen = record(informer);
  assert.equal(informer.hasSynced(), false);
  informer.start();
  assert.equal(await informer.waitForSync(), true);
  await settle();
  assert.equal(f.current().rv, '1', 'the watch starts at the list resourceVersion');
  f.current().emit({ type: 'MODIFIED', object: obj('a', '2', 'v2') });
  f.current().emit({ type: 'ADDED', object: obj('b', '3', 'b1') });
  f.current().emit({ type: 'DELETED', object: obj('a', '4', 'v2') });
  assert.deepEqual(seen, ['add ns/a v1', 'update ns/a v2', 'add ns/b b1', 'delete ns/a -']);
  assert.deepEqual(informer.keys(), ['ns/b']);
  assert.equal(informer.resourceVersion(), '4');
  await informer.stop();
});

test('a failed watch restarts with backoff from the last resourceVersion, without relisting', async () => {
  const clock = new FakeClock();
  const f = fakeSource();
  const errors: [string, number][] = [];
  const informer = new Informer(f.source, { clock, backoff: { baseMs: 100, maxMs: 1000 }, onError: (e: NetbootError, ms) => errors.push([e.code, ms]) });
  informer.start();
  await settle();
  f.current().emit({ type: 'ADDED', object: obj('a', '7') });
  const network = Object.assign(new Error('fetch failed'), { cause: new Error('connect ECONNREFUSED 127.0.0.1:6443') });
  f.current().fail(network);
  await settle();
  assert.equal(f.watches.length, 1, 'waiting out the backoff');
  await clock.advance(100);
  assert.equal(f.watches.length, 2);
  assert.equal(f.current().rv, '7');
  f.current().fail(Object.assign(new Error('Internal Server Error'), { statusCode: 500 }));
  await clock.advance(199);
  assert.equal(f.watches.length, 2, 'the second failure waits twice as long');
  await clock.advance(1);
  assert.equal(f.watches.length, 3);
  assert.deepEqual(errors, [['NB4001', 100], ['NB4005', 200]]);
  assert.equal(informer.stats().lists, 1);
  await informer.stop();
});

test('a failed list is retried with backoff too, and the informer is not synced meanwhile', async () => {
  const clock = new FakeClock();
  const f = fakeSource();
  f.state.listError = Object.assign(new Error('forbidden'), { code: 403, body: '{"kind":"Status","message":"things is forbidden"}' });
  const messages: string[] = [];
  const informer = new Informer(f.source, { clock, backoff: { baseMs: 100, maxMs: 1000 }, onError: (e) => messages.push(String(e)) });
  informer.start();
  await clock.advance(50);
  assert.equal(informer.hasSynced(), false);
  assert.match(messages[0] ?? '', /^NB4004: list of things\.test was refused \(HTTP 403: things is forbidden\)/);
  f.state.listError = undefined;
  await clock.advance(100);
  assert.equal(informer.hasSynced(), true);
  await informer.stop();
});

test('410 Gone, as an error or as an ERROR event, relists and emits what was missed', async () => {
  const clock = new FakeClock();
  const f = fakeSource();
  f.state.items = [obj('a', '1', 'a1'), obj('b', '1', 'b1')];
  const informer = new Informer(f.source, { clock });
  const seen = record(informer);
  informer.start();
  await settle();
  seen.length = 0;
  await clock.advance(60_000);
  // Meanwhile a was updated and b deleted, and the history is compacted.
  f.state.items = [obj('a', '5', 'a2')];
  f.state.rv = '6';
  f.current().emit({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 1 (5)' } });
  await settle();
  assert.deepEqual(seen, ['delete ns/b -', 'update ns/a a2']);
  assert.equal(f.current().rv, '6');
  f.state.items = [];
  f.state.rv = '9';
  await clock.advance(60_000);
  f.current().fail(Object.assign(new Error('Gone'), { statusCode: 410 }));
  await settle();
  assert.deepEqual(seen.slice(2), ['delete ns/a -']);
  assert.equal(informer.stats().relistsAfterGone, 2);
  assert.equal(informer.stats().failures, 0, 'a 410 is not a failure: no backoff');
  await informer.stop();
});

test('the watchdog restarts a silent watch; events and bookmarks keep it alive', async () => {
  const clock = new FakeClock();
  const f = fakeSource();
  const informer = new Informer(f.source, { clock, watchdogMs: 10_000 });
  informer.start();
  await settle();
  await clock.advance(6000);
  f.current().emit({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '3' } } });
  await clock.advance(9000);
  assert.equal(f.watches.length, 1, 'the bookmark reset the watchdog');
  await clock.advance(1000);
  assert.equal(f.watches.length, 2, 'silent for 10 s: restarted');
  assert.equal(f.watches[0]?.signal.aborted, true, 'the old watch was aborted');
  assert.equal(f.current().rv, '3');
  assert.equal(informer.stats().watchdogRestarts, 1);
  await informer.stop();
});

test('a watch that closes at once without events backs off instead of spinning', async () => {
  const clock = new FakeClock();
  const f = fakeSource();
  const informer = new Informer(f.source, { clock, backoff: { baseMs: 500, maxMs: 1000 } });
  informer.start();
  await settle();
  f.current().end();
  await clock.advance(499);
  assert.equal(f.watches.length, 1);
  await clock.advance(1);
  assert.equal(f.watches.length, 2);
  await clock.advance(5000);
  f.current().end();
  await settle();
  assert.equal(f.watches.length, 3, 'a watch that lived long enough resumes at once');
  await informer.stop();
});

test('stop ends the loop, aborts the watch and leaves no timer behind', async () => {
  const clock = new FakeClock();
  const f = fakeSource();
  const informer = new Informer(f.source, { clock });
  const pending = informer.waitForSync();
  await informer.stop();
  assert.equal(await pending, false);
  const again = new Informer(f.source, { clock });
  again.start();
  await settle();
  await again.stop();
  assert.equal(f.current().signal.aborted, true);
  assert.equal(clock.pending(), 0);
});

test('a 410 right after a fresh relist backs off instead of spinning', async () => {
  const clock = new FakeClock();
  const f = fakeSource();
  const informer = new Informer(f.source, { clock, backoff: { baseMs: 1000, maxMs: 1000 } });
  informer.start();
  await clock.advance(30_000);
  f.current().fail(Object.assign(new Error('Gone'), { statusCode: 410 }));
  await settle();
  assert.equal(f.watches.length, 2, 'a 410 after a healthy watch relists at once');
  f.current().emit({ type: 'ERROR', object: { code: 410, message: 'too old resource version' } });
  await clock.advance(999);
  assert.equal(f.watches.length, 2, 'the second, straight after the relist, waits');
  await clock.advance(1);
  assert.equal(f.watches.length, 3);
  assert.equal(informer.stats().lists, 3);
  await informer.stop();
});
