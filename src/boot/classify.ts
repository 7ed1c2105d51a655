/**
 * classify(packet): what kind of client sent a DHCP packet. PXE or not, which
 * architecture, and which stage is asking: the firmware's PXE ROM, our
 * chainloaded iPXE (user class "iPXE" or option 175), or UEFI HTTP boot. The
 * stage decides the answer: firmware gets a loader, iPXE gets its script URL,
 * and confusing the two makes a machine load iPXE forever.
 */
import type { Architecture } from '../api/v1alpha1/machineclass.ts';
import {
  BootOp, HTYPE_ETHERNET, OptionCode, clientArchs, clientGuid, getOption, macString, messageType, userClasses, vendorClass,
} from '../protocol/dhcp/index.ts';
import type { DhcpPacket } from '../protocol/dhcp/index.ts';

export type Stage = 'pxe' | 'ipxe' | 'http';

/** A classified client request. */
export interface Client {
  readonly mac: string;
  readonly messageType: number;
  /** True when option 60 starts with PXEClient or HTTPClient. */
  readonly isBootClient: boolean;
  readonly stage: Stage;
  readonly archCode?: number;
  readonly arch?: Architecture;
  readonly vendorClass?: string;
  readonly userClass?: string;
  readonly uuid?: string;
  readonly requestedIp?: string;
  readonly serverId?: string;
  readonly hostname?: string;
}

export type Classification = { readonly ok: true; readonly client: Client } | { readonly ok: false; readonly reason: string };

/** RFC 4578 / IANA processor architecture types -> our names. 7 and 9 are both x86-64 EFI (the 2016 erratum). */
export const ARCHITECTURES: ReadonlyMap<number, Architecture> = new Map([
  [0, 'bios'], [6, 'uefi-ia32'], [7, 'uefi-x64'], [9, 'uefi-x64'], [10, 'uefi-arm32'], [11, 'uefi-arm64'], [16, 'http-x64'], [19, 'http-arm64'],
]);

function archFromVendorClass(vc: string | undefined): number | undefined {
  const m = vc?.match(/^(?:PXE|HTTP)Client:Arch:(\d{5})/);
  return m?.[1] === undefined ? undefined : Number.parseInt(m[1], 10);
}

/** Classifies a decoded request; a reason when it is nothing we should look at. */
export function classify(packet: DhcpPacket): Classification {
  if (packet.op !== BootOp.Request) return { ok: false, reason: `op ${packet.op} is not a BOOTREQUEST` };
  if (packet.htype !== HTYPE_ETHERNET || packet.hlen !== 6) return { ok: false, reason: `htype ${packet.htype}/hlen ${packet.hlen} is not Ethernet` };
  const type = messageType(packet);
  if (type === undefined) return { ok: false, reason: 'option 53 missing: a BOOTP request, not DHCP' };
  const vc = vendorClass(packet);
  const isBootClient = vc !== undefined && (vc.startsWith('PXEClient') || vc.startsWith('HTTPClient'));
  const users = userClasses(packet);
  const archCode = clientArchs(packet)[0] ?? archFromVendorClass(vc);
  const arch = archCode === undefined ? undefined : ARCHITECTURES.get(archCode);
  const stage: Stage = users.includes('iPXE') || packet.options.has(175) ? 'ipxe' : vc?.startsWith('HTTPClient') === true ? 'http' : 'pxe';
  const uuid = clientGuid(packet);
  const requestedIp = getOption(packet.options, OptionCode.RequestedIpAddress);
  const serverId = getOption(packet.options, OptionCode.ServerIdentifier);
  const hostname = getOption(packet.options, OptionCode.HostName);
  return {
    ok: true,
    client: {
      mac: macString(packet),
      messageType: type,
      isBootClient,
      stage,
      ...(archCode === undefined ? {} : { archCode }),
      ...(arch === undefined ? {} : { arch }),
      ...(vc === undefined ? {} : { vendorClass: vc }),
      ...(users.length === 0 ? {} : { userClass: users.join(',') }),
      ...(uuid === undefined ? {} : { uuid }),
      ...(requestedIp === undefined ? {} : { requestedIp }),
      ...(serverId === undefined ? {} : { serverId }),
      ...(hostname === undefined ? {} : { hostname }),
    },
  };
}
