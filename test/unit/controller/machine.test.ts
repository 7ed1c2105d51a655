import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BOOT_STALL_MS, evaluateMachine } from '../../../src/controller/evaluate/machine.ts';
import type { MachineInput } from '../../../src/controller/evaluate/machine.ts';
import type { BootMachine } from '../../../src/api/v1alpha1/bootmachine.ts';
import { LATER, NOW, condition, machine, machineClass, network, withGeneration, withLabels, withSpec, withStatus } from './builders.ts';

const MAC = '52:54:00:12:34:56';
const lab = network('lab', withSpec({ defaultProfile: 'rescue' }));
const classes = [
  machineClass('qemu', 'ubuntu'),
  machineClass('arm', 'ubuntu-arm', withSpec({ priority: 10, selector: { architectures: ['uefi-arm64'] } })),
  machineClass('fallback', 'rescue', withSpec({ default: true, selector: undefined })),
];
const input = (m: BootMachine, extra: Partial<MachineInput> = {}): MachineInput => ({
  machine: m, network: lab, classes, profiles: new Set(['ubuntu', 'ubuntu-arm', 'rescue']), now: NOW, ...extra,
});
const written = (m: BootMachine, status: object): BootMachine => ({ ...m, status: { ...m.status, ...status } });
const booted = (boot: object) => withStatus({ boot: { network: 'lab', node: 'n1', ...boot } });

test('a selector match: class and profile resolved, Ready True, BootHealthy Unknown before any boot', () => {
  const { status, events } = evaluateMachine(input(machine(MAC, withGeneration(2))));
  assert.equal(status.machineClass, 'qemu');
  assert.equal(status.profile, 'ubuntu');
  assert.equal(status.observedGeneration, 2);
  assert.deepEqual(status.conditions?.map((c) => [c.type, c.status, c.reason]), [
    ['Ready', 'True', 'Ready'], ['ClassResolved', 'True', 'ClassMatched'], ['ProfileResolved', 'True', 'ProfileFound'], ['BootHealthy', 'Unknown', 'NotBooted'],
    ['Reconciling', 'False', 'Ready'], ['Stalled', 'False', 'Ready'],
  ]);
  assert.ok(!('boot' in status), 'agents own status.boot');
  assert.deepEqual(events, []);
});

test('facts from status.boot count: an arm64 firmware seen by an agent moves the machine to the arm class', () => {
  const { status } = evaluateMachine(input(machine(MAC, booted({ phase: 'Offered', lastSeen: '2026-11-23T09:59:00Z', firmware: { arch: 'uefi-arm64' } }))));
  assert.equal(status.machineClass, 'arm');
  assert.equal(status.profile, 'ubuntu-arm');
});

test('class change: status and a ClassChanged event "class a -> b"; none on the first evaluation or a repeat', () => {
  const m = machine(MAC);
  const first = evaluateMachine(input(m));
  assert.deepEqual(first.events, []);
  const labelled = machine(MAC, withLabels({ rack: 'r1' }));
  const vip = machineClass('vip', 'ubuntu', withSpec({ priority: 100, selector: { machineLabels: { matchLabels: { rack: 'r1' } } } }));
  const changed = evaluateMachine(input(written(labelled, first.status), { classes: [...classes, vip], now: LATER }));
  assert.equal(changed.status.machineClass, 'vip');
  assert.deepEqual(changed.events, [{ type: 'Normal', reason: 'ClassChanged', message: 'class qemu -> vip' }]);
  // Ready did not flip, so its transition time stays.
  assert.equal(condition(changed.status, 'Ready').lastTransitionTime, '2026-11-23T10:00:00Z');
  const repeat = evaluateMachine(input(written(labelled, changed.status), { classes: [...classes, vip], now: LATER }));
  assert.deepEqual(repeat.events, []);
  const none = evaluateMachine(input(written(machine('aa:bb:cc:00:00:01'), first.status), { classes: [machineClass('qemu', 'ubuntu')], network: network('bare') }));
  assert.deepEqual(none.events, [{ type: 'Normal', reason: 'ClassChanged', message: 'class qemu -> (none)' }]);
  assert.equal(none.status.machineClass, undefined);
});

