/**
 * The questions boot/ asks of a request, answered from a decoded packet:
 * what message is it, which firmware sent it, which machine is it. Each
 * returns undefined (or an empty list) when the client did not say, and
 * never throws on a packet from decodePacket.
 */
import { HEX_BYTE, formatMac } from './bytes.ts';
import { BROADCAST_FLAG, HTYPE_ETHERNET, type DhcpPacket } from './packet.ts';
import { OptionCode, getOption } from './options.ts';
import type { ClientFqdn } from './client-codecs.ts';
import { decodePxeVendorOptions, type PxeVendorOptions } from './pxe.ts';

/** Option 53 (MessageType.Discover, ...), undefined for plain BOOTP. */
export function messageType(p: DhcpPacket): number | undefined {
  return getOption(p.options, OptionCode.MessageType);
}

/** Option 60 as text ("PXEClient:Arch:00007:UNDI:003016", "HTTPClient", ...). */
export function vendorClass(p: DhcpPacket): string | undefined {
  return getOption(p.options, OptionCode.VendorClassId);
}

/** Option 93, RFC 4578 architecture codes (0 BIOS, 7 EFI x86-64, ...); most clients send one. */
export function clientArchs(p: DhcpPacket): number[] {
  return getOption(p.options, OptionCode.ClientSystemArch) ?? [];
}

/** Option 77 as strings, from either the RFC 3004 form or iPXE's bare "iPXE". */
export function userClasses(p: DhcpPacket): string[] {
  return getOption(p.options, OptionCode.UserClass) ?? [];
}

/** Option 55: the option codes the client asked for, in its order. */
export function requestedParams(p: DhcpPacket): number[] {
  return getOption(p.options, OptionCode.ParameterRequestList) ?? [];
}

/** The hardware address in `chaddr` as "aa:bb:cc:dd:ee:ff" (hlen bytes, whatever the htype). */
export function macString(p: DhcpPacket): string {
  return formatMac(p.chaddr);
}

/**
 * The Ethernet MAC of the client, or undefined when htype is not Ethernet or
 * hlen is not 6. Machines are named from their MAC, so a handler that needs
 * one should treat undefined as "not a client we can serve".
 */
export function ethernetMac(p: DhcpPacket): string | undefined {
  return p.htype === HTYPE_ETHERNET && p.hlen === 6 && p.chaddr.length === 6 ? formatMac(p.chaddr) : undefined;
}

/**
 * The machine GUID from option 97, rendered by {@link formatGuid}; undefined
 * when absent or not 16 GUID bytes (the raw form is still in the options).
 */
export function clientGuid(p: DhcpPacket): string | undefined {
  const id = getOption(p.options, OptionCode.ClientMachineId);
  return id?.kind === 'guid' ? formatGuid(id.guid) : undefined;
}

/**
 * Canonical 8-4-4-4-12 text of a 16-byte GUID as PXE sends it. PXE, EFI and
 * SMBIOS 2.6+ store the first three fields little-endian (iPXE's uuid_mangle
 * says the same), so they are byte-swapped here and the last two are not.
 * The result matches what dmidecode, /sys/class/dmi/id/product_uuid, the
 * firmware setup screen and QEMU's -uuid show, which is what a user types
 * into a BootMachine; the raw wire order would match none of them.
 */
export function formatGuid(guid: Uint8Array): string {
  if (guid.length !== 16) throw new RangeError(`a GUID is 16 bytes, not ${guid.length}`);
  // One expression over the byte table: this runs for every PXE packet.
  const h = (i: number) => HEX_BYTE[guid[i] as number] as string;
  return `${h(3)}${h(2)}${h(1)}${h(0)}-${h(5)}${h(4)}-${h(7)}${h(6)}-${h(8)}${h(9)}-${h(10)}${h(11)}${h(12)}${h(13)}${h(14)}${h(15)}`;
}

/** The 16 wire bytes (mixed-endian, as in option 97) of a canonical GUID string; the inverse of formatGuid. */
export function parseGuid(text: string): Uint8Array {
  const m = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i.exec(text);
  if (!m) throw new RangeError(`not a GUID: ${JSON.stringify(text)}`);
  const bytes = (h: string) => Array.from({ length: h.length / 2 }, (_, i) => Number.parseInt(h.slice(i * 2, i * 2 + 2), 16));
  const [a = '', b = '', c = '', d = '', e = ''] = m.slice(1);
  return Uint8Array.from([...bytes(a).reverse(), ...bytes(b).reverse(), ...bytes(c).reverse(), ...bytes(d), ...bytes(e)]);
}

/**
 * Option 43 read as PXE sub-options, undefined when absent. Unlike the other
 * accessors this one can throw DhcpDecodeError: option 43 is only validated
 * as bytes, since non-PXE vendors put other things there.
 */
export function pxeVendorOptions(p: DhcpPacket): PxeVendorOptions | undefined {
  const data = getOption(p.options, OptionCode.VendorSpecific);
  return data === undefined ? undefined : decodePxeVendorOptions(data);
}

/** True when the client set the broadcast flag and so cannot take a unicast reply yet. */
export function wantsBroadcast(p: DhcpPacket): boolean {
  return (p.flags & BROADCAST_FLAG) !== 0;
}

/** Option 15 (RFC 2132 §3.17) as sent, trailing NULs dropped; undefined when absent. */
export function domainName(p: DhcpPacket): string | undefined {
  return getOption(p.options, OptionCode.DomainName);
}

/** Option 81 (RFC 4702): flags, the two RCODE bytes and the name; undefined when absent. */
export function clientFqdn(p: DhcpPacket): ClientFqdn | undefined {
  return getOption(p.options, OptionCode.ClientFqdn);
}

/**
 * The domain part of the name in option 81 (RFC 4702 §2.1): everything after
 * the first label, lower-case, without the root dot. Undefined when the
 * option is absent or carries only a host label (a "partial" name, which
 * leaves the domain to the server).
 */
export function clientFqdnDomain(p: DhcpPacket): string | undefined {
  const name = clientFqdn(p)?.name.replace(/\.$/, '').toLowerCase();
  const dot = name?.indexOf('.') ?? -1;
  if (name === undefined || dot < 0) return undefined;
  const domain = name.slice(dot + 1);
  return domain === '' ? undefined : domain;
}
