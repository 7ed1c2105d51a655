import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateNetwork } from '../../../src/controller/evaluate/network.ts';
import type { NetworkInput } from '../../../src/controller/evaluate/network.ts';
import type { BootNetwork } from '../../../src/api/v1alpha1/bootnetwork.ts';
import { AGENT, LATER, NOW, condition, network, observedDaemonSet, report, withGeneration, withSpec, withStatus } from './builders.ts';

const input = (n: BootNetwork, extra: Partial<NetworkInput> = {}): NetworkInput => ({
  network: n, daemonSet: observedDaemonSet({ desired: 2, ready: 2 }), planDigest: 'digest-a', profiles: new Set(['ubuntu']),
  discovered: 0, agent: AGENT, now: NOW, ...extra,
});
/** The network as the API would hold it after the controller wrote `status` (agents' reports kept). */
const written = (n: BootNetwork, status: object): BootNetwork => ({ ...n, status: { ...n.status, ...status } });

test('a healthy network: Ready=True with observedGeneration == generation, agents 2/2, every condition in order', () => {
  const n = network('lab', withGeneration(3), withStatus({ planGeneration: 1, planDigest: 'digest-a', agentReports: [report('n1', 1), report('n2', 1)] }));
  const { status, daemonSet, events } = evaluateNetwork(input(n));
  assert.equal(status.observedGeneration, 3);
  assert.deepEqual(status.conditions?.map((c) => [c.type, c.status, c.reason]), [
    ['Ready', 'True', 'Ready'], ['ConfigValid', 'True', 'Valid'], ['AgentsReady', 'True', 'AgentsReady'],
    ['PlanServed', 'True', 'PlanServed'], ['DiscoveryCapped', 'False', 'BelowCap'],
    ['Reconciling', 'False', 'Ready'], ['Stalled', 'False', 'Ready'],
  ]);
  assert.ok(status.conditions?.every((c) => c.observedGeneration === 3 && c.lastTransitionTime === '2026-11-23T10:00:00Z'));
  assert.deepEqual(status.agents, { desired: 2, ready: 2 });
  assert.equal(status.agentsReady, '2/2');
  assert.equal(status.planGeneration, 1);
  assert.equal(status.planServed, 1);
  assert.equal(daemonSet.metadata?.name, 'netboot-agent-lab');
  assert.ok(!('agentReports' in status), 'agents own agentReports');
  assert.deepEqual(events, [{ type: 'Normal', reason: 'AgentsReady', message: '2/2 agents ready' }]);
});

test('standalone objects have no generation: observedGeneration 0', () => {
  const n = network('lab');
  assert.equal(evaluateNetwork(input(n)).status.observedGeneration, 0);
});

test('planGeneration: starts at 1, stays while the digest does, +1 only when it changes', () => {
  const first = evaluateNetwork(input(network('lab'))).status;
  assert.equal(first.planGeneration, 1);
  assert.equal(first.planDigest, 'digest-a');
  const again = evaluateNetwork(input(written(network('lab'), first))).status;
  assert.equal(again.planGeneration, 1);
  const changed = evaluateNetwork(input(written(network('lab'), first), { planDigest: 'digest-b' })).status;
  assert.equal(changed.planGeneration, 2);
  assert.equal(changed.planDigest, 'digest-b');
  const back = evaluateNetwork(input(written(network('lab'), changed), { planDigest: 'digest-a' })).status;
  assert.equal(back.planGeneration, 3, 'a digest seen before is still a new generation: agents compare digests, not history');
});

test('PlanServed: an agent behind the new generation holds Ready False; planServed is the oldest', () => {
  const n = network('lab', withStatus({ planGeneration: 1, planDigest: 'digest-a', agentReports: [report('n1', 2), report('n2', 1)] }));
  const { status } = evaluateNetwork(input(n, { planDigest: 'digest-b' }));
  assert.equal(status.planGeneration, 2);
  assert.equal(status.planServed, 1);
  const c = condition(status, 'PlanServed');
  assert.equal(c.status, 'False');
  assert.equal(c.reason, 'PlanNotServed');
  assert.match(c.message, /n2 \(1\)/);
  assert.equal(condition(status, 'Ready').reason, 'PlanNotServed');
});