test('resolution paths: default class, network default profile, pinned class, pinned profile', () => {
  const other = 'aa:bb:cc:00:00:01';
  const def = evaluateMachine(input(machine(other)));
  assert.equal(def.status.machineClass, 'fallback');
  assert.equal(condition(def.status, 'ClassResolved').reason, 'DefaultClass');
  const net = evaluateMachine(input(machine(other), { classes: [classes[0]!] }));
  assert.equal(net.status.machineClass, undefined);
  assert.equal(net.status.profile, 'rescue');
  assert.equal(condition(net.status, 'ClassResolved').reason, 'NetworkDefaultProfile');
  const pinned = evaluateMachine(input(machine(MAC, withSpec({ machineClass: 'fallback' }))));
  assert.equal(pinned.status.machineClass, 'fallback');
  assert.equal(condition(pinned.status, 'ClassResolved').reason, 'ClassPinned');
  const pinnedProfile = evaluateMachine(input(machine(MAC, withSpec({ profile: 'rescue' }))));
  assert.equal(pinnedProfile.status.profile, 'rescue');
  assert.equal(pinnedProfile.status.machineClass, 'qemu');
  assert.equal(condition(pinnedProfile.status, 'ClassResolved').reason, 'ProfilePinned');
});

test('classes limited to other networks do not apply (as in the agents\' plan)', () => {
  const elsewhere = machineClass('elsewhere', 'ubuntu', withSpec({ priority: 500, networks: ['other'] }));
  const { status } = evaluateMachine(input(machine(MAC), { classes: [...classes, elsewhere] }));
  assert.equal(status.machineClass, 'qemu');
});

test('nothing matches and no default: NoClassMatched, ProfileResolved ClassNotResolved, Ready False', () => {
  const { status } = evaluateMachine(input(machine('aa:bb:cc:00:00:01'), { classes: [classes[0]!], network: network('bare') }));
  assert.equal(condition(status, 'ClassResolved').reason, 'NoClassMatched');
  assert.equal(condition(status, 'ProfileResolved').reason, 'ClassNotResolved');
  const ready = condition(status, 'Ready');
  assert.equal(ready.status, 'False');
  assert.equal(ready.reason, 'NoClassMatched');
  assert.match(ready.message, /no MachineClass matches and the network has no defaultProfile/);
  assert.equal(status.profile, undefined);
});

test('pinned class missing, network missing', () => {
  const pinned = evaluateMachine(input(machine(MAC, withSpec({ machineClass: 'nope' }))));
  assert.equal(condition(pinned.status, 'ClassResolved').reason, 'ClassNotFound');
  assert.match(condition(pinned.status, 'Ready').message, /pinned MachineClass "nope" does not exist/);
  const { network: _n, ...rest } = input(machine(MAC, withSpec({ network: 'gone' })));
  const noNet = evaluateMachine(rest);
  assert.equal(condition(noNet.status, 'Ready').reason, 'NetworkNotFound');
  assert.match(condition(noNet.status, 'Ready').message, /BootNetwork "gone", which does not exist in namespace lab/);
});

test('missing profile: ProfileResolved False ProfileNotFound names the class; Ready False', () => {
  const { status } = evaluateMachine(input(machine(MAC), { profiles: new Set(['rescue']) }));
  assert.equal(status.profile, 'ubuntu', 'the resolved name is still shown');
  const c = condition(status, 'ProfileResolved');
  assert.equal(c.status, 'False');
  assert.equal(c.reason, 'ProfileNotFound');
  assert.equal(c.message, 'BootProfile "ubuntu" (from MachineClass "qemu") does not exist in namespace lab');
  assert.equal(condition(status, 'Ready').reason, 'ProfileNotFound');
});

