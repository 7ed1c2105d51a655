/**
 * MachineClass: which machines get which BootProfile and AmtNetworkPolicy.
 * The highest priority matching class wins; ties go to the most specific
 * selector, then to the name, so resolution never depends on list order.
 */
import { z } from 'zod';
import { AGE_COLUMN, READY_COLUMN, REASON_COLUMN, objectSchema, statusBase } from './kind.ts';
import type { KindDefinition } from './kind.ts';
import { described, labelMap, list, mac, matching, objectName, text, uuid } from './fields.ts';

/** Firmware kinds a selector can name; the agent classifies option 93 + 60 into these. */
export const Architectures = ['bios', 'uefi-ia32', 'uefi-x64', 'uefi-arm32', 'uefi-arm64', 'http-x64', 'http-arm64'] as const;
export type Architecture = (typeof Architectures)[number];

const LabelRequirement = described(z.object({
  key: text('Label key.', 317),
  operator: described(z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']), 'How the key relates to the values.'),
  values: list(text('A label value.', 63), 'Values for In and NotIn.', 32).optional(),
}), 'A label selector requirement, as in Kubernetes label selectors.');

const Selector = described(z.object({
  macs: list(mac('A MAC address.'), 'Exact MAC addresses.', 1024).optional(),
  macPrefixes: list(matching('A MAC prefix (an OUI or longer).', /^([0-9a-f]{2}:){0,5}[0-9a-f]{2}$/, 'must be a lowercase colon-separated MAC prefix such as 52:54:00', 17), 'MAC prefixes (OUI or longer).', 64).optional(),
  architectures: list(described(z.enum(Architectures), 'A client firmware architecture.'), 'Client architectures (from DHCP option 93 and 60).', 8).optional(),
  vendorClassPrefixes: list(text('A vendor-class prefix such as PXEClient:Arch:00007.', 128), 'Prefixes of DHCP option 60.', 16).optional(),
  uuids: list(uuid('A machine UUID.'), 'Machine UUIDs (DHCP option 97 / SMBIOS).', 1024).optional(),
  machineLabels: described(z.object({
    matchLabels: labelMap('Labels the BootMachine must carry.').optional(),
    matchExpressions: list(LabelRequirement, 'Label requirements, all of which must hold.', 16).optional(),
  }), 'A label selector over BootMachine labels.').optional(),
}), 'Machines this class applies to. Every listed criterion must match (AND); within a list any entry may match (OR).');

const selectorIsEmpty = (s: z.output<typeof Selector> | undefined): boolean =>
  s === undefined || [s.macs, s.macPrefixes, s.architectures, s.vendorClassPrefixes, s.uuids].every((l) => l === undefined || l.length === 0)
  && (s.machineLabels === undefined || (Object.keys(s.machineLabels.matchLabels ?? {}).length === 0 && (s.machineLabels.matchExpressions ?? []).length === 0));

export const MachineClassSpec = described(z.object({
  priority: described(z.number().int().min(-1000).max(1000), 'Higher wins when several classes match a machine.').default(0),
  default: described(z.boolean(), 'The fallback class for machines no other class matches. Only a default class may have an empty selector.').default(false),
  selector: Selector.optional(),
  networks: list(objectName('A BootNetwork name.'), 'BootNetworks this class applies on. Empty: all of them.', 32).optional(),
  profile: objectName('The BootProfile machines of this class boot.'),
  amtPolicy: objectName('The AmtNetworkPolicy that applies to machines of this class, if they have Intel AMT.').optional(),
}), 'The desired matching and assignment.', [
  {
    cel: 'self.default || (has(self.selector) && ((has(self.selector.macs) && size(self.selector.macs) > 0) || (has(self.selector.macPrefixes) && size(self.selector.macPrefixes) > 0) '
      + '|| (has(self.selector.architectures) && size(self.selector.architectures) > 0) || (has(self.selector.vendorClassPrefixes) && size(self.selector.vendorClassPrefixes) > 0) '
      + '|| (has(self.selector.uuids) && size(self.selector.uuids) > 0) || (has(self.selector.machineLabels) && ((has(self.selector.machineLabels.matchLabels) && size(self.selector.machineLabels.matchLabels) > 0) '
      + '|| (has(self.selector.machineLabels.matchExpressions) && size(self.selector.machineLabels.matchExpressions) > 0)))))',
    message: 'selector must not be empty unless the class sets default: true (an empty selector would match every machine)',
    fieldPath: '.selector',
    holds: (s) => s.default || !selectorIsEmpty(s.selector),
  },
]);

export const MachineClassStatus = z.object({
  ...statusBase(),
  matchedMachines: described(z.number().int().min(0), 'BootMachines this class currently resolves for.').optional(),
}).meta({ description: 'Observed state of a machine class.' });

export const MachineClass = objectSchema('MachineClass', MachineClassSpec, MachineClassStatus,
  'MachineClass assigns a BootProfile and an AmtNetworkPolicy to the machines its selector matches.');
export type MachineClass = z.output<typeof MachineClass>;

export const MachineClassKind: KindDefinition = {
  kind: 'MachineClass',
  plural: 'machineclasses',
  shortNames: ['mclass'],
  schema: MachineClass,
  description: 'MachineClass assigns a BootProfile and an AmtNetworkPolicy to matching machines.',
  printerColumns: [
    { name: 'Priority', type: 'integer', jsonPath: '.spec.priority', description: 'Higher wins.' },
    { name: 'Default', type: 'boolean', jsonPath: '.spec.default', description: 'Fallback class.' },
    { name: 'Profile', type: 'string', jsonPath: '.spec.profile', description: 'BootProfile assigned.' },
    { name: 'Matched', type: 'integer', jsonPath: '.status.matchedMachines', description: 'Machines resolved to this class.' },
    READY_COLUMN,
    AGE_COLUMN,
    REASON_COLUMN,
  ],
};
