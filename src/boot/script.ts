/**
 * Which iPXE script a machine gets when its iPXE fetches /ipxe/<mac>: the
 * profile's rendered script, the local-disk script once a boot-once machine
 * has booted, or a refusal with the reason. Pure.
 */
import { renderScript } from './ipxe.ts';
import { resolveClass } from './match.ts';
import type { Architecture } from '../api/v1alpha1/machineclass.ts';
import type { BootPlan } from './plan.ts';

/** What to answer to a script request. */
export type ScriptDecision =
  | { readonly kind: 'script'; readonly script: string; readonly profile: string; readonly className?: string; readonly completes: boolean; readonly local: boolean }
  | { readonly kind: 'refuse'; readonly status: 403 | 404 | 500; readonly reason: string };

/** Facts the HTTP request carries (iPXE sends them as query parameters). */
export interface ScriptRequest {
  readonly mac: string;
  readonly arch?: Architecture;
  readonly uuid?: string;
  readonly serverAddress: string;
  readonly httpBase: string;
}

export function decideScript(plan: BootPlan, req: ScriptRequest): ScriptDecision {
  const machine = plan.machines.get(req.mac);
  if (machine?.spec.netboot === 'deny') return { kind: 'refuse', status: 403, reason: `BootMachine ${machine.name} has netboot: deny` };
  if (machine === undefined && plan.network.unknownMachines !== 'boot') {
    return { kind: 'refuse', status: 404, reason: `no BootMachine for ${req.mac} and unknownMachines is ${plan.network.unknownMachines}` };
  }
  const resolution = resolveClass({ mac: req.mac, ...(req.arch === undefined ? {} : { arch: req.arch }), ...(req.uuid === undefined ? {} : { uuid: req.uuid }) }, machine, plan.classes, plan.network.defaultProfile);
  if (resolution.kind === 'unresolved') return { kind: 'refuse', status: 404, reason: resolution.reason };
  const profile = plan.profiles.get(resolution.profile);
  if (profile === undefined) return { kind: 'refuse', status: 404, reason: `BootProfile "${resolution.profile}" does not exist` };
  const className = resolution.className === undefined ? {} : { className: resolution.className };
  const once = profile.bootPolicy === 'once' || machine?.spec.netboot === 'once';
  if (once && machine?.completedAt !== undefined) {
    return { kind: 'script', script: profile.localBootScript, profile: resolution.profile, ...className, completes: false, local: true };
  }
  const rendered = renderScript(profile, {
    mac: req.mac, serverAddress: req.serverAddress, httpBase: req.httpBase, labels: machine?.labels ?? {},
    ...(req.arch === undefined ? {} : { arch: req.arch }),
    ...((machine?.spec.uuid ?? req.uuid) === undefined ? {} : { uuid: machine?.spec.uuid ?? req.uuid }),
    ...(machine?.spec.hostname === undefined ? {} : { hostname: machine.spec.hostname }),
  });
  if (!rendered.ok) return { kind: 'refuse', status: 500, reason: `BootProfile "${resolution.profile}": ${rendered.reason}` };
  return { kind: 'script', script: rendered.script, profile: resolution.profile, ...className, completes: true, local: false };
}
