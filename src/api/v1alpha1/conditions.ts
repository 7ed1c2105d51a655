/**
 * Status conditions shared by every kind, in the shape of metav1.Condition, and
 * the one helper that sets them. `lastTransitionTime` only moves when the
 * status flips, so kstatus, Argo CD and `kubectl wait` see stable objects.
 */
import { z } from 'zod';
import { described, list, text, timestamp } from './fields.ts';

export const ConditionSchema = described(z.object({
  type: described(z.string().min(1).max(316), 'Condition type in CamelCase, for example Ready.'),
  status: described(z.enum(['True', 'False', 'Unknown']), 'True, False or Unknown.'),
  reason: described(z.string().min(1).max(1024), 'A CamelCase reason from the documented constants, for machines to match on.'),
  message: text('What happened, in words an operator can act on.', 32768),
  lastTransitionTime: timestamp('When status last changed (not when the condition was last written).'),
  observedGeneration: described(z.number().int().min(0), 'The metadata.generation this condition was computed from; older than generation means the status lags the spec.').optional(),
}), 'One observation of the state of this object.');

export type Condition = z.output<typeof ConditionSchema>;

/**
 * The `conditions` list, atomic for server-side apply: one writer (the
 * controller's field manager) owns the whole list and always applies all of
 * it (agents never write conditions), so the API server need not track each
 * entry's fields. A list map keyed by `type` would let several managers own
 * separate entries, at a price paid on every status write: 10,000 first
 * BootMachine status applies cost kube-apiserver about 20% more CPU with the
 * list map, and each object carries 2.7 kB more managedFields
 * (docs/benchmarks.md, "Controller memory and initial sync").
 */
export function conditionsField() {
  return list(ConditionSchema, 'Current state, one entry per condition type. Ready summarises the others. Written whole by the controller (an atomic list for server-side apply).', 16)
    .meta({ 'x-kubernetes-list-type': 'atomic' });
}

/** Condition types used on every kind. */
export const ConditionTypes = {
  Ready: 'Ready',
} as const;

/** A condition as a reconciler computes it, before timestamps are attached. */
export interface DesiredCondition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
}

/**
 * Merges desired conditions into the existing list. Keeps lastTransitionTime
 * when the status is unchanged, stamps `now` when it flips or is new, sets
 * observedGeneration on every entry, and keeps conditions it was not given.
 */
export function setConditions(existing: readonly Condition[] | undefined, desired: readonly DesiredCondition[], generation: number, now: Date): Condition[] {
  const out = new Map((existing ?? []).map((c) => [c.type, c] as const));
  for (const d of desired) {
    const prev = out.get(d.type);
    const lastTransitionTime = prev !== undefined && prev.status === d.status ? prev.lastTransitionTime : now.toISOString().replace(/\.\d{3}Z$/, 'Z');
    out.set(d.type, { type: d.type, status: d.status, reason: d.reason, message: d.message, lastTransitionTime, observedGeneration: generation });
  }
  return [...out.values()];
}