test('PlanServed: an agent that never matched counts as generation 0; a ready agent without a report is not confirmed', () => {
  const never = evaluateNetwork(input(network('lab', withStatus({ planGeneration: 4, planDigest: 'digest-a', agentReports: [report('n1', 4), report('n2', undefined)] }))));
  assert.equal(never.status.planServed, 0);
  assert.match(condition(never.status, 'PlanServed').message, /n2 \(none\)/);
  const missing = evaluateNetwork(input(network('lab', withStatus({ planGeneration: 4, planDigest: 'digest-a', agentReports: [report('n1', 4)] }))));
  assert.equal(condition(missing.status, 'PlanServed').status, 'False');
  assert.match(condition(missing.status, 'PlanServed').message, /1 of 2 ready agents/);
});

test('no agent reports: planServed absent, PlanServed False NoAgentReports', () => {
  const { status } = evaluateNetwork(input(network('lab')));
  assert.equal(status.planServed, undefined);
  assert.equal(condition(status, 'PlanServed').reason, 'NoAgentReports');
  assert.equal(status.counters, undefined);
});

test('counters are summed over the agents\' reports', () => {
  const n = network('lab', withStatus({ planGeneration: 1, planDigest: 'digest-a', agentReports: [report('n1', 1, { offers: 3, acks: 2 }), report('n2', 1, { offers: 4, tftpBytes: 100 })] }));
  assert.deepEqual(evaluateNetwork(input(n)).status.counters, { offers: 7, acks: 2, tftpBytes: 100 });
});

test('agents 0/0: no node matches the selector, Ready False NoNodes naming the selector', () => {
  const n = network('lab', withSpec({ nodeSelector: { 'netboot.dev/pxe': 'true' } }));
  const { status } = evaluateNetwork(input(n, { daemonSet: observedDaemonSet({ desired: 0, ready: 0 }) }));
  assert.deepEqual(status.agents, { desired: 0, ready: 0 });
  assert.equal(status.agentsReady, '0/0');
  const ready = condition(status, 'Ready');
  assert.equal(ready.status, 'False');
  assert.equal(ready.reason, 'NoNodes');
  assert.match(ready.message, /no node matches nodeSelector \{"kubernetes.io\/os":"linux","netboot.dev\/pxe":"true"\}/);
  assert.equal(condition(status, 'AgentsReady').reason, 'NoNodes');
});

test('DaemonSet missing, not yet seen by its controller, rolling, or with unready agents', () => {
  const cases: [NetworkInput['daemonSet'], string, RegExp][] = [
    [undefined, 'DaemonSetPending', /does not exist yet/],
    [{ ...observedDaemonSet({ desired: 0, ready: 0 }), status: undefined }, 'RollingOut', /has not processed generation 1/],
    [observedDaemonSet({ generation: 3, observedGeneration: 2, desired: 2, ready: 2 }), 'RollingOut', /generation 3/],
    [observedDaemonSet({ desired: 3, ready: 3, updated: 1 }), 'RollingOut', /1\/3 agents run the current pod template/],
    [observedDaemonSet({ desired: 3, ready: 1 }), 'AgentsNotReady', /1\/3 agents ready/],
  ];
  for (const [ds, reason, message] of cases) {
    const { status } = evaluateNetwork(input(network('lab'), { daemonSet: ds }));
    const c = condition(status, 'AgentsReady');
    assert.equal(c.status, 'False', reason);
    assert.equal(c.reason, reason);
    assert.match(c.message, message);
    assert.equal(condition(status, 'Ready').reason, reason);
  }
});

