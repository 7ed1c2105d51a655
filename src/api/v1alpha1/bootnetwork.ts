/**
 * BootNetwork: one L2 segment where boot services run, and how. The
 * controller turns each into a host-network DaemonSet of agents.
 */
import { z } from 'zod';
import { AGE_COLUMN, READY_COLUMN, REASON_COLUMN, objectSchema, statusBase } from './kind.ts';
import type { KindDefinition } from './kind.ts';
import { cidr4, described, dnsName, ipv4, labelMap, list, objectName, text, timestamp } from './fields.ts';
import { celIpv4Number, ipInCidr, ipToNumber } from './ip.ts';

export const BootNetworkModes = ['proxy', 'proxy-colocated', 'dhcp'] as const;
export type BootNetworkMode = (typeof BootNetworkModes)[number];

const port = (description: string, fallback: number) =>
  described(z.number().int().min(1).max(65535), description).default(fallback);

const Toleration = described(z.object({
  key: text('Taint key the toleration applies to; empty matches all keys with operator Exists.', 317).optional(),
  operator: described(z.enum(['Exists', 'Equal']), 'Exists or Equal (default Equal).').optional(),
  value: text('Taint value to match with operator Equal.', 63).optional(),
  effect: described(z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']), 'Taint effect to match; empty matches all effects.').optional(),
  tolerationSeconds: described(z.number().int(), 'For NoExecute: how long the agent stays on a tainted node.').optional(),
}), 'A toleration copied to the agent pods, as in a Pod spec.');

const DhcpSettings = described(z.object({
  pool: described(z.object({
    start: ipv4('First address handed out.'),
    end: ipv4('Last address handed out (inclusive).'),
  }), 'The dynamic address range. Reserved addresses (BootMachine spec.ipAddress) may sit inside or outside it.'),
  router: ipv4('Default gateway handed to clients (option 3).'),
  dnsServers: list(ipv4('A DNS server address.'), 'DNS servers handed to clients (option 6).', 4).optional(),
  domainName: dnsName('DNS domain handed to clients (option 15). Intel AMT learns its provisioning DNS suffix from this option.').optional(),
  leaseSeconds: described(z.number().int().min(60).max(2147483647), 'Lease time in seconds (option 51). Short leases let machines pick up a corrected domain sooner.'),
}), 'Full DHCP server settings; only for mode dhcp.', [
  {
    cel: `${celIpv4Number('self.pool.start')} <= ${celIpv4Number('self.pool.end')}`,
    message: 'dhcp.pool.start must not be after dhcp.pool.end',
    fieldPath: '.pool',
    holds: (d) => ipToNumber(d.pool.start) <= ipToNumber(d.pool.end),
  },
]);

export const BootNetworkSpec = described(z.object({
  mode: described(z.enum(BootNetworkModes),
    'How boot answers are served. proxy: ProxyDHCP on UDP 67 and 4011 beside an existing DHCP server, never assigning addresses. '
    + 'proxy-colocated: UDP 4011 only, on the host of a DHCP server that already sends option 60 PXEClient. '
    + 'dhcp: a full DHCP server that owns the segment (pool, router, DNS, domain, leases).'),
  subnet: cidr4('The IPv4 prefix of the segment. Agents serve the interface that holds an address in it; dhcp pools and routers must lie inside it.'),
  interface: text('Host interface to serve, for example eno1. Empty: the interface with an address in spec.subnet, which survives different NIC names across nodes.', 15).optional(),
  advertiseAddress: ipv4('Server address put in option 54 and siaddr. Empty: the serving interface\'s own address on each node, which is right unless a VIP or NAT sits in front.').optional(),
  nodeSelector: labelMap('Nodes that run agents for this network: they must be attached to the segment.').optional(),
  tolerations: list(Toleration, 'Tolerations for the agent pods, for example to serve from control-plane nodes.', 16).optional(),
  unknownMachines: described(z.enum(['ignore', 'discover', 'boot']),
    'What to do with a PXE client that has no BootMachine. ignore: no answer and no record. discover: create a BootMachine with netboot: deny (rate-limited, capped), so it is recorded but not booted until someone sets netboot: allow. '
    + 'boot: create it and boot it with the matching or default class.').default('discover'),
  defaultProfile: objectName('BootProfile used when no MachineClass matches a machine. Empty: such machines get no answer.').optional(),
  ports: described(z.object({
    dhcp: port('DHCP/ProxyDHCP server port. Firmware always uses 67; change only for dry runs.', 67),
    pxe: port('PXE boot server port (the 4011 step). Firmware always uses 4011; change only for dry runs.', 4011),
    tftp: port('TFTP port. Firmware always uses 69; change only for dry runs.', 69),
    http: port('HTTP port for iPXE scripts and boot files.', 8080),
  }), 'Listening ports.').default({ dhcp: 67, pxe: 4011, tftp: 69, http: 8080 }),
  dhcp: DhcpSettings.optional(),
  discovery: described(z.object({
    maxMachines: described(z.number().int().min(0).max(100000), 'Most BootMachines discovery may create on this network; past it, new MACs are recorded in status only as a count.').default(1000),
    perMinute: described(z.number().int().min(1).max(10000), 'Most BootMachines discovery may create per minute.').default(60),
  }), 'Limits that keep a flood of random MACs from creating unbounded objects.').default({ maxMachines: 1000, perMinute: 60 }),
}), 'The desired state of a boot network.', [
  { cel: 'self.mode != "dhcp" || has(self.dhcp)', message: 'a dhcp network needs spec.dhcp with pool, router and leaseSeconds', fieldPath: '.dhcp', holds: (s) => s.mode !== 'dhcp' || s.dhcp !== undefined },
  { cel: 'self.mode == "dhcp" || !has(self.dhcp)', message: 'a proxy network must not carry a DHCP pool: ProxyDHCP never hands out addresses (remove spec.dhcp or set mode dhcp)', fieldPath: '.dhcp', holds: (s) => s.mode === 'dhcp' || s.dhcp === undefined },
  { cel: '!has(self.dhcp) || (cidr(self.subnet).containsIP(self.dhcp.pool.start) && cidr(self.subnet).containsIP(self.dhcp.pool.end))', message: 'dhcp.pool must lie inside spec.subnet', fieldPath: '.dhcp.pool', holds: (s) => s.dhcp === undefined || (ipInCidr(s.dhcp.pool.start, s.subnet) && ipInCidr(s.dhcp.pool.end, s.subnet)) },
  { cel: '!has(self.dhcp) || cidr(self.subnet).containsIP(self.dhcp.router)', message: 'dhcp.router must lie inside spec.subnet', fieldPath: '.dhcp.router', holds: (s) => s.dhcp === undefined || ipInCidr(s.dhcp.router, s.subnet) },
]);

const AgentReport = described(z.object({
  node: text('Node the agent runs on.', 253),
  planDigest: text('Digest of the plan the agent serves.', 64),
  planGeneration: described(z.number().int().min(0), 'status.planGeneration whose digest equals the one the agent serves; absent until they agree once.').optional(),
  ready: described(z.boolean(), 'Every listener of the agent is bound.'),
  message: text('Why the agent is not ready, or what it serves on.', 1024).optional(),
  counters: described(z.record(z.string().max(63), z.number().int().min(0)), 'Packet and transfer counters of this agent since it started.').optional(),
  dhcp: described(z.enum(['serving', 'standby']),
    'Mode dhcp only: whether this agent answers DHCP on port 67. One agent per network does; agents on further nodes stand by (each keeps its own lease table, so two would hand out the same address).').optional(),
  updatedAt: timestamp('When the agent wrote this entry.'),
}), 'What one agent serves.');

export const BootNetworkStatus = z.object({
  ...statusBase(),
  agents: described(z.object({
    desired: described(z.number().int().min(0), 'Nodes that should run an agent.'),
    ready: described(z.number().int().min(0), 'Agents running and listening.'),
  }), 'Agent DaemonSet rollout.').optional(),
  agentsReady: text('ready/desired, for kubectl get.', 32).optional(),
  planGeneration: described(z.number().int().min(0), 'Generation of the boot plan the controller last published.').optional(),
  planDigest: text('SHA-256 (hex, first 16 bytes) of the boot plan compiled for planGeneration; agents compare it with their own.', 64).optional(),
  planServed: described(z.number().int().min(0), 'Oldest plan generation any agent still serves; equal to planGeneration when every agent is current.').optional(),
  agentReports: list(AgentReport, 'One entry per node running an agent, written by that agent under its own field manager (netboot-agent-<node>).', 5000)
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['node'] }).optional(),
  discovered: described(z.number().int().min(0), 'BootMachines created by discovery on this network.').optional(),
  discoveryCapped: described(z.number().int().min(0), 'Unknown MACs seen but not recorded because the discovery cap or rate was reached.').optional(),
  counters: described(z.record(z.string().max(63), z.number().int().min(0)), 'Packet and transfer counters summed over agents (offers, acks, tftpTransfers, ...).').optional(),
}).meta({ description: 'Observed state of a boot network.' });

export const BootNetwork = objectSchema('BootNetwork', BootNetworkSpec, BootNetworkStatus,
  'BootNetwork is one L2 segment where netboot agents answer PXE clients (ProxyDHCP, DHCP, TFTP, iPXE over HTTP).');
export type BootNetwork = z.output<typeof BootNetwork>;
export type BootNetworkInput = z.input<typeof BootNetwork>;

export const BootNetworkKind: KindDefinition = {
  kind: 'BootNetwork',
  plural: 'bootnetworks',
  shortNames: ['bnet'],
  schema: BootNetwork,
  description: 'BootNetwork is one L2 segment where netboot agents answer PXE clients.',
  printerColumns: [
    { name: 'Mode', type: 'string', jsonPath: '.spec.mode', description: 'proxy, proxy-colocated or dhcp.' },
    { name: 'Subnet', type: 'string', jsonPath: '.spec.subnet', description: 'IPv4 prefix of the segment.' },
    { name: 'Agents', type: 'string', jsonPath: '.status.agentsReady', description: 'Ready agents / desired.' },
    READY_COLUMN,
    REASON_COLUMN,
    AGE_COLUMN,
  ],
};
