/**
 * From informer objects to plan sources: each object is checked against its
 * kind's schema once, when it changes, and reduced to what compilePlan reads
 * (metadata name, namespace and labels, spec, and a machine's
 * status.boot.completedAt and AMT suffix verdict). Status and managedFields are left out, so an
 * agent's own status writes neither cost a parse of the history nor trigger
 * a recompile.
 *
 * The schema only validates: the plan is compiled from the API server's own
 * values (already defaulted by the CRD), exactly as the controller compiles
 * them, so both arrive at the same planDigest.
 */
import { isDeepStrictEqual } from 'node:util';
import type { z } from 'zod';
import { BootMachine as BootMachineSchema } from '../api/v1alpha1/bootmachine.ts';
import type { BootMachine } from '../api/v1alpha1/bootmachine.ts';
import { BootNetwork as BootNetworkSchema } from '../api/v1alpha1/bootnetwork.ts';
import type { BootNetwork } from '../api/v1alpha1/bootnetwork.ts';
import { BootProfile as BootProfileSchema } from '../api/v1alpha1/bootprofile.ts';
import type { BootProfile } from '../api/v1alpha1/bootprofile.ts';
import { MachineClass as MachineClassSchema } from '../api/v1alpha1/machineclass.ts';
import type { MachineClass } from '../api/v1alpha1/machineclass.ts';
import { AmtNetworkPolicy as AmtNetworkPolicySchema } from '../api/v1alpha1/amtnetworkpolicy.ts';
import type { AmtNetworkPolicy } from '../api/v1alpha1/amtnetworkpolicy.ts';
import { amtMismatch } from '../boot/plan.ts';
import type { RawObject } from './kube-api.ts';

/** A parsed object, or why the object is not usable. */
export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

function parseWith<T>(schema: z.ZodType, raw: RawObject, extra: Record<string, unknown> = {}): Parsed<T> {
  const meta = raw.metadata ?? {};
  const input = {
    apiVersion: (raw as { apiVersion?: unknown }).apiVersion,
    kind: (raw as { kind?: unknown }).kind,
    metadata: { name: meta.name, namespace: meta.namespace, ...(meta.labels === undefined ? {} : { labels: meta.labels }) },
    spec: raw.spec,
    ...extra,
  };
  const parsed = schema.safeParse(input);
  if (parsed.success) return { ok: true, value: input as T };
  const reason = parsed.error.issues.map((i) => { const path = i.path.map(String).join('.'); return path === '' ? i.message : `${path}: ${i.message}`; }).join('; ');
  return { ok: false, reason };
}

export function parseNetwork(raw: RawObject): Parsed<BootNetwork> {
  return parseWith(BootNetworkSchema, raw);
}

export function parseProfile(raw: RawObject): Parsed<BootProfile> {
  return parseWith(BootProfileSchema, raw);
}

export function parseClass(raw: RawObject): Parsed<MachineClass> {
  return parseWith(MachineClassSchema, raw);
}

export function parseAmtPolicy(raw: RawObject): Parsed<AmtNetworkPolicy> {
  return parseWith(AmtNetworkPolicySchema, raw);
}

/**
 * A BootMachine with status reduced to what compilePlan reads of it:
 * status.boot.completedAt, and status.amt's suffix verdict when it is a
 * mismatch (see PlanMachine.amtSuffixMatch).
 */
export function parseMachine(raw: RawObject): Parsed<BootMachine> {
  const completedAt = (raw.status?.['boot'] as { completedAt?: unknown } | undefined)?.completedAt;
  const amt = raw.status?.['amt'] as { suffixMatch?: unknown; provisioningState?: unknown } | undefined;
  const mismatch = amtMismatch(raw as Pick<BootMachine, 'status'>) && amt !== undefined;
  const status = {
    ...(typeof completedAt === 'string' ? { boot: { completedAt } } : {}),
    ...(mismatch ? { amt: { suffixMatch: 'Mismatch', ...(typeof amt.provisioningState === 'string' ? { provisioningState: amt.provisioningState } : {}) } } : {}),
  };
  return parseWith(BootMachineSchema, raw, Object.keys(status).length === 0 ? {} : { status });
}

/** The completedAt compilePlan would read from `m`. */
export function completedAtOf(m: BootMachine): string | undefined {
  return m.status?.boot?.completedAt;
}

/** True when `a` and `b` compile to the same plan entry (name, spec, labels, completedAt, AMT suffix verdict). */
export function samePlanFacts(a: BootMachine, b: BootMachine): boolean {
  return a.metadata.name === b.metadata.name && completedAtOf(a) === completedAtOf(b) && amtMismatch(a) === amtMismatch(b)
    && isDeepStrictEqual(a.spec, b.spec) && isDeepStrictEqual(a.metadata.labels ?? {}, b.metadata.labels ?? {});
}

/** `m` with completedAt replaced (a completion this agent saw but has not written yet). */
export function withCompletedAt(m: BootMachine, completedAt: string): BootMachine {
  return { ...m, status: { ...m.status, boot: { ...m.status?.boot, completedAt } } };
}

/** Resource versions are etcd revisions in practice; compare numerically, else only equality is known. */
export function resourceVersionAtLeast(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return BigInt(a) >= BigInt(b);
  return a === b;
}
