import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateAmtPolicy } from '../../../src/controller/evaluate/amtpolicy.ts';
import { evaluateClass } from '../../../src/controller/evaluate/class.ts';
import { evaluateProfile } from '../../../src/controller/evaluate/profile.ts';
import { LATER, NOW, amtPolicy, condition, machine, machineClass, profile, withGeneration, withSpec, withStatus } from './builders.ts';

/** status, reason and message of one condition. */
const pick = (status: Parameters<typeof condition>[0], type: string) => {
  const c = condition(status, type);
  return [c.status, c.reason, c.message];
};

const machines = [
  machine('52:54:00:00:00:01', withStatus({ machineClass: 'qemu', profile: 'ubuntu' })),
  machine('52:54:00:00:00:02', withStatus({ machineClass: 'qemu', profile: 'ubuntu' })),
  machine('52:54:00:00:00:03', withStatus({ machineClass: 'other', profile: 'rescue' })),
  machine('52:54:00:00:00:04'),
];

test('MachineClass: matchedMachines counts status.machineClass; Ready when profile (and AMT policy) exist', () => {
  const cls = machineClass('qemu', 'ubuntu', withGeneration(4), withSpec({ amtPolicy: 'corp' }));
  const { status, events } = evaluateClass({ machineClass: cls, machines, profiles: new Set(['ubuntu']), amtPolicies: new Set(['corp']), now: NOW });
  assert.equal(status.matchedMachines, 2);
  assert.equal(status.observedGeneration, 4);
  assert.deepEqual(status.conditions?.map((c) => [c.type, c.status, c.reason]), [
    ['Ready', 'True', 'Ready'], ['ProfileResolved', 'True', 'ProfileFound'], ['AmtPolicyResolved', 'True', 'AmtPolicyFound'],
    ['Reconciling', 'False', 'Ready'], ['Stalled', 'False', 'Ready'],
  ]);
  assert.equal(condition(status, 'Ready').message, 'assigns BootProfile "ubuntu" to 2 machines');
  assert.deepEqual(events, []);
});

test('MachineClass: missing profile or AMT policy makes Ready False with a Warning; no AmtPolicyResolved without spec.amtPolicy', () => {
  const cls = machineClass('qemu', 'ubuntu', withSpec({ amtPolicy: 'corp' }));
  const missing = evaluateClass({ machineClass: cls, machines, profiles: new Set(), amtPolicies: new Set(), now: NOW });
  assert.equal(condition(missing.status, 'Ready').reason, 'ProfileNotFound');
  assert.equal(condition(missing.status, 'AmtPolicyResolved').reason, 'AmtPolicyNotFound');
  // A missing reference waits for a person: Stalled (kstatus Failed), not Reconciling.
  assert.deepEqual(pick(missing.status, 'Stalled'), ['True', 'ProfileNotFound', condition(missing.status, 'Ready').message]);
  assert.deepEqual(pick(missing.status, 'Reconciling').slice(0, 2), ['False', 'Stalled']);
  assert.deepEqual(missing.events.map((e) => [e.type, e.reason]), [['Warning', 'ReferenceMissing'], ['Warning', 'ReferenceMissing']]);
  const noPolicy = evaluateClass({ machineClass: machineClass('qemu', 'ubuntu', withStatus(missing.status)), machines, profiles: new Set(['ubuntu']), amtPolicies: new Set(), now: LATER });
  assert.deepEqual(noPolicy.status.conditions?.map((c) => c.type), ['Ready', 'ProfileResolved', 'Reconciling', 'Stalled'], 'the stale AmtPolicyResolved is dropped');
  assert.equal(condition(noPolicy.status, 'Ready').lastTransitionTime, '2026-11-23T11:00:00Z');
  assert.equal(condition(noPolicy.status, 'Stalled').lastTransitionTime, '2026-11-23T11:00:00Z', 'Stalled flipped back');
  assert.equal(condition(noPolicy.status, 'Reconciling').lastTransitionTime, '2026-11-23T10:00:00Z', 'Reconciling was False throughout');
  assert.deepEqual(noPolicy.events, []);
});

