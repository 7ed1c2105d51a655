/**
 * Stale agentReports entries (src/controller/stale-reports.ts): which entries
 * go, when the controller looks, and the patch it sends. The API is a fake
 * recording calls; the real list and JSON patch run in
 * test/kube/controller-lifecycle.test.ts against kube-apiserver.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BootNetwork } from '../../../src/api/v1alpha1/bootnetwork.ts';
import { POD_CHECK_INTERVAL_MS, STALE_AFTER_MS, StaleReportPruner, removalPatch, reportsLookOff, staleEntries } from '../../../src/controller/stale-reports.ts';
import type { AgentReportsApi, StaleEntry } from '../../../src/controller/stale-reports.ts';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const at = (msAgo: number) => new Date(NOW - msAgo).toISOString().replace(/\.\d+Z$/, 'Z');
const report = (node: string, msAgo: number, planGeneration?: number) => ({ node, planDigest: 'd', ready: true, updatedAt: at(msAgo), ...(planGeneration === undefined ? {} : { planGeneration }) });

function network(reports: ReturnType<typeof report>[], planGeneration = 4): BootNetwork {
  return { apiVersion: 'netboot.dev/v1alpha1', kind: 'BootNetwork', metadata: { name: 'lab', namespace: 'ns' }, spec: {} as BootNetwork['spec'], status: { planGeneration, agentReports: reports } } as BootNetwork;
}

class FakeReportsApi implements AgentReportsApi {
  nodes = new Set<string>();
  lists = 0;
  removed: StaleEntry[][] = [];
  async agentNodes(namespace: string, selector: string): Promise<ReadonlySet<string>> {
    assert.equal(namespace, 'ns');
    assert.equal(selector, 'app=agent');
    this.lists++;
    return this.nodes;
  }
  async removeEntries(namespace: string, name: string, entries: readonly StaleEntry[]): Promise<void> {
    assert.equal(`${namespace}/${name}`, 'ns/lab');
    this.removed.push([...entries]);
  }
}

test('reportsLookOff: only an entry behind the published generation, or more entries than scheduled agents', () => {
  assert.equal(reportsLookOff([], 4, 2), false);
  assert.equal(reportsLookOff([report('a', 0, 4), report('b', 0, 4)], 4, 2), false);
  assert.equal(reportsLookOff([report('a', 0, 4), report('b', 0, 3)], 4, 2), true, 'one behind');
  assert.equal(reportsLookOff([report('a', 0, 4), report('b', 0)], 4, 2), true, 'one that never matched a digest');
  assert.equal(reportsLookOff([report('a', 0, 4), report('b', 0, 4)], 4, 1), true, 'more entries than agents');
  assert.equal(reportsLookOff([report('a', 0, 4)], undefined, undefined), false, 'nothing published, no DaemonSet status');
});

test('staleEntries: a node without an agent pod goes once its entry is old enough; the youngest sets the next look', () => {
  const reports = [report('live', STALE_AFTER_MS * 10), report('gone', STALE_AFTER_MS), report('new', 30_000), report('newer', 100_000)];
  const { stale, recheckInMs } = staleEntries(reports, new Set(['live']), NOW);
  assert.deepEqual(stale, [{ index: 1, node: 'gone' }], 'a pod keeps even an old entry; young entries wait');
  assert.equal(recheckInMs, STALE_AFTER_MS - 100_000);
  assert.deepEqual(staleEntries([report('x', 0)].map((r) => ({ ...r, updatedAt: 'garbage' })), new Set(), NOW).stale, [{ index: 0, node: 'x' }], 'an unreadable time counts as old');
});

test('removalPatch: highest index first, each removal guarded by a test of its node', () => {
  assert.deepEqual(removalPatch([{ index: 1, node: 'b' }, { index: 3, node: 'd' }]), [
    { op: 'test', path: '/status/agentReports/3/node', value: 'd' },
    { op: 'remove', path: '/status/agentReports/3' },
    { op: 'test', path: '/status/agentReports/1/node', value: 'b' },
    { op: 'remove', path: '/status/agentReports/1' },
  ]);
});

test('the pruner lists pods only when something is off, at most every POD_CHECK_INTERVAL_MS per network, and removes what is stale', async () => {
  const api = new FakeReportsApi();
  const pruner = new StaleReportPruner(api, (err) => { throw err; });
  api.nodes = new Set(['a']);

  assert.deepEqual(await pruner.prune(network([report('a', 0, 4)]), 'app=agent', 1, NOW), { removed: [] });
  assert.equal(api.lists, 0, 'all current: no list');

  const off = network([report('a', 0, 4), report('gone', STALE_AFTER_MS + 1, 2), report('young', 1000, 2)]);
  const first = await pruner.prune(off, 'app=agent', 1, NOW);
  assert.equal(api.lists, 1);
  assert.deepEqual(first.removed, [{ index: 1, node: 'gone' }]);
  assert.deepEqual(api.removed, [[{ index: 1, node: 'gone' }]]);
  assert.equal(first.recheckInMs, STALE_AFTER_MS - 1000, 'back when the young entry is old enough');

  const soon = await pruner.prune(off, 'app=agent', 1, NOW + 1000);
  assert.equal(api.lists, 1, 'rate-limited');
  assert.deepEqual(soon, { removed: [], recheckInMs: POD_CHECK_INTERVAL_MS - 1000 });

  await pruner.prune(off, 'app=agent', 1, NOW + POD_CHECK_INTERVAL_MS);
  assert.equal(api.lists, 2);
});

test('a failed list or removal is reported, not thrown: the network reconcile succeeds and the pruner looks again later', async () => {
  const api = new FakeReportsApi();
  const errors: string[] = [];
  const pruner = new StaleReportPruner(api, (err) => errors.push(String(err)));
  api.agentNodes = async () => { throw new Error('pods is forbidden'); };
  assert.deepEqual(await pruner.prune(network([report('gone', STALE_AFTER_MS, 1)]), 'app=agent', 1, NOW), { removed: [], recheckInMs: POD_CHECK_INTERVAL_MS });
  api.agentNodes = async () => new Set<string>();
  api.removeEntries = async () => { throw new Error('the test operation failed'); };
  assert.deepEqual(await pruner.prune(network([report('gone', STALE_AFTER_MS, 1)]), 'app=agent', 1, NOW + POD_CHECK_INTERVAL_MS), { removed: [], recheckInMs: POD_CHECK_INTERVAL_MS });
  assert.deepEqual(errors, ['Error: pods is forbidden', 'Error: the test operation failed']);
});
