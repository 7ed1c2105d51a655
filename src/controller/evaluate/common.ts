/**
 * Helpers shared by the evaluators: conditions in a fixed order with stable
 * transition times, Ready as the summary of the others, Reconciling and
 * Stalled as Ready restated for kstatus, and "did this condition just fail"
 * for events.
 */
import { setConditions } from '../../api/v1alpha1/conditions.ts';
import type { Condition, DesiredCondition } from '../../api/v1alpha1/conditions.ts';
import { ConditionType, EventReason, Reason, isTransientReason } from '../reasons.ts';
import type { EventSpec } from './types.ts';

/** metadata.generation, or 0 where there is none (objects loaded from standalone YAML). */
export function generationOf(obj: { readonly metadata: { readonly generation?: number | undefined } }): number {
  return obj.metadata.generation ?? 0;
}

/**
 * The condition list for `desired`, in that order. Transition times carry
 * over from `existing` when the status did not flip; condition types that
 * are no longer desired are dropped (the controller owns the whole list, so
 * a stale type must not linger, e.g. AmtPolicyResolved after spec.amtPolicy
 * was removed).
 */
export function conditionsFor(existing: readonly Condition[] | undefined, desired: readonly DesiredCondition[], generation: number, now: Date): Condition[] {
  const types = new Set(desired.map((d) => d.type));
  const merged = setConditions((existing ?? []).filter((c) => types.has(c.type)), desired, generation, now);
  const byType = new Map(merged.map((c) => [c.type, c] as const));
  return desired.map((d) => byType.get(d.type) as Condition);
}

/**
 * Ready from the conditions it summarises: the first False one decides
 * (its reason and message), Unknown ones do not block; otherwise Ready=True
 * with `healthyMessage`.
 */
export function readyFrom(checks: readonly DesiredCondition[], healthyMessage: string): DesiredCondition {
  const failed = checks.find((c) => c.status === 'False');
  return failed === undefined
    ? { type: ConditionType.Ready, status: 'True', reason: Reason.Ready, message: healthyMessage }
    : { type: ConditionType.Ready, status: 'False', reason: failed.reason, message: failed.message };
}

/**
 * Reconciling and Stalled, derived from Ready, for kstatus: it ignores Ready
 * on custom resources and reads only these two "abnormal-true" conditions.
 *   Ready True                      -> Reconciling False, Stalled False
 *   Ready Unknown                   -> Reconciling True (Ready's reason and message)
 *   Ready False, transient reason   -> Reconciling True (Ready's reason and message)
 *   Ready False, any other reason   -> Stalled True (Ready's reason and message)
 * The other one of the pair is False, naming the one that is True. Both are
 * always written rather than removed when they do not apply: the API
 * conventions ask for conditions to be present once known, and
 * `kubectl wait --for=condition=Reconciling=False` (or Stalled=False) can
 * only succeed on a condition that exists. kstatus treats False and absent
 * alike. Their messages are fixed while Ready is True, so a changing Ready
 * message (a machine count) does not rewrite them.
 */
export function kstatusConditions(ready: DesiredCondition): [DesiredCondition, DesiredCondition] {
  const reconciling = ConditionType.Reconciling;
  const stalled = ConditionType.Stalled;
  if (ready.status === 'True') {
    return [
      { type: reconciling, status: 'False', reason: Reason.Ready, message: 'Ready is True: nothing is left to reconcile' },
      { type: stalled, status: 'False', reason: Reason.Ready, message: 'Ready is True' },
    ];
  }
  const why = `Ready is ${ready.status} with reason ${ready.reason}`;
  if (ready.status === 'Unknown' || isTransientReason(ready.reason)) {
    return [
      { type: reconciling, status: 'True', reason: ready.reason, message: ready.message },
      { type: stalled, status: 'False', reason: Reason.Reconciling, message: `${why}, which clears by itself (see Reconciling)` },
    ];
  }
  return [
    { type: reconciling, status: 'False', reason: Reason.Stalled, message: `${why}, which does not clear by itself (see Stalled)` },
    { type: stalled, status: 'True', reason: ready.reason, message: ready.message },
  ];
}

/**
 * An object's whole condition list: Ready, the conditions it summarises
 * and any informational ones (`others`, in that order), then Reconciling and
 * Stalled derived from Ready. Every evaluator builds its list here, so no
 * kind can lack the conditions kstatus reads.
 */
export function objectConditions(existing: readonly Condition[] | undefined, ready: DesiredCondition, others: readonly DesiredCondition[], generation: number, now: Date): Condition[] {
  return conditionsFor(existing, [ready, ...others, ...kstatusConditions(ready)], generation, now);
}

/** The condition of `type` in a status's list. */
export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/**
 * True when `next` is False and was not False before with the same message:
 * a new failure, worth one Warning event (a repeat evaluation is not).
 */
export function newlyFailed(previous: readonly Condition[] | undefined, next: DesiredCondition): boolean {
  if (next.status !== 'False') return false;
  const prev = findCondition(previous, next.type);
  return prev === undefined || prev.status !== 'False' || prev.message !== next.message;
}

/** A Warning event for each condition that newly failed, with `reason` (ReferenceMissing or InvalidSpec). */
export function failureEvents(previous: readonly Condition[] | undefined, checks: readonly DesiredCondition[], reason: (c: DesiredCondition) => string = () => EventReason.ReferenceMissing): EventSpec[] {
  return checks.filter((c) => newlyFailed(previous, c)).map((c) => ({ type: 'Warning', reason: reason(c), message: c.message }));
}

/** "1 machine", "3 machines". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