test('deny: the agents\' refusal is policy, not a failure: BootHealthy True NetbootDenied, no BootFailed', () => {
  const m = machine(MAC, withSpec({ netboot: 'deny' }), booted({ phase: 'Stopped', lastBoot: '2026-11-23T09:00:00Z', stoppedReason: 'BootMachine 52-54-00-12-34-56 has netboot: deny' }));
  const { status, events } = evaluateMachine(input(m));
  assert.equal(condition(status, 'BootHealthy').reason, 'NetbootDenied');
  assert.equal(condition(status, 'Ready').status, 'True');
  assert.deepEqual(events, []);
});

test('boot failure: BootHealthy False with stoppedReason, one BootFailed Warning per failed boot', () => {
  const stopped = (lastBoot: string) => booted({ phase: 'Stopped', lastBoot, stoppedReason: 'BootProfile "ubuntu": template field {{ labels.rack }} has no value' });
  const m = machine(MAC, stopped('2026-11-23T09:00:00Z'));
  const first = evaluateMachine(input(m));
  const c = condition(first.status, 'BootHealthy');
  assert.equal(c.status, 'False');
  assert.equal(c.reason, 'BootStopped');
  assert.equal(c.message, 'last boot (started 2026-11-23T09:00:00Z, node n1) stopped: BootProfile "ubuntu": template field {{ labels.rack }} has no value');
  assert.equal(condition(first.status, 'Ready').reason, 'BootStopped');
  assert.deepEqual(first.events, [{ type: 'Warning', reason: 'BootFailed', message: c.message }]);
  const repeat = evaluateMachine(input(written(m, first.status), { now: LATER }));
  assert.deepEqual(repeat.events, [], 'the same failure is reported once');
  assert.equal(condition(repeat.status, 'BootHealthy').lastTransitionTime, '2026-11-23T10:00:00Z');
  const next = evaluateMachine(input(written(machine(MAC, stopped('2026-11-23T10:30:00Z')), { ...first.status }), { now: LATER }));
  assert.deepEqual(next.events.map((e) => e.reason), ['BootFailed'], 'a new boot that fails again is news');
});

test('a TFTP failure is a failure until a later transfer succeeds', () => {
  const history = [{ time: '2026-11-23T09:59:00Z', event: 'TftpFailed', node: 'n1', detail: 'ipxe.efi 0 bytes: client timed out' }];
  const failed = evaluateMachine(input(machine(MAC, booted({ phase: 'BootFileSent', lastBoot: '2026-11-23T09:58:00Z', lastSeen: '2026-11-23T09:59:00Z', history }))));
  assert.equal(condition(failed.status, 'BootHealthy').reason, 'TftpFailed');
  assert.match(condition(failed.status, 'BootHealthy').message, /client timed out/);
  assert.deepEqual(failed.events.map((e) => e.reason), ['BootFailed']);
  const ok = evaluateMachine(input(machine(MAC, booted({ phase: 'LoaderDownloaded', lastBoot: '2026-11-23T09:58:00Z', lastSeen: '2026-11-23T09:59:30Z', history: [...history, { time: '2026-11-23T09:59:30Z', event: 'TftpCompleted', node: 'n1' }] }))));
  assert.equal(condition(ok.status, 'BootHealthy').reason, 'BootInProgress');
});

test('a boot that goes quiet before its script stalls after BOOT_STALL_MS; recheckAt says when to look', () => {
  const m = machine(MAC, booted({ phase: 'LoaderDownloaded', lastBoot: '2026-11-23T09:55:00Z', lastSeen: '2026-11-23T09:56:00Z' }));
  const early = evaluateMachine(input(m));
  assert.equal(condition(early.status, 'BootHealthy').reason, 'BootInProgress');
  assert.equal(early.recheckAt?.toISOString(), new Date(Date.parse('2026-11-23T09:56:00Z') + BOOT_STALL_MS).toISOString());
  const late = evaluateMachine(input(written(m, early.status), { now: early.recheckAt! }));
  const c = condition(late.status, 'BootHealthy');
  assert.equal(c.status, 'False');
  assert.equal(c.reason, 'BootStalled');
  assert.match(c.message, /stalled at phase LoaderDownloaded: no packet for 10 min/);
  assert.equal(late.recheckAt, undefined);
  assert.deepEqual(late.events.map((e) => e.reason), ['BootFailed']);
  const done = evaluateMachine(input(machine(MAC, booted({ phase: 'ScriptServed', lastBoot: '2026-11-23T08:00:00Z', lastSeen: '2026-11-23T08:01:00Z' }))));
  assert.equal(condition(done.status, 'BootHealthy').reason, 'Booted');
  assert.equal(done.recheckAt, undefined);
});

