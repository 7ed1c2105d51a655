import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setConditions } from '../../../src/api/v1alpha1/conditions.ts';

const t0 = new Date('2026-11-23T10:00:00.123Z');
const t1 = new Date('2026-11-23T11:00:00Z');

test('lastTransitionTime moves only when status flips; observedGeneration always follows; other types are kept', () => {
  const first = setConditions(undefined, [{ type: 'Ready', status: 'False', reason: 'NoAgents', message: 'none' }], 1, t0);
  assert.deepEqual(first, [{ type: 'Ready', status: 'False', reason: 'NoAgents', message: 'none', lastTransitionTime: '2026-11-23T10:00:00Z', observedGeneration: 1 }]);
  const same = setConditions([...first, { type: 'Other', status: 'True', reason: 'X', message: '', lastTransitionTime: '2026-01-01T00:00:00Z' }],
    [{ type: 'Ready', status: 'False', reason: 'StillNone', message: 'still none' }], 2, t1);
  assert.equal(same.find((c) => c.type === 'Ready')?.lastTransitionTime, '2026-11-23T10:00:00Z');
  assert.equal(same.find((c) => c.type === 'Ready')?.observedGeneration, 2);
  assert.equal(same.find((c) => c.type === 'Ready')?.reason, 'StillNone');
  assert.ok(same.some((c) => c.type === 'Other'));
  const flipped = setConditions(same, [{ type: 'Ready', status: 'True', reason: 'AgentsReady', message: '' }], 2, t1);
  assert.equal(flipped.find((c) => c.type === 'Ready')?.lastTransitionTime, '2026-11-23T11:00:00Z');
});
