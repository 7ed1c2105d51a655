/**
 * kstatus (the cli-utils rules ported in test/support/kstatus.ts) on objects
 * of every kind as the controller writes them (conditions from
 * setConditions): a healthy object is Current, one whose status lags its
 * generation is InProgress. The Argo CD health check of the same object
 * must agree (Healthy / Progressing).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Kinds } from '../../src/api/v1alpha1/index.ts';
import { ConditionType, Reason } from '../../src/controller/reasons.ts';
import { objectAt } from '../../scripts/gen-argocd.ts';
import { REPO_ROOT } from '../support/fixtures.ts';
import { computeStatus } from '../support/kstatus.ts';
import { runHealthCheck } from './lua-health.ts';

const READY = { type: ConditionType.Ready, status: 'True', reason: Reason.Ready, message: 'in effect' } as const;

for (const { kind } of Kinds) {
  describe(kind, () => {
    const lua = join(REPO_ROOT, 'deploy/argocd', kind, 'health.lua');

    test('a healthy object is Current (and Healthy in Argo CD)', () => {
      const object = objectAt(kind, 5, 5, READY);
      assert.deepEqual(computeStatus(object), { status: 'Current', message: 'Resource is current', conditions: [] });
      assert.equal(runHealthCheck(lua, object).status, 'Healthy');
    });

    test('an object whose status lags its generation is InProgress (and Progressing in Argo CD)', () => {
      const object = objectAt(kind, 6, 5, READY);
      const message = `${kind} generation is 6, but latest observed generation is 5`;
      assert.deepEqual(computeStatus(object), {
        status: 'InProgress', message,
        conditions: [{ type: 'Reconciling', status: 'True', reason: 'LatestGenerationNotObserved', message }],
      });
      assert.equal(runHealthCheck(lua, object).status, 'Progressing');
    });
  });
}

describe('the ported rules themselves', () => {
  test('no status yet: kstatus cannot tell and says Current (Argo CD says Progressing)', () => {
    // checkGeneration skips the comparison when status.observedGeneration is absent.
    assert.equal(computeStatus(objectAt('BootNetwork', 1, undefined, undefined)).status, 'Current');
  });

  test('Ready=False alone does not change kstatus: only Reconciling and Stalled do', () => {
    const failing = objectAt('BootNetwork', 2, 2, { type: 'Ready', status: 'False', reason: Reason.NoNodes, message: 'no node matches' });
    assert.equal(computeStatus(failing).status, 'Current');
    const status = failing['status'] as { conditions: object[] };
    status.conditions.push({ type: 'Stalled', status: 'True', reason: Reason.NoNodes, message: 'no node matches' });
    assert.deepEqual(computeStatus(failing), { status: 'Failed', message: 'no node matches', conditions: [{ type: 'Stalled', status: 'True', reason: Reason.NoNodes, message: 'no node matches' }] });
    status.conditions.unshift({ type: 'Reconciling', status: 'True', reason: 'RollingOut', message: 'agents updating' });
    assert.equal(computeStatus(failing).status, 'InProgress');
  });

  test('deletionTimestamp wins over everything: Terminating', () => {
    const object = objectAt('BootMachine', 3, 2, READY);
    (object['metadata'] as Record<string, unknown>)['deletionTimestamp'] = '2026-01-10T12:00:00Z';
    assert.equal(computeStatus(object).status, 'Terminating');
  });

  test('a non-integer generation is an error, as NestedInt64 makes it', () => {
    const object = objectAt('BootProfile', 2, 2, READY);
    (object['metadata'] as Record<string, unknown>)['generation'] = '2';
    assert.throws(() => computeStatus(object), /metadata\.generation .* is not an integer/);
  });

  test('built-in kinds are refused, not guessed', () => {
    assert.throws(() => computeStatus({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'x' } }), /apps\/DaemonSet .* not ported/);
  });
});