test('Discovered: once, on the first evaluation of a discovered machine', () => {
  const m = machine(MAC, withLabels({ 'netboot.dev/discovered': 'true' }), withSpec({ network: 'lab', netboot: 'deny' }), booted({ phase: 'Stopped', stoppedReason: 'netboot: deny' }));
  const first = evaluateMachine(input(m));
  assert.deepEqual(first.events, [{ type: 'Normal', reason: 'Discovered', message: 'discovered on BootNetwork lab by the agent on node n1; spec.netboot is deny' }]);
  assert.deepEqual(evaluateMachine(input(written(m, first.status))).events, []);
  assert.deepEqual(evaluateMachine(input(machine(MAC))).events, [], 'pre-registered machines are not discovered');
});

test('stale condition types are dropped and the controller never writes boot or amt', () => {
  const m = machine(MAC, withStatus({ conditions: [{ type: 'Obsolete', status: 'True', reason: 'X', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }], boot: { phase: 'Offered' } }));
  const { status } = evaluateMachine(input(m));
  assert.ok(!status.conditions?.some((c) => c.type === 'Obsolete'));
  assert.deepEqual(Object.keys(status).sort(), ['conditions', 'machineClass', 'observedGeneration', 'profile']);
});

test('every Ready=False reason of a machine is terminal: Stalled True with Ready\'s reason and message, Reconciling False', () => {
  const cases: [string, MachineInput, string][] = [
    ['nothing matches', input(machine('aa:bb:cc:00:00:01'), { classes: [classes[0]!], network: network('bare') }), 'NoClassMatched'],
    ['pinned class missing', input(machine(MAC, withSpec({ machineClass: 'nope' }))), 'ClassNotFound'],
    ['profile missing', input(machine(MAC), { profiles: new Set(['rescue']) }), 'ProfileNotFound'],
    ['boot stopped', input(machine(MAC, booted({ phase: 'Stopped', lastBoot: '2026-11-23T09:00:00Z', stoppedReason: 'no script' }))), 'BootStopped'],
    ['boot stalled', input(machine(MAC, booted({ phase: 'Offered', lastBoot: '2026-11-23T09:00:00Z', lastSeen: '2026-11-23T09:00:00Z' }))), 'BootStalled'],
  ];
  for (const [name, given, reason] of cases) {
    const { status } = evaluateMachine(given);
    const ready = condition(status, 'Ready');
    assert.equal(ready.reason, reason, name);
    const stalled = condition(status, 'Stalled');
    assert.deepEqual([stalled.status, stalled.reason, stalled.message], ['True', reason, ready.message], name);
    const reconciling = condition(status, 'Reconciling');
    assert.deepEqual([reconciling.status, reconciling.reason], ['False', 'Stalled'], name);
  }
});

test('a failed boot that is followed by a good one: Stalled flips back to False, Reconciling stays False and keeps its time', () => {
  const failed = evaluateMachine(input(machine(MAC, booted({ phase: 'Stopped', lastBoot: '2026-11-23T09:00:00Z', stoppedReason: 'no script' }))));
  assert.equal(condition(failed.status, 'Stalled').status, 'True');
  const ok = evaluateMachine(input(written(machine(MAC, booted({ phase: 'ScriptServed', lastBoot: '2026-11-23T10:30:00Z' })), failed.status), { now: LATER }));
  assert.deepEqual(ok.status.conditions?.slice(-2).map((c) => [c.type, c.status, c.reason, c.lastTransitionTime]), [
    ['Reconciling', 'False', 'Ready', '2026-11-23T10:00:00Z'], ['Stalled', 'False', 'Ready', '2026-11-23T11:00:00Z'],
  ]);
});
