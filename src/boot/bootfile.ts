/**
 * What a client is told to boot: a first-stage loader over TFTP for firmware
 * PXE, its script URL for our iPXE, an EFI image URL for UEFI HTTP boot.
 * Pure; the loader table is data.
 */
import type { Architecture } from '../api/v1alpha1/machineclass.ts';
import type { Client } from './classify.ts';
import { resolveClass } from './match.ts';
import type { BootPlan, ProfileSpec } from './plan.ts';

/** Which firstStage field serves each architecture. */
const LOADER_FIELD: Readonly<Record<Architecture, keyof ProfileSpec['firstStage'] | undefined>> = {
  'bios': 'bios',
  'uefi-ia32': undefined,
  'uefi-x64': 'uefiX64',
  'uefi-arm32': undefined,
  'uefi-arm64': 'uefiArm64',
  'http-x64': 'httpBoot',
  'http-arm64': 'httpBoot',
};

export type BootTarget =
  | { readonly ok: true; readonly file: string; readonly profile: string; readonly className?: string; readonly via: string; readonly kind: 'loader' | 'script' | 'http' }
  | { readonly ok: false; readonly reason: string };

/** The script URL our iPXE fetches: facts known from DHCP are in the URL, so no iPXE setting expansion is needed. */
export function scriptUrl(serverAddress: string, httpPort: number, client: Pick<Client, 'mac' | 'arch' | 'uuid'>): string {
  const query = new URLSearchParams();
  if (client.arch !== undefined) query.set('arch', client.arch);
  if (client.uuid !== undefined) query.set('uuid', client.uuid);
  const q = query.toString();
  return `http://${serverAddress}:${httpPort}/ipxe/${client.mac}${q === '' ? '' : `?${q}`}`;
}

/**
 * The boot target for a boot client, or why it gets none. Machines with
 * netboot: deny, unknown machines the network does not boot, and machines
 * no class or default resolves get a reason, never a guess.
 */
export function bootTarget(client: Client, plan: BootPlan, serverAddress: string): BootTarget {
  const machine = plan.machines.get(client.mac);
  if (machine?.spec.netboot === 'deny') return { ok: false, reason: `BootMachine ${machine.name} has netboot: deny` };
  if (machine === undefined && plan.network.unknownMachines !== 'boot') {
    return { ok: false, reason: `unknown machine and BootNetwork ${plan.networkName} has unknownMachines: ${plan.network.unknownMachines}` };
  }
  const facts = { mac: client.mac, ...(client.arch === undefined ? {} : { arch: client.arch }), ...(client.vendorClass === undefined ? {} : { vendorClass: client.vendorClass }), ...(client.uuid === undefined ? {} : { uuid: client.uuid }) };
  const r = resolveClass(facts, machine, plan.classes, plan.network.defaultProfile);
  if (r.kind === 'unresolved') return { ok: false, reason: r.reason };
  const profile = plan.profiles.get(r.profile);
  if (profile === undefined) return { ok: false, reason: `BootProfile "${r.profile}" does not exist` };
  const base = { profile: r.profile, via: r.via, ...(r.className === undefined ? {} : { className: r.className }) };
  if (client.stage === 'ipxe') return { ok: true, kind: 'script', file: scriptUrl(serverAddress, plan.network.ports.http, client), ...base };
  if (client.arch === undefined) return { ok: false, reason: `client architecture ${client.archCode ?? '(option 93 missing)'} is not one we have a loader for` };
  const field = LOADER_FIELD[client.arch];
  if (field === undefined) return { ok: false, reason: `no first-stage loader for ${client.arch} firmware` };
  const loader = profile.firstStage[field];
  if (client.stage === 'http') return { ok: true, kind: 'http', file: `http://${serverAddress}:${plan.network.ports.http}/boot/${loader}`, ...base };
  return { ok: true, kind: 'loader', file: loader, ...base };
}
