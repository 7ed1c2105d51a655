import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyWouldChange, dropsOwned, holds, ownedFields } from '../../../src/kube/apply-diff.ts';

const ready = (status: string, lastTransitionTime = '2026-11-23T10:00:00Z', reason = 'AgentsReady') => ({ type: 'Ready', status, reason, message: 'm', lastTransitionTime, observedGeneration: 2 });

test('holds: desired values must be present; other fields and defaults are ignored', () => {
  const table: [string, unknown, unknown, boolean][] = [
    ['equal scalars', { a: 1 }, { a: 1 }, true],
    ['changed scalar', { a: 1 }, { a: 2 }, false],
    ['extra fields in current (another manager, defaults)', { a: 1, boot: { phase: 'x' } }, { a: 1 }, true],
    ['missing field', {}, { a: 1 }, false],
    ['undefined in desired is not applied', { a: 1 }, { a: 1, b: undefined }, true],
    ['nested object', { a: { b: 1, c: 2 } }, { a: { b: 1 } }, true],
    ['list of scalars, same', { l: [1, 2] }, { l: [1, 2] }, true],
    ['list of scalars, reordered', { l: [2, 1] }, { l: [1, 2] }, false],
    ['list of objects, defaults inside items', { l: [{ x: 1, d: 0 }] }, { l: [{ x: 1 }] }, true],
    ['list longer in current', { l: [1, 2, 3] }, { l: [1, 2] }, false],
    ['conditions: same but lastTransitionTime differs', { conditions: [ready('True', '2026-01-01T00:00:00Z')] }, { conditions: [ready('True')] }, true],
    ['conditions: status flipped', { conditions: [ready('False')] }, { conditions: [ready('True')] }, false],
    ['conditions: reason changed', { conditions: [ready('True', undefined, 'Other')] }, { conditions: [ready('True')] }, false],
    ['conditions: matched by type, not position', { conditions: [{ ...ready('True'), type: 'Degraded' }, ready('True')] }, { conditions: [ready('True')] }, true],
    ['conditions: ours missing', { conditions: [{ ...ready('True'), type: 'Degraded' }] }, { conditions: [ready('True')] }, false],
  ];
  for (const [name, current, desired, want] of table) assert.equal(holds(current, desired), want, name);
});

test('dropsOwned: a field we own but no longer set would be removed by the apply', () => {
  const owned = { 'f:status': { 'f:agentsReady': {}, 'f:conditions': { '.': {}, 'k:{"type":"Ready"}': { '.': {}, 'f:status': {} } }, 'f:amt': { 'f:window': {} } } };
  const full = { status: { agentsReady: '1/1', conditions: [ready('True')], amt: { window: { closesAt: 'x' } } } };
  assert.equal(dropsOwned(owned, full), false);
  assert.equal(dropsOwned(owned, { status: { ...full.status, agentsReady: undefined } }), true, 'top-level field dropped');
  assert.equal(dropsOwned(owned, { status: { ...full.status, amt: {} } }), true, 'nested field dropped');
  assert.equal(dropsOwned(owned, { status: { ...full.status, conditions: [{ ...ready('True'), type: 'Other' }] } }), true, 'keyed list entry dropped');
  assert.equal(dropsOwned(undefined, {}), false, 'nothing owned yet');
});

test('ownedFields picks our Apply entry for the right subresource', () => {
  const managedFields = [
    { manager: 'netboot-controller', operation: 'Apply', fieldsV1: { 'f:spec': {} } },
    { manager: 'netboot-controller', operation: 'Apply', subresource: 'status', fieldsV1: { 'f:status': { 'f:a': {} } } },
    { manager: 'netboot-agent', operation: 'Apply', subresource: 'status', fieldsV1: { 'f:status': { 'f:boot': {} } } },
  ];
  assert.deepEqual(ownedFields(managedFields, 'netboot-controller', 'status'), { 'f:status': { 'f:a': {} } });
  assert.deepEqual(ownedFields(managedFields, 'netboot-controller'), { 'f:spec': {} });
  assert.equal(ownedFields(managedFields, 'kubectl'), undefined);
});

test('applyWouldChange combines both, and a missing object always needs the apply', () => {
  const body = { apiVersion: 'netboot.dev/v1alpha1', kind: 'BootNetwork', metadata: { name: 'lab', namespace: 'default' }, status: { agentsReady: '0/0' } };
  const managedFields = [{ manager: 'm', operation: 'Apply', subresource: 'status', fieldsV1: { 'f:status': { 'f:agentsReady': {}, 'f:observedGeneration': {} } } }];
  const current = { ...body, metadata: { ...body.metadata, managedFields, uid: 'u' }, spec: { mode: 'proxy' }, status: { agentsReady: '0/0', observedGeneration: 1 } };
  assert.equal(applyWouldChange(undefined, body, 'm', 'status'), true);
  assert.equal(applyWouldChange(current, body, 'm', 'status'), true, 'observedGeneration would be dropped');
  assert.equal(applyWouldChange(current, { ...body, status: { agentsReady: '0/0', observedGeneration: 1 } }, 'm', 'status'), false);
  assert.equal(applyWouldChange(current, { ...body, status: { agentsReady: '1/1', observedGeneration: 1 } }, 'm', 'status'), true);
});
