/**
 * Builders for DHCP requests as firmware sends them, with modifiers in the
 * cert-manager style: `request(withArch(7), asIpxe())`. Bytes go through the
 * real codec, so a test that uses them exercises encode and decode too.
 */
import { MessageType, OptionCode, decodePacket, encodePacket, parseMac, setOption } from '../../src/protocol/dhcp/index.ts';
import type { DhcpPacket } from '../../src/protocol/dhcp/index.ts';
import { compilePlan } from '../../src/boot/plan.ts';
import type { BootPlan } from '../../src/boot/plan.ts';
import { loadResources, requireValid } from '../../src/api/load.ts';
import type { BootMachine } from '../../src/api/v1alpha1/bootmachine.ts';
import type { BootNetwork } from '../../src/api/v1alpha1/bootnetwork.ts';
import type { BootProfile } from '../../src/api/v1alpha1/bootprofile.ts';
import type { MachineClass } from '../../src/api/v1alpha1/machineclass.ts';

export type Modifier = (p: DhcpPacket) => void;

/** A firmware PXE DISCOVER from 52:54:00:12:34:56, BIOS by default. */
export function request(...mods: Modifier[]): DhcpPacket {
  const p: DhcpPacket = {
    op: 1, htype: 1, hlen: 6, hops: 0, xid: 0x1234abcd, secs: 4, flags: 0x8000,
    ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: '0.0.0.0',
    chaddr: parseMac('52:54:00:12:34:56'), sname: '', file: '', options: new Map(),
  };
  setOption(p.options, OptionCode.MessageType, MessageType.Discover);
  setOption(p.options, OptionCode.ParameterRequestList, [1, 3, 6, 43, 60, 66, 67]);
  setOption(p.options, OptionCode.ClientSystemArch, [0]);
  setOption(p.options, OptionCode.VendorClassId, 'PXEClient:Arch:00000:UNDI:002001');
  for (const m of mods) m(p);
  return decodePacket(encodePacket(p));
}

export const withMac = (mac: string): Modifier => (p) => { p.chaddr = parseMac(mac); };
export const withType = (type: number): Modifier => (p) => setOption(p.options, OptionCode.MessageType, type);
export const withArch = (arch: number): Modifier => (p) => {
  setOption(p.options, OptionCode.ClientSystemArch, [arch]);
  setOption(p.options, OptionCode.VendorClassId, `PXEClient:Arch:${String(arch).padStart(5, '0')}:UNDI:003016`);
};
export const asIpxe = (): Modifier => (p) => setOption(p.options, OptionCode.UserClass, ['iPXE']);
export const asHttpBoot = (arch = 16): Modifier => (p) => {
  setOption(p.options, OptionCode.ClientSystemArch, [arch]);
  setOption(p.options, OptionCode.VendorClassId, `HTTPClient:Arch:${String(arch).padStart(5, '0')}:UNDI:003001`);
};
export const notPxe = (): Modifier => (p) => { p.options.delete(OptionCode.VendorClassId); p.options.delete(OptionCode.ClientSystemArch); };
export const withServerId = (ip: string): Modifier => (p) => setOption(p.options, OptionCode.ServerIdentifier, ip);
export const withRequestedIp = (ip: string): Modifier => (p) => setOption(p.options, OptionCode.RequestedIpAddress, ip);
export const withCiaddr = (ip: string): Modifier => (p) => { p.ciaddr = ip; };
export const withGiaddr = (ip: string): Modifier => (p) => { p.giaddr = ip; };

/** A plan from YAML text (the same loader as `netboot serve`). */
export function planFrom(yaml: string, generation = 1): BootPlan {
  const resources = requireValid(loadResources([{ file: 'test.yaml', text: yaml }]));
  const of = <T>(kind: string) => resources.filter((r) => r.kind === kind).map((r) => r.object as T);
  const network = of<BootNetwork>('BootNetwork')[0];
  if (network === undefined) throw new Error('planFrom needs a BootNetwork');
  return compilePlan({ network, profiles: of<BootProfile>('BootProfile'), classes: of<MachineClass>('MachineClass'), machines: of<BootMachine>('BootMachine') }, generation);
}

/**
 * YAML for labYaml's `extra`: the default MachineClass `vpro` (profile hello)
 * naming the AmtNetworkPolicy `fleet`, whose spec is `policySpec` (flow style).
 */
export function amtFleetYaml(policySpec: string): string {
  return `---
apiVersion: netboot.dev/v1alpha1
kind: MachineClass
metadata: {name: vpro}
spec: {default: true, profile: hello, amtPolicy: fleet}
---
apiVersion: netboot.dev/v1alpha1
kind: AmtNetworkPolicy
metadata: {name: fleet}
spec: ${policySpec}
`;
}

/** The quickstart-like resources most tests start from; `mode` and extra YAML vary. */
export function labYaml(mode: 'proxy' | 'proxy-colocated' | 'dhcp', extra = '', networkExtra = ''): string {
  const dhcp = mode === 'dhcp' ? '\n  dhcp: {pool: {start: 10.9.0.100, end: 10.9.0.101}, router: 10.9.0.1, dnsServers: [10.9.0.1], domainName: lab.example.com, leaseSeconds: 600}' : '';
  return `apiVersion: netboot.dev/v1alpha1
kind: BootNetwork
metadata: {name: lab}
spec:
  mode: ${mode}
  subnet: 10.9.0.0/24
  unknownMachines: boot
  defaultProfile: hello${dhcp}${networkExtra}
---
apiVersion: netboot.dev/v1alpha1
kind: BootProfile
metadata: {name: hello}
spec:
  ipxe: {script: "#!ipxe\\necho hello {{ mac }}\\n"}
${extra}`;
}