test('AgentsReady flips: Normal when agents become ready, Warning when they stop being ready, nothing on repeats', () => {
  const healthy = { planGeneration: 1, planDigest: 'digest-a', agentReports: [report('n1', 1), report('n2', 1)] };
  const start = network('lab', withStatus(healthy));
  const notReady = evaluateNetwork(input(start, { daemonSet: observedDaemonSet({ desired: 2, ready: 0 }) }));
  assert.deepEqual(notReady.events, [], 'a new network that is not ready yet is no news');
  const ready = evaluateNetwork(input(written(start, notReady.status), { now: LATER }));
  assert.deepEqual(ready.events.map((e) => [e.type, e.reason]), [['Normal', 'AgentsReady']]);
  const repeat = evaluateNetwork(input(written(start, ready.status), { now: LATER }));
  assert.deepEqual(repeat.events, []);
  const lost = evaluateNetwork(input(written(start, repeat.status), { daemonSet: observedDaemonSet({ desired: 2, ready: 1 }), now: LATER }));
  assert.deepEqual(lost.events, [{ type: 'Warning', reason: 'AgentsNotReady', message: lost.status.conditions?.find((c) => c.type === 'AgentsReady')?.message }]);
});

test('discovery cap: DiscoveryCapped True with the count and the fix, one Warning event, Ready stays True', () => {
  const n = network('lab', withSpec({ discovery: { maxMachines: 10, perMinute: 60 } }), withStatus({ planGeneration: 1, planDigest: 'digest-a', agentReports: [report('n1', 1), report('n2', 1)] }));
  const below = evaluateNetwork(input(n, { discovered: 9 }));
  assert.equal(condition(below.status, 'DiscoveryCapped').status, 'False');
  const capped = evaluateNetwork(input(written(n, below.status), { discovered: 10, discoveryCapped: 37, now: LATER }));
  const c = condition(capped.status, 'DiscoveryCapped');
  assert.equal(c.status, 'True');
  assert.equal(c.reason, 'CapReached');
  assert.match(c.message, /created 10 BootMachines, the cap of spec.discovery.maxMachines \(10\); 37 more unknown MACs were seen but not recorded/);
  assert.match(c.message, /raise spec.discovery.maxMachines/);
  assert.equal(capped.status.discovered, 10);
  assert.equal(capped.status.discoveryCapped, 37);
  assert.deepEqual(capped.events.filter((e) => e.reason === 'DiscoveryCapped').map((e) => e.type), ['Warning']);
  assert.equal(condition(capped.status, 'Ready').status, 'True');
  assert.match(condition(capped.status, 'Ready').message, /discovery is capped/);
  const still = evaluateNetwork(input(written(n, capped.status), { discovered: 10, discoveryCapped: 40, now: LATER }));
  assert.deepEqual(still.events.filter((e) => e.reason === 'DiscoveryCapped'), [], 'one event per cap, not per evaluation');
  const ignoring = evaluateNetwork(input(network('lab', withSpec({ unknownMachines: 'ignore' }))));
  assert.equal(condition(ignoring.status, 'DiscoveryCapped').reason, 'DiscoveryDisabled');
});

test('a missing defaultProfile: ConfigValid False, Ready False ProfileNotFound, one Warning', () => {
  const n = network('lab', withSpec({ defaultProfile: 'gone' }), withStatus({ planGeneration: 1, planDigest: 'digest-a', agentReports: [report('n1', 1), report('n2', 1)] }));
  const r = evaluateNetwork(input(n));
  assert.equal(condition(r.status, 'ConfigValid').reason, 'ProfileNotFound');
  assert.equal(condition(r.status, 'Ready').reason, 'ProfileNotFound');
  assert.match(condition(r.status, 'Ready').message, /BootProfile "gone", which does not exist in namespace lab/);
  assert.ok(r.events.some((e) => e.type === 'Warning' && e.reason === 'ReferenceMissing'));
  assert.ok(!evaluateNetwork(input(written(n, r.status))).events.some((e) => e.reason === 'ReferenceMissing'));
  const ok = evaluateNetwork(input(n, { profiles: new Set(['gone']) }));
  assert.equal(condition(ok.status, 'ConfigValid').status, 'True');
});

