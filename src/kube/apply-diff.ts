/**
 * Would a server-side apply change anything? A pure answer, so reconcilers
 * write status only when it changed. Two questions:
 *
 * 1. Does the object already hold every value we would apply? Fields other
 *    managers own (agents own status.boot) and server defaults are ignored;
 *    conditions match by type, and lastTransitionTime is not compared: the
 *    conditions helper keeps it stable, so a differing one is the stored,
 *    truer value.
 * 2. Would the apply remove something? A field our manager owns (per
 *    managedFields) but the desired object lacks is deleted by SSA, so that
 *    is a change too.
 */
import { isDeepStrictEqual } from 'node:util';

/** A managedFields entry (metav1.ManagedFieldsEntry), the parts read here. */
export interface ManagedFieldsEntry {
  readonly manager?: string;
  readonly operation?: string;
  readonly subresource?: string;
  readonly fieldsV1?: unknown;
}

type Tree = Record<string, unknown>;
const isTree = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The fields `manager` owns by Apply on `subresource` ('' = the main resource). */
export function ownedFields(managedFields: readonly ManagedFieldsEntry[] | undefined, manager: string, subresource = ''): Tree | undefined {
  const entry = managedFields?.find((m) => m.manager === manager && m.operation === 'Apply' && (m.subresource ?? '') === subresource);
  return isTree(entry?.fieldsV1) ? entry.fieldsV1 : undefined;
}

function isConditionList(list: readonly unknown[]): boolean {
  return list.every((c) => isTree(c) && typeof c['type'] === 'string');
}

/** True when `current` already holds every value of `desired`. */
export function holds(current: unknown, desired: unknown, key = ''): boolean {
  if (desired === undefined) return true;
  if (isTree(desired)) {
    if (!isTree(current)) return false;
    return Object.entries(desired).every(([k, v]) => holds(current[k], v, k));
  }
  if (Array.isArray(desired)) {
    if (!Array.isArray(current)) return false;
    if (key === 'conditions' && isConditionList(desired) && isConditionList(current)) {
      return (desired as Tree[]).every((d) => {
        const c = (current as Tree[]).find((x) => x['type'] === d['type']);
        const { lastTransitionTime: _ignored, ...rest } = d;
        return c !== undefined && holds(c, rest);
      });
    }
    return current.length === desired.length && desired.every((d, i) => holds(current[i], d));
  }
  return isDeepStrictEqual(current, desired);
}

/** The desired element a `k:{...}` managedFields key names, if present. */
function findKeyed(list: unknown, keyJson: string): unknown {
  let key: unknown;
  try { key = JSON.parse(keyJson); } catch { return undefined; }
  if (!Array.isArray(list) || !isTree(key)) return undefined;
  return list.find((el) => isTree(el) && Object.entries(key as Tree).every(([k, v]) => isDeepStrictEqual(el[k], v)));
}

/** True when `owned` (a fieldsV1 tree) has a field `desired` no longer sets. */
export function dropsOwned(owned: Tree | undefined, desired: unknown): boolean {
  if (owned === undefined) return false;
  for (const [field, sub] of Object.entries(owned)) {
    if (field.startsWith('f:')) {
      const value = isTree(desired) ? desired[field.slice(2)] : undefined;
      if (value === undefined) return true;
      if (isTree(sub) && (isTree(value) || Array.isArray(value)) && dropsOwned(sub, value)) return true;
    } else if (field.startsWith('k:')) {
      if (findKeyed(desired, field.slice(2)) === undefined) return true;
    }
    // '.' marks the field itself; 'v:' set members are compared by holds().
  }
  return false;
}

/**
 * Would applying `desired` (the whole apply body: apiVersion, kind, metadata,
 * and spec or status) as `manager` change `current`? No current object: yes.
 */
export function applyWouldChange(current: { readonly metadata?: { readonly managedFields?: readonly ManagedFieldsEntry[] } } | undefined, desired: Tree, manager: string, subresource = ''): boolean {
  if (current === undefined) return true;
  return !holds(current, desired) || dropsOwned(ownedFields(current.metadata?.managedFields, manager, subresource), desired);
}
