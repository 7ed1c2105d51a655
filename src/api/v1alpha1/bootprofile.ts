/**
 * BootProfile: what a machine boots. A first-stage loader per firmware
 * (defaulting to the iPXE builds shipped in the image), then an iPXE script
 * rendered per machine, an optional PXE menu and a boot-once policy.
 */
import { z } from 'zod';
import { AGE_COLUMN, READY_COLUMN, REASON_COLUMN, objectSchema, statusBase } from './kind.ts';
import type { KindDefinition } from './kind.ts';
import { described, list, text } from './fields.ts';

const loader = (description: string, fallback: string) =>
  described(z.string().min(1).max(255), `${description} A path under the agent's TFTP root, or a built-in iPXE build name.`).default(fallback);

export const FirstStageDefaults = { bios: 'undionly.kpxe', uefiX64: 'ipxe.efi', uefiArm64: 'snp.efi', httpBoot: 'ipxe.efi' } as const;

const FirstStage = described(z.object({
  bios: loader('Loader for legacy BIOS PXE (client arch 0).', FirstStageDefaults.bios),
  uefiX64: loader('Loader for UEFI x86-64 PXE (client arch 7 and 9). ipxe.efi carries its own NIC drivers; snponly.efi uses the firmware\'s, which suits NICs iPXE has no driver for.', FirstStageDefaults.uefiX64),
  uefiArm64: loader('Loader for UEFI arm64 PXE (client arch 11).', FirstStageDefaults.uefiArm64),
  httpBoot: loader('EFI image handed as a URL to UEFI HTTP boot clients (arch 16 and 19), served over HTTP.', FirstStageDefaults.httpBoot),
}), 'First-stage loaders per firmware. They chain to iPXE, which then fetches the script below over HTTP.');

const Ipxe = described(z.object({
  kernel: text('Kernel URL (absolute, or relative to the agent\'s HTTP root). Used with initrds and cmdline.', 2048).optional(),
  initrds: list(text('An initrd URL.', 2048), 'Initrd URLs, loaded in order.', 16).optional(),
  cmdline: text('Kernel command line. May use template fields such as {{ mac }}, {{ uuid }}, {{ hostname }}, {{ arch }}, {{ serverAddress }}.', 4096).optional(),
  chain: text('URL of another iPXE script or image to chain to, instead of a kernel.', 2048).optional(),
  script: text('A complete iPXE script template (starting with #!ipxe). Template fields: {{ mac }}, {{ uuid }}, {{ hostname }}, {{ arch }}, {{ serverAddress }}, {{ httpBase }}, {{ labels.<key> }}.', 65536).optional(),
}), 'The iPXE stage, rendered per machine: exactly one of kernel, chain or script.', [
  { cel: '[has(self.kernel), has(self.chain), has(self.script)].filter(x, x).size() == 1', message: 'set exactly one of ipxe.kernel, ipxe.chain or ipxe.script', holds: (i) => [i.kernel, i.chain, i.script].filter((x) => x !== undefined).length === 1 },
  { cel: 'has(self.kernel) || (!has(self.initrds) && !has(self.cmdline))', message: 'ipxe.initrds and ipxe.cmdline only apply with ipxe.kernel', holds: (i) => i.kernel !== undefined || (i.initrds === undefined && i.cmdline === undefined) },
  { cel: '!has(self.script) || self.script.startsWith("#!ipxe")', message: 'ipxe.script must start with #!ipxe', fieldPath: '.script', holds: (i) => i.script === undefined || i.script.startsWith('#!ipxe') },
]);

const MenuItem = described(z.object({
  label: text('Text shown in the firmware\'s PXE menu.', 64),
  bootServerType: described(z.number().int().min(1).max(65534), 'PXE boot server type (option 43 sub-option 71) the ROM asks for when this entry is chosen; 32768-65534 are the vendor-use range dnsmasq also uses. Every entry boots this profile.'),
}), 'One PXE menu entry.');

const Menu = described(z.object({
  prompt: text('Prompt shown above the menu (option 43 sub-option 10).', 64),
  timeoutSeconds: described(z.number().int().min(0).max(255), 'Seconds before the first entry boots.').default(10),
  items: list(MenuItem, 'Menu entries. All of option 43 must fit in 255 bytes, so keep labels short.', 8),
}), 'A legacy PXE boot menu in option 43. Only BIOS PXE ROMs show it; UEFI firmware ignores it.');

export const BootProfileSpec = described(z.object({
  firstStage: FirstStage.default(FirstStageDefaults),
  ipxe: Ipxe,
  menu: Menu.optional(),
  bootPolicy: described(z.enum(['always', 'once']),
    'always: netboot on every boot. once: netboot once, then hand out a script that exits to the local disk until the BootMachine is reset (status.boot.completedAt cleared).').default('always'),
  localBootScript: text('iPXE script for machines that should boot from disk (bootPolicy once after its boot, or netboot once).', 4096).default('#!ipxe\nexit\n'),
}), 'The desired boot sequence.');

export const BootProfileStatus = z.object({
  ...statusBase(),
  machines: described(z.number().int().min(0), 'BootMachines that currently resolve to this profile.').optional(),
}).meta({ description: 'Observed state of a boot profile.' });

export const BootProfile = objectSchema('BootProfile', BootProfileSpec, BootProfileStatus,
  'BootProfile says what a machine boots: first-stage loaders per firmware, then an iPXE script rendered per machine.');
export type BootProfile = z.output<typeof BootProfile>;

export const BootProfileKind: KindDefinition = {
  kind: 'BootProfile',
  plural: 'bootprofiles',
  shortNames: ['bprof'],
  schema: BootProfile,
  description: 'BootProfile says what a machine boots.',
  printerColumns: [
    { name: 'Policy', type: 'string', jsonPath: '.spec.bootPolicy', description: 'always or once.' },
    { name: 'Machines', type: 'integer', jsonPath: '.status.machines', description: 'Machines resolved to this profile.' },
    READY_COLUMN,
    REASON_COLUMN,
    AGE_COLUMN,
  ],
};