test('lastTransitionTime stays while status holds and moves when it flips; observedGeneration follows the spec', () => {
  const healthy = { planGeneration: 1, planDigest: 'digest-a', agentReports: [report('n1', 1), report('n2', 1)] };
  const first = evaluateNetwork(input(network('lab', withGeneration(1), withStatus(healthy)))).status;
  const second = evaluateNetwork(input(written(network('lab', withGeneration(2), withStatus(healthy)), first), { now: LATER })).status;
  assert.equal(condition(second, 'Ready').lastTransitionTime, '2026-11-23T10:00:00Z');
  assert.equal(condition(second, 'Ready').observedGeneration, 2);
  assert.equal(second.observedGeneration, 2);
  const third = evaluateNetwork(input(written(network('lab', withGeneration(2), withStatus(healthy)), second), { now: LATER, daemonSet: observedDaemonSet({ desired: 2, ready: 1 }) })).status;
  assert.equal(condition(third, 'Ready').lastTransitionTime, '2026-11-23T11:00:00Z');
  assert.equal(condition(third, 'ConfigValid').lastTransitionTime, '2026-11-23T10:00:00Z');
});

test('a second evaluation of an unchanged world returns an identical status (so the Applier writes nothing)', () => {
  const n = network('lab', withStatus({ planGeneration: 1, planDigest: 'digest-a', agentReports: [report('n1', 1), report('n2', 1)] }));
  const a = evaluateNetwork(input(n)).status;
  const b = evaluateNetwork(input(written(n, a), { now: LATER })).status;
  assert.deepEqual(b, a);
});

test('Reconciling and Stalled restate Ready for kstatus: rollout and plan reasons reconcile, NoNodes and a missing profile stall', () => {
  const served = withStatus({ planGeneration: 1, planDigest: 'digest-a', agentReports: [report('n1', 1), report('n2', 1)] });
  const cases: [string, NetworkInput, string, 'Reconciling' | 'Stalled'][] = [
    ['no DaemonSet yet', input(network('lab', served), { daemonSet: undefined }), 'DaemonSetPending', 'Reconciling'],
    ['DaemonSet generation not observed', input(network('lab', served), { daemonSet: observedDaemonSet({ generation: 3, observedGeneration: 2, desired: 2, ready: 2 }) }), 'RollingOut', 'Reconciling'],
    ['agents not ready', input(network('lab', served), { daemonSet: observedDaemonSet({ desired: 2, ready: 0 }) }), 'AgentsNotReady', 'Reconciling'],
    ['an agent on an old plan', input(network('lab', withStatus({ planGeneration: 1, planDigest: 'digest-a', agentReports: [report('n1', 1), report('n2', 1)] })), { planDigest: 'digest-b' }), 'PlanNotServed', 'Reconciling'],
    ['no agent reports', input(network('lab')), 'NoAgentReports', 'Reconciling'],
    ['no node selected', input(network('lab', served), { daemonSet: observedDaemonSet({ desired: 0, ready: 0 }) }), 'NoNodes', 'Stalled'],
    ['defaultProfile missing', input(network('lab', served, withSpec({ defaultProfile: 'gone' }))), 'ProfileNotFound', 'Stalled'],
  ];
  for (const [name, given, reason, abnormal] of cases) {
    const { status } = evaluateNetwork(given);
    const ready = condition(status, 'Ready');
    assert.equal(ready.status, 'False', name);
    assert.equal(ready.reason, reason, name);
    const on = condition(status, abnormal);
    assert.deepEqual([on.status, on.reason, on.message], ['True', ready.reason, ready.message], `${name}: ${abnormal} carries Ready's reason and message`);
    const off = condition(status, abnormal === 'Reconciling' ? 'Stalled' : 'Reconciling');
    assert.equal(off.status, 'False', name);
    assert.equal(off.reason, abnormal, `${name}: the other one names ${abnormal}`);
    assert.equal(off.message, `Ready is False with reason ${reason}, which ${abnormal === 'Reconciling' ? 'clears by itself (see Reconciling)' : 'does not clear by itself (see Stalled)'}`);
  }
});

