/**
 * BootMachine: one physical machine, named from its MAC. Users create them
 * to pre-register machines; agents create them on first sight (discovery).
 * Agents own status.boot (field manager netboot-agent); the controller owns
 * the rest of status.
 */
import { z } from 'zod';
import { AGE_COLUMN, objectSchema, statusBase } from './kind.ts';
import type { KindDefinition } from './kind.ts';
import { described, dnsName, ipv4, list, mac, matching, objectName, text, timestamp, uuid } from './fields.ts';
import { Architectures } from './machineclass.ts';
import { AmtMachineStatus, AmtObservation } from './amtstatus.ts';

/** The boot phases in the order a healthy boot passes them. */
export const BootPhases = ['Discovered', 'Offered', 'BootFileSent', 'LoaderDownloaded', 'ScriptServed', 'LocalBoot', 'Stopped'] as const;
export type BootPhase = (typeof BootPhases)[number];

/** Boot events an agent records, newest last in status.boot.history. */
export const BootEvents = ['Discover', 'ProxyOffer', 'Offer', 'Ack', 'PxeAck', 'TftpStarted', 'TftpCompleted', 'TftpFailed', 'ScriptFetched', 'Ignored'] as const;

const AmtFacts = described(z.object({
  version: matching('AMT firmware version as MEBx shows it, such as 11.8.50.', /^[0-9]+(\.[0-9]+){0,3}$/, 'must be a version such as 11.8.50', 32).optional(),
  dnsSuffix: dnsName('The PKI DNS suffix set in MEBx. Takes precedence over every suffix learned from DHCP.').optional(),
}), 'Intel AMT facts the user knows; they override what agents observe.');

export const BootMachineSpec = described(z.object({
  mac: mac('The MAC address of the NIC that PXE-boots. metadata.name must be this MAC with dashes, such as 52-54-00-12-34-56.'),
  uuid: uuid('SMBIOS UUID (DHCP option 97), if known; helps match machines whose NIC changes.').optional(),
  hostname: dnsName('Hostname handed to the machine (option 12) and rendered into iPXE scripts.').optional(),
  ipAddress: ipv4('Reserved address in dhcp-mode networks. Ignored by proxy networks, which never assign addresses.').optional(),
  network: objectName('The BootNetwork this machine boots on. Empty: whichever network sees it.').optional(),
  machineClass: objectName('Pin this MachineClass instead of resolving one from selectors.').optional(),
  profile: objectName('Pin this BootProfile, overriding the class\'s.').optional(),
  netboot: described(z.enum(['allow', 'deny', 'once']), 'allow: boot as the profile says. deny: never answer this machine. once: netboot one time, then boot from local disk.').default('allow'),
  amt: AmtFacts.optional(),
}), 'The desired state of a machine.');

const HistoryEntry = described(z.object({
  time: timestamp('When it happened.'),
  event: described(z.enum(BootEvents), 'What happened.'),
  node: text('Node whose agent saw it.', 253).optional(),
  detail: text('File name, byte count, reason for silence, and so on.', 512).optional(),
}), 'One boot event.');

const BootStatus = described(z.object({
  phase: described(z.enum(BootPhases), 'Furthest step of the current boot.').optional(),
  lastSeen: timestamp('Last packet from this machine.').optional(),
  lastBoot: timestamp('Start of the current or last boot (the first DISCOVER of it).').optional(),
  completedAt: timestamp('When the machine fetched its iPXE script; with bootPolicy once, clearing it allows another netboot.').optional(),
  node: text('Node whose agent last served this machine.', 253).optional(),
  network: text('BootNetwork it was seen on.', 253).optional(),
  ipAddress: ipv4('Address the machine used or was offered.').optional(),
  firmware: described(z.object({
    arch: described(z.enum(Architectures), 'Architecture from option 93 / 60.').optional(),
    stage: described(z.enum(['pxe', 'ipxe', 'http']), 'pxe: firmware PXE ROM; ipxe: our chainloaded iPXE; http: UEFI HTTP boot.').optional(),
    vendorClass: text('Option 60 as sent.', 255).optional(),
    userClass: text('Option 77 as sent.', 255).optional(),
  }), 'What the firmware told us about itself.').optional(),
  stoppedReason: text('Why the last boot stopped or was not answered, in plain words.', 1024).optional(),
  history: list(HistoryEntry, 'Recent boot events, oldest first, bounded to the last 20.', 20).optional(),
  amt: AmtObservation.optional(),
}), 'Boot observations. Written by agents (field manager netboot-agent).');

export const BootMachineStatus = z.object({
  ...statusBase(),
  machineClass: text('MachineClass resolved for this machine.', 253).optional(),
  profile: text('BootProfile resolved for this machine.', 253).optional(),
  boot: BootStatus.optional(),
  amt: AmtMachineStatus.optional(),
}).meta({ description: 'Observed state of a machine.' });

export const BootMachine = objectSchema('BootMachine', BootMachineSpec, BootMachineStatus,
  'BootMachine is one physical machine, named from its MAC: how it boots, how its boots went, and whether Intel AMT provisioning can succeed.', [
    {
      cel: 'self.metadata.name == self.spec.mac.replace(":", "-")',
      message: 'metadata.name must be spec.mac with dashes (for example 52-54-00-12-34-56), so that one machine has exactly one BootMachine',
      holds: (o) => o.metadata.name === o.spec.mac.replaceAll(':', '-'),
    },
  ]);
export type BootMachine = z.output<typeof BootMachine>;

/** The object name for a MAC address: colons become dashes. */
export function machineNameFor(macAddress: string): string {
  return macAddress.toLowerCase().replaceAll(':', '-');
}

export const BootMachineKind: KindDefinition = {
  kind: 'BootMachine',
  plural: 'bootmachines',
  shortNames: ['bm'],
  schema: BootMachine,
  description: 'BootMachine is one physical machine, named from its MAC.',
  printerColumns: [
    { name: 'MAC', type: 'string', jsonPath: '.spec.mac', description: 'MAC address.' },
    { name: 'Class', type: 'string', jsonPath: '.status.machineClass', description: 'Resolved MachineClass.' },
    { name: 'Phase', type: 'string', jsonPath: '.status.boot.phase', description: 'Furthest boot step.' },
    { name: 'Last Boot', type: 'date', jsonPath: '.status.boot.lastBoot', description: 'Start of the last boot.' },
    { name: 'AMT Suffix', type: 'string', jsonPath: '.status.conditions[?(@.type=="AmtDnsSuffixMatched")].status', description: 'Does the DNS suffix AMT knows match the provisioning certificate.' },
    { name: 'Stopped', type: 'string', jsonPath: '.status.boot.stoppedReason', description: 'Why the last boot stopped.', priority: 1 },
    AGE_COLUMN,
  ],
};
