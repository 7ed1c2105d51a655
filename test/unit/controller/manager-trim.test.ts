/**
 * What the controller's caches keep of an object (trim.ts): only its own
 * managedFields entry, no last-applied annotation, and the repeated parts
 * shared between objects, with every value a reader sees unchanged, so the
 * apply no-op check answers as it did on the untrimmed object.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Interner, OWN_MANAGER, trimObject } from '../../../src/controller/manager/trim.ts';
import { applyWouldChange } from '../../../src/kube/apply-diff.ts';

const condition = (type: string, status: string, reason: string, message: string) =>
  ({ type, status, reason, message, observedGeneration: 1, lastTransitionTime: '2026-11-23T15:26:08Z' });

const conditionFields = { '.': {}, 'f:lastTransitionTime': {}, 'f:message': {}, 'f:observedGeneration': {}, 'f:reason': {}, 'f:status': {}, 'f:type': {} };

/** A BootMachine as the API server sends it (JSON text, so every call parses fresh copies, as a watch does). */
function machineJson(name: string, lastApplied = false): string {
  return JSON.stringify({
    apiVersion: 'netboot.dev/v1alpha1', kind: 'BootMachine',
    metadata: {
      name, namespace: 'lab', uid: `uid-${name}`, generation: 1, resourceVersion: '7',
      labels: { 'example.com/rack': 'r5' },
      ...(lastApplied ? { annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":"blob"}', keep: 'me' } } : {}),
      managedFields: [
        { apiVersion: 'netboot.dev/v1alpha1', fieldsType: 'FieldsV1', manager: OWN_MANAGER, operation: 'Apply', subresource: 'status', time: '2026-11-23T15:26:08Z',
          fieldsV1: { 'f:status': { 'f:conditions': { 'k:{"type":"Ready"}': conditionFields, 'k:{"type":"ClassResolved"}': conditionFields }, 'f:machineClass': {}, 'f:observedGeneration': {}, 'f:profile': {} } } },
        { apiVersion: 'netboot.dev/v1alpha1', fieldsType: 'FieldsV1', manager: 'netboot-agent', operation: 'Apply', subresource: 'status', time: '2026-11-23T15:27:00Z',
          fieldsV1: { 'f:status': { 'f:boot': { 'f:phase': {} } } } },
        { apiVersion: 'netboot.dev/v1alpha1', fieldsType: 'FieldsV1', manager: 'kubectl', operation: 'Update', time: '2026-11-23T15:25:15Z', fieldsV1: { 'f:spec': { 'f:mac': {} } } },
      ],
    },
    spec: { mac: '02:00:05:00:07:00', network: 'bench', netboot: 'allow' },
    status: {
      observedGeneration: 1, machineClass: 'class-05', profile: 'linux-b', boot: { phase: 'Discovered' },
      conditions: [condition('Ready', 'True', 'Ready', 'boots BootProfile "linux-b" of MachineClass "class-05"'), condition('ClassResolved', 'True', 'ClassMatched', 'MachineClass "class-05" matches (priority 12)')],
    },
  });
}

type Json = Record<string, any>;

test('keeps only the controller\'s managedFields entry and drops only the last-applied annotation', () => {
  const raw = JSON.parse(machineJson('m1', true)) as Json;
  const trimmed = trimObject(JSON.parse(machineJson('m1', true)) as Json, new Interner());
  assert.deepEqual(trimmed['metadata']['managedFields'], [raw['metadata']['managedFields'][0]]);
  assert.deepEqual(trimmed['metadata']['annotations'], { keep: 'me' });
  // Everything else reads exactly as sent.
  const { metadata: _m, ...rest } = trimmed;
  const { metadata: _r, ...rawRest } = raw;
  assert.deepEqual(rest, rawRest);
  const { managedFields: _tf, annotations: _ta, ...meta } = trimmed['metadata'];
  const { managedFields: _rf, annotations: _ra, ...rawMeta } = raw['metadata'];
  assert.deepEqual(meta, rawMeta);
});

test('objects with the same managedFields tree share one frozen copy', () => {
  const interner = new Interner();
  const a = trimObject(JSON.parse(machineJson('a')) as Json, interner);
  const b = trimObject(JSON.parse(machineJson('b')) as Json, interner);
  const treeA = a['metadata']['managedFields'][0]['fieldsV1'];
  assert.equal(treeA, b['metadata']['managedFields'][0]['fieldsV1'], 'one shared tree');
  assert.ok(Object.isFrozen(treeA) && Object.isFrozen(treeA['f:status']['f:conditions']['k:{"type":"Ready"}']), 'frozen to the leaves');
  // A different tree is not merged with it.
  const other = JSON.parse(machineJson('c')) as Json;
  delete other['metadata']['managedFields'][0]['fieldsV1']['f:status']['f:profile'];
  const c = trimObject(other, interner);
  assert.notEqual(c['metadata']['managedFields'][0]['fieldsV1'], treeA);
  assert.equal(interner.sizes().trees, 2);
});

test('repeated strings go through the intern table; unique ones (names, uids, specs) do not', () => {
  const interner = new Interner();
  trimObject(JSON.parse(machineJson('a')) as Json, interner);
  const after1 = interner.sizes().strings;
  trimObject(JSON.parse(machineJson('b')) as Json, interner);
  // The second machine differs only in name and uid, which are not interned: no new entries.
  assert.equal(interner.sizes().strings, after1);
  assert.ok(after1 >= 10, `conditions, labels, status and managedFields scalars interned (${after1})`);
});

test('the intern tables start afresh at their cap instead of growing', () => {
  const interner = new Interner({ maxStrings: 3, maxTrees: 1 });
  for (const s of ['a', 'b', 'c']) interner.string(s);
  assert.equal(interner.sizes().strings, 3);
  assert.equal(interner.string('d'), 'd');
  assert.equal(interner.sizes().strings, 1);
  const t1 = interner.tree({ x: {} });
  interner.tree({ y: {} });
  assert.equal(interner.sizes().trees, 1);
  assert.notEqual(interner.tree({ x: {} }), t1, 'the old tree was forgotten');
  assert.equal(interner.string('x'.repeat(300)).length, 300, 'long strings pass through');
});

test('trimming is idempotent and the apply no-op check answers as on the untrimmed object', () => {
  const interner = new Interner();
  const raw = JSON.parse(machineJson('m')) as Json;
  const once = trimObject(JSON.parse(machineJson('m')) as Json, interner);
  const twice = trimObject(structuredClone(once), interner);
  assert.deepEqual(twice, once);
  const body = (status: Json) => ({ apiVersion: 'netboot.dev/v1alpha1', kind: 'BootMachine', metadata: { name: 'm', namespace: 'lab' }, status });
  const same = body({ observedGeneration: 1, machineClass: 'class-05', profile: 'linux-b', conditions: raw['status']['conditions'] });
  const dropsProfile = body({ observedGeneration: 1, machineClass: 'class-05', conditions: raw['status']['conditions'] });
  const changed = body({ observedGeneration: 1, machineClass: 'class-06', profile: 'linux-b', conditions: raw['status']['conditions'] });
  for (const [desired, expected] of [[same, false], [dropsProfile, true], [changed, true]] as const) {
    assert.equal(applyWouldChange(raw, desired, OWN_MANAGER, 'status'), expected);
    assert.equal(applyWouldChange(once, desired, OWN_MANAGER, 'status'), expected);
  }
});
