import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BootPlan } from '../../../src/boot/plan.ts';
import { canonical, planDigest } from '../../../src/boot/plan-digest.ts';
import { planFrom, labYaml } from '../../support/dhcp.ts';

test('canonical JSON sorts keys and drops undefined fields', () => {
  assert.equal(canonical({ b: 1, a: { d: [2, { y: 1, x: undefined }], c: 'x' } }), '{"a":{"c":"x","d":[2,{"y":1}]},"b":1}');
});

test('the digest ignores generation and insertion order but sees every change', () => {
  const plan = planFrom(labYaml('proxy', `---
apiVersion: netboot.dev/v1alpha1
kind: MachineClass
metadata: {name: all}
spec: {default: true, profile: hello}
---
apiVersion: netboot.dev/v1alpha1
kind: BootMachine
metadata: {name: 52-54-00-00-00-01}
spec: {mac: '52:54:00:00:00:01'}
---
apiVersion: netboot.dev/v1alpha1
kind: BootMachine
metadata: {name: 52-54-00-00-00-02}
spec: {mac: '52:54:00:00:00:02'}
`));
  assert.equal(plan.machines.size, 2);
  const again: BootPlan = { ...plan, generation: plan.generation + 7, machines: new Map([...plan.machines].reverse()), profiles: new Map([...plan.profiles].reverse()) };
  assert.equal(planDigest(again), planDigest(plan));
  assert.match(planDigest(plan), /^[0-9a-f]{32}$/);
  const changedNetwork: BootPlan = { ...plan, network: { ...plan.network, unknownMachines: plan.network.unknownMachines === 'boot' ? 'ignore' : 'boot' } };
  assert.notEqual(planDigest(changedNetwork), planDigest(plan));
  const firstClass = plan.classes[0];
  assert.ok(firstClass !== undefined, 'the lab plan has a class');
  const changedClass: BootPlan = { ...plan, classes: [{ ...firstClass, spec: { ...firstClass.spec, priority: (firstClass.spec.priority ?? 0) + 1 } }, ...plan.classes.slice(1)] };
  assert.notEqual(planDigest(changedClass), planDigest(plan));
});
