import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { kstatusConditions } from '../../../src/controller/evaluate/common.ts';
import { ConditionType, EventReason, Reason, TransientReasons, isTransientReason } from '../../../src/controller/reasons.ts';

const source = readFileSync(new URL('../../../src/controller/reasons.ts', import.meta.url), 'utf8');

for (const [name, table] of Object.entries({ ConditionType, Reason, EventReason })) {
  test(`${name}: CamelCase values equal to their keys, each with a doc comment (the docs page lists them)`, () => {
    for (const [key, value] of Object.entries(table)) {
      assert.equal(value, key);
      assert.match(value, /^[A-Z][A-Za-z0-9]*$/);
      assert.match(source, new RegExp(`/\\*\\* [^\\n]+ \\*/\\n\\s+${key}: '${value}',`), `${name}.${key} needs a one-line /** comment */`);
    }
  });
}

test('TransientReasons: exactly the reasons whose doc comment says Transient, so docs/conditions.md shows the list', () => {
  const commented = [...source.matchAll(/\/\*\* ([^\n]+) \*\/\n\s+(\w+): '\w+',/g)]
    .filter((m) => /Transient: as Ready's reason it sets Reconciling, not Stalled\./.test(m[1] ?? ''))
    .map((m) => m[2]);
  assert.deepEqual([...commented].sort(), [...TransientReasons].sort());
  assert.equal(new Set(TransientReasons).size, TransientReasons.length, 'no duplicates');
});

test('isTransientReason: the listed reasons; every other reason, and one added later, is terminal', () => {
  assert.deepEqual(TransientReasons, ['DaemonSetPending', 'RollingOut', 'AgentsNotReady', 'PlanNotServed', 'NoAgentReports']);
  for (const r of TransientReasons) assert.equal(isTransientReason(r), true, r);
  for (const r of [Reason.NoNodes, Reason.ProfileNotFound, Reason.AmtPolicyNotFound, Reason.UnknownTemplateField, Reason.InvalidCombination,
    Reason.NoClassMatched, Reason.ClassNotFound, Reason.NetworkNotFound, Reason.BootStopped, Reason.TftpFailed, Reason.BootStalled, 'SomethingNew', '']) {
    assert.equal(isTransientReason(r), false, r);
  }
});

// The derivation every evaluator uses (src/controller/evaluate/common.ts), here beside the list it reads;
// Ready Unknown is covered only here, since no evaluator writes it today.
test('kstatusConditions: Reconciling and Stalled from Ready, table-driven', () => {
  const ready = (status: 'True' | 'False' | 'Unknown', reason: string) => ({ type: 'Ready', status, reason, message: `m-${reason}` });
  const cases: [ReturnType<typeof ready>, [string, string, string], [string, string, string]][] = [
    [ready('True', 'Ready'), ['False', 'Ready', 'Ready is True: nothing is left to reconcile'], ['False', 'Ready', 'Ready is True']],
    [ready('Unknown', 'NotEvaluated'), ['True', 'NotEvaluated', 'm-NotEvaluated'], ['False', 'Reconciling', 'Ready is Unknown with reason NotEvaluated, which clears by itself (see Reconciling)']],
    [ready('False', 'RollingOut'), ['True', 'RollingOut', 'm-RollingOut'], ['False', 'Reconciling', 'Ready is False with reason RollingOut, which clears by itself (see Reconciling)']],
    [ready('False', 'NoAgentReports'), ['True', 'NoAgentReports', 'm-NoAgentReports'], ['False', 'Reconciling', 'Ready is False with reason NoAgentReports, which clears by itself (see Reconciling)']],
    [ready('False', 'ProfileNotFound'), ['False', 'Stalled', 'Ready is False with reason ProfileNotFound, which does not clear by itself (see Stalled)'], ['True', 'ProfileNotFound', 'm-ProfileNotFound']],
    [ready('False', 'SomethingNew'), ['False', 'Stalled', 'Ready is False with reason SomethingNew, which does not clear by itself (see Stalled)'], ['True', 'SomethingNew', 'm-SomethingNew']],
  ];
  for (const [given, reconciling, stalled] of cases) {
    assert.deepEqual(kstatusConditions(given), [
      { type: ConditionType.Reconciling, status: reconciling[0], reason: reconciling[1], message: reconciling[2] },
      { type: ConditionType.Stalled, status: stalled[0], reason: stalled[1], message: stalled[2] },
    ], `${given.status}/${given.reason}`);
  }
});