test('Reconciling and Stalled keep their lastTransitionTime unless they flip, and do not move with Ready\'s message', () => {
  const at = (iso: string) => new Date(iso);
  const healthy = { planGeneration: 1, planDigest: 'digest-a', agentReports: [report('n1', 1), report('n2', 1)] };
  const n = network('lab', withGeneration(4), withStatus(healthy));
  const t0 = evaluateNetwork(input(n)).status;
  // Capped discovery changes Ready's message only: the kstatus pair is byte-identical.
  const capped = evaluateNetwork(input(written(network('lab', withGeneration(4), withSpec({ discovery: { maxMachines: 1, perMinute: 60 } }), withStatus(healthy)), t0), { discovered: 1, now: LATER })).status;
  assert.notEqual(condition(capped, 'Ready').message, condition(t0, 'Ready').message);
  assert.deepEqual(condition(capped, 'Reconciling'), condition(t0, 'Reconciling'));
  assert.deepEqual(condition(capped, 'Stalled'), condition(t0, 'Stalled'));
  // Rolling out: Reconciling flips to True now; Stalled stays False (new reason, same transition time).
  const rolling = evaluateNetwork(input(written(n, t0), { daemonSet: observedDaemonSet({ desired: 2, ready: 1 }), now: LATER })).status;
  assert.deepEqual([condition(rolling, 'Reconciling').status, condition(rolling, 'Reconciling').lastTransitionTime], ['True', '2026-11-23T11:00:00Z']);
  assert.deepEqual([condition(rolling, 'Stalled').status, condition(rolling, 'Stalled').reason, condition(rolling, 'Stalled').lastTransitionTime], ['False', 'Reconciling', '2026-11-23T10:00:00Z']);
  // The nodes go away: Stalled flips to True, Reconciling back to False, both now.
  const stalled = evaluateNetwork(input(written(n, rolling), { daemonSet: observedDaemonSet({ desired: 0, ready: 0 }), now: at('2026-11-23T12:00:00Z') })).status;
  assert.deepEqual([condition(stalled, 'Stalled').status, condition(stalled, 'Stalled').lastTransitionTime], ['True', '2026-11-23T12:00:00Z']);
  assert.deepEqual([condition(stalled, 'Reconciling').status, condition(stalled, 'Reconciling').lastTransitionTime], ['False', '2026-11-23T12:00:00Z']);
  // Evaluated again later with nothing changed: identical, so the Applier writes nothing.
  const again = evaluateNetwork(input(written(n, stalled), { daemonSet: observedDaemonSet({ desired: 0, ready: 0 }), now: at('2026-11-23T13:00:00Z') })).status;
  assert.deepEqual(again.conditions, stalled.conditions);
  assert.ok(again.conditions?.every((c) => c.observedGeneration === 4));
});

test('mode dhcp with two agents: AgentsReady says one answers DHCP and one stands by, with the fix; one Warning when the second node arrives', () => {
  const dhcp = { mode: 'dhcp' as const, dhcp: { pool: { start: '192.168.50.100', end: '192.168.50.101' }, router: '192.168.50.1', leaseSeconds: 600 } };
  const healthy = { planGeneration: 1, planDigest: 'digest-a', agentReports: [report('n1', 1)] };
  const one = evaluateNetwork(input(network('lab', withSpec(dhcp), withStatus(healthy)), { daemonSet: observedDaemonSet({ desired: 1, ready: 1 }) }));
  assert.equal(condition(one.status, 'AgentsReady').message, '1/1 agents ready');
  assert.ok(!one.events.some((e) => e.reason === 'DhcpAgentsStandBy'));
  const two = evaluateNetwork(input(written(network('lab', withSpec(dhcp), withStatus(healthy)), one.status), { now: LATER }));
  assert.equal(condition(two.status, 'AgentsReady').status, 'True');
  assert.match(condition(two.status, 'AgentsReady').message, /2\/2 agents ready; mode dhcp: one agent answers DHCP and 1 agent stand by .*select one node with spec.nodeSelector/);
  assert.deepEqual(two.events.filter((e) => e.reason === 'DhcpAgentsStandBy').map((e) => e.type), ['Warning']);
  const again = evaluateNetwork(input(written(network('lab', withSpec(dhcp), withStatus(healthy)), two.status), { now: LATER }));
  assert.ok(!again.events.some((e) => e.reason === 'DhcpAgentsStandBy'), 'once, not on every reconcile');
  const proxy = evaluateNetwork(input(network('lab', withStatus(healthy))));
  assert.equal(condition(proxy.status, 'AgentsReady').message, '2/2 agents ready', 'proxy agents all answer: nothing to say');
});