test('BootProfile: machines counts status.profile; a valid template is Ready', () => {
  const p = profile('ubuntu', withGeneration(2), withSpec({ ipxe: { kernel: 'http://{{ serverAddress }}/vmlinuz', initrds: ['{{ httpBase }}/initrd'], cmdline: 'host={{ hostname }} rack={{ labels.rack }} uuid={{ uuid }} arch={{ arch }}' } }));
  const { status, events } = evaluateProfile({ profile: p, machines, now: NOW });
  assert.equal(status.machines, 2);
  assert.equal(status.observedGeneration, 2);
  assert.deepEqual(status.conditions?.map((c) => [c.type, c.status, c.reason]), [
    ['Ready', 'True', 'Ready'], ['TemplateValid', 'True', 'Valid'], ['Reconciling', 'False', 'Ready'], ['Stalled', 'False', 'Ready'],
  ]);
  assert.deepEqual(events, []);
});

test('BootProfile: an unknown template field is named with the spec field it is in', () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ kernel: 'http://x/vmlinuz', cmdline: 'ip={{ ipaddress }}' }, 'spec.ipxe.cmdline uses {{ ipaddress }}'],
    [{ kernel: 'http://x/vmlinuz', initrds: ['ok', '{{ httpbase }}/initrd'] }, 'spec.ipxe.initrds[1] uses {{ httpbase }}'],
    [{ chain: 'http://{{ server }}/boot.ipxe' }, 'spec.ipxe.chain uses {{ server }}'],
    [{ script: '#!ipxe\nchain {{ httpBase }}/{{ macaddr }}\n' }, 'spec.ipxe.script uses {{ macaddr }}'],
  ];
  for (const [ipxe, expected] of cases) {
    const r = evaluateProfile({ profile: profile('p', withSpec({ ipxe })), machines: [], now: NOW });
    const c = condition(r.status, 'TemplateValid');
    assert.equal(c.status, 'False', expected);
    assert.equal(c.reason, 'UnknownTemplateField');
    assert.equal(c.message, `${expected}, which is not a template field (known: mac, uuid, hostname, arch, serverAddress, httpBase, labels.<key>)`);
    assert.equal(condition(r.status, 'Ready').reason, 'UnknownTemplateField');
    assert.deepEqual(pick(r.status, 'Stalled'), ['True', 'UnknownTemplateField', c.message]);
    assert.deepEqual(r.events.map((e) => [e.type, e.reason]), [['Warning', 'InvalidSpec']]);
    const again = evaluateProfile({ profile: profile('p', withSpec({ ipxe }), withStatus(r.status)), machines: [], now: LATER });
    assert.deepEqual(again.events, [], 'one event per new problem');
  }
});

test('AmtNetworkPolicy: valid spec without a certificate is Ready; its machines are counted, no certificate block', () => {
  const { status, events } = evaluateAmtPolicy({ policy: amtPolicy('corp', withGeneration(5)), machines, now: NOW });
  assert.equal(status.observedGeneration, 5);
  assert.deepEqual(status.conditions?.map((c) => [c.type, c.status, c.reason]), [
    ['Ready', 'True', 'Ready'], ['ConfigValid', 'True', 'Valid'], ['Reconciling', 'False', 'Ready'], ['Stalled', 'False', 'Ready'],
  ]);
  // Never seen by an agent: matched, but no window and no suffix yet.
  assert.deepEqual(status.machines, { matched: machines.length, suffixOk: 0, windowOpen: 0, windowExpired: 0 });
  assert.equal(status.certificate, undefined);
  assert.deepEqual(events, []);
});

test('AmtNetworkPolicy: an invalid combination that bypassed the CRD (standalone YAML) is ConfigValid False naming the rule', () => {
  const valid = amtPolicy('corp');
  // The schema rejects it too; build it past the parser as a stale object from an older CRD would arrive.
  const invalid = { ...valid, spec: { ...valid.spec, hostAddressing: 'static' as const, amtAddressing: 'dhcp' as const } };
  const { status, events } = evaluateAmtPolicy({ policy: invalid, machines: [], now: NOW });
  const c = condition(status, 'ConfigValid');
  assert.equal(c.status, 'False');
  assert.equal(c.reason, 'InvalidCombination');
  assert.match(c.message, /static host IP with DHCP AMT/i);
  assert.equal(condition(status, 'Ready').reason, 'InvalidCombination');
  assert.deepEqual(pick(status, 'Stalled'), ['True', 'InvalidCombination', c.message]);
  assert.deepEqual(pick(status, 'Reconciling').slice(0, 2), ['False', 'Stalled']);
  assert.deepEqual(events.map((e) => [e.type, e.reason]), [['Warning', 'InvalidSpec']]);
});
