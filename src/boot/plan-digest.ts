/**
 * The digest of a boot plan: what the controller publishes as
 * BootNetwork status.planDigest and what each agent computes from its own
 * caches. Equal digests mean the agent serves the plan the controller
 * published, whatever order the objects arrived in.
 */
import { createHash } from 'node:crypto';
import type { BootPlan } from './plan.ts';

/** Hex SHA-256 (first 16 bytes) over the plan's content; `generation` is not part of it. */
export function planDigest(plan: BootPlan): string {
  const hash = createHash('sha256');
  hash.update(canonical({ namespace: plan.namespace, networkName: plan.networkName, network: plan.network }));
  for (const c of [...plan.classes].sort((a, b) => compare(a.name, b.name))) hash.update(`\nclass ${canonical(c)}`);
  for (const name of [...plan.profiles.keys()].sort(compare)) hash.update(`\nprofile ${name} ${canonical(plan.profiles.get(name))}`);
  for (const mac of [...plan.machines.keys()].sort(compare)) hash.update(`\nmachine ${mac} ${canonical(plan.machines.get(mac))}`);
  hash.update(amtRemediationText(plan));
  return hash.digest('hex').slice(0, 32);
}

/** The plan's AMT short-lease policies as digest text; '' without any, so plans without them keep their digest. */
export function amtRemediationText(plan: BootPlan): string {
  const map = plan.amtRemediation;
  if (map === undefined) return '';
  return [...map.keys()].sort(compare).map((name) => `\namtpolicy ${name} ${canonical(map.get(name))}`).join('');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** JSON with object keys sorted, so equal content gives equal text. */
export function canonical(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => compare(a, b));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
}
