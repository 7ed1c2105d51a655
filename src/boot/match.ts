/**
 * Class matching: which MachineClass (and so which BootProfile) a machine
 * gets. Highest priority wins; among equals the most specific selector, then
 * the name, so the answer never depends on the order objects were listed in.
 */
import type { Architecture } from '../api/v1alpha1/machineclass.ts';
import type { PlanClass, PlanMachine } from './plan.ts';

/** What the firmware told us, as class selectors see it. */
export interface MatchFacts {
  readonly mac: string;
  readonly arch?: Architecture;
  readonly vendorClass?: string;
  readonly uuid?: string;
}

type Selector = NonNullable<PlanClass['spec']['selector']>;
type LabelRequirement = NonNullable<NonNullable<Selector['machineLabels']>['matchExpressions']>[number];

/** The result: a class and profile, or none with the reason. */
export type Resolution =
  | { readonly kind: 'resolved'; readonly className?: string; readonly profile: string; readonly via: string }
  | { readonly kind: 'unresolved'; readonly reason: string };

const present = <T>(l: readonly T[] | undefined): l is readonly T[] => l !== undefined && l.length > 0;

function labelsMatch(labels: Readonly<Record<string, string>>, sel: NonNullable<Selector['machineLabels']>): boolean {
  const exact = Object.entries(sel.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const exprs = (sel.matchExpressions ?? []).every((e: LabelRequirement) => {
    const v = labels[e.key];
    switch (e.operator) {
      case 'In': return v !== undefined && (e.values ?? []).includes(v);
      case 'NotIn': return v === undefined || !(e.values ?? []).includes(v);
      case 'Exists': return v !== undefined;
      case 'DoesNotExist': return v === undefined;
    }
  });
  return exact && exprs;
}

/**
 * How specific a selector is; higher is narrower. Exact MACs and UUIDs name
 * one machine, a longer MAC prefix names fewer than a shorter one, labels and
 * architectures narrow least.
 */
export function specificity(sel: Selector | undefined): number {
  if (sel === undefined) return 0;
  let score = 0;
  if (present(sel.macs)) score += 1000;
  if (present(sel.uuids)) score += 900;
  if (present(sel.macPrefixes)) score += 10 * Math.min(...sel.macPrefixes.map((p) => p.split(':').length));
  const labels = sel.machineLabels;
  if (labels !== undefined) score += 5 * (Object.keys(labels.matchLabels ?? {}).length + (labels.matchExpressions ?? []).length);
  if (present(sel.vendorClassPrefixes)) score += 3;
  if (present(sel.architectures)) score += 2;
  return score;
}

/** True when every criterion the selector lists matches (an empty selector matches everything). */
export function selectorMatches(sel: Selector | undefined, facts: MatchFacts, labels: Readonly<Record<string, string>>): boolean {
  if (sel === undefined) return true;
  if (present(sel.macs) && !sel.macs.includes(facts.mac)) return false;
  if (present(sel.macPrefixes) && !sel.macPrefixes.some((p) => facts.mac.startsWith(p))) return false;
  if (present(sel.architectures) && (facts.arch === undefined || !sel.architectures.includes(facts.arch))) return false;
  if (present(sel.vendorClassPrefixes) && !sel.vendorClassPrefixes.some((p) => (facts.vendorClass ?? '').startsWith(p))) return false;
  if (present(sel.uuids) && (facts.uuid === undefined || !sel.uuids.includes(facts.uuid))) return false;
  if (sel.machineLabels !== undefined && !labelsMatch(labels, sel.machineLabels)) return false;
  return true;
}

/** Orders candidate classes: priority, then specificity, then name. */
export function compareClasses(a: PlanClass, b: PlanClass): number {
  return (b.spec.priority - a.spec.priority) || (specificity(b.spec.selector) - specificity(a.spec.selector)) || a.name.localeCompare(b.name);
}

/**
 * Resolves the class and profile for a machine. Pins on the BootMachine win;
 * then non-default classes whose selector matches; then default classes; then
 * the network's defaultProfile.
 */
export function resolveClass(facts: MatchFacts, machine: PlanMachine | undefined, classes: readonly PlanClass[], defaultProfile: string | undefined): Resolution {
  const labels = machine?.labels ?? {};
  const pinnedClass = machine?.spec.machineClass;
  const pinnedProfile = machine?.spec.profile;
  let chosen: PlanClass | undefined;
  if (pinnedClass !== undefined) {
    chosen = classes.find((c) => c.name === pinnedClass);
    if (chosen === undefined && pinnedProfile === undefined) return { kind: 'unresolved', reason: `pinned MachineClass "${pinnedClass}" does not exist (or does not apply to this network)` };
  } else {
    const matching = classes.filter((c) => !c.spec.default && selectorMatches(c.spec.selector, facts, labels)).sort(compareClasses);
    chosen = matching[0] ?? classes.filter((c) => c.spec.default && selectorMatches(c.spec.selector, facts, labels)).sort(compareClasses)[0];
  }
  if (pinnedProfile !== undefined) return { kind: 'resolved', ...(chosen === undefined ? {} : { className: chosen.name }), profile: pinnedProfile, via: 'profile pinned on the BootMachine' };
  if (chosen !== undefined) return { kind: 'resolved', className: chosen.name, profile: chosen.spec.profile, via: pinnedClass !== undefined ? 'class pinned on the BootMachine' : chosen.spec.default ? 'default class' : 'class selector' };
  if (defaultProfile !== undefined) return { kind: 'resolved', profile: defaultProfile, via: 'network defaultProfile' };
  return { kind: 'unresolved', reason: 'no MachineClass matches and the network has no defaultProfile' };
}
