/**
 * DHCPv4 codec for netboot-operator: pure, no sockets, clocks or logs.
 *
 * Bytes in, values out:
 *
 *     const r = tryDecodePacket(udpPayload);          // or decodePacket(), which throws DhcpDecodeError
 *     if (!r.ok) return ignore(r.reason);             // "option 93 runs past end of packet"
 *     messageType(r.packet) === MessageType.Discover;
 *     clientArchs(r.packet);                          // [7]
 *     getOption(r.packet.options, OptionCode.VendorClassId);
 *
 * Values in, bytes out:
 *
 *     const reply = replyFrom(request);               // xid, chaddr, flags, giaddr, options 61/82/97
 *     setOption(reply.options, OptionCode.MessageType, MessageType.Offer);
 *     setOption(reply.options, OptionCode.VendorSpecific, encodePxeVendorOptions({ discoveryControl: DiscoveryControl.UseBootFile }));
 *     reply.file = 'ipxe.efi';
 *     send(encodePacket(reply));                      // padded to 300 bytes
 *
 * Layout: bytes.ts (error, byte helpers) · tlv.ts (sub-option lists) ·
 * codecs.ts and client-codecs.ts (one codec per value shape) · options.ts (the
 * registry table and typed get/set) · wire.ts (option areas, overload,
 * RFC 3396) · packet.ts (header, decode/encode) · pxe.ts (option 43) ·
 * accessors.ts (what boot/ asks) · reply.ts (replyFrom).
 *
 * Model: addresses are dotted-quad strings; chaddr is a Uint8Array of hlen
 * bytes; options are raw data bytes per code (`DhcpOptions`), decoded through
 * the registry on demand, so unknown options pass through byte for byte.
 * decodePacket validates every registered option once, so typed reads of a
 * decoded packet do not throw. Encoding never uses option overload.
 */
export { DhcpDecodeError, formatMac, parseMac } from './bytes.ts';
export type { Tlv } from './tlv.ts';
export { decodeTlvs, encodeTlvs } from './tlv.ts';
export type { OptionCodec } from './codecs.ts';
export type { ClientFqdn, ClientMachineId, ClientNdi, RelayAgentInfo } from './client-codecs.ts';
export type { DhcpOptions, KnownOptionCode, OptionSpec, OptionValue } from './options.ts';
export {
  MessageType,
  OPTIONS,
  OptionCode,
  decodeOptionValue,
  encodeOptionValue,
  getOption,
  optionName,
  optionSpec,
  setOption,
} from './options.ts';
export type { DecodeResult, DhcpPacket } from './packet.ts';
export {
  BOOTP_MIN_SIZE,
  BROADCAST_FLAG,
  BootOp,
  HTYPE_ETHERNET,
  decodePacket,
  encodePacket,
  tryDecodePacket,
} from './packet.ts';
export type { PxeBootItem, PxeBootServer, PxeMenuItem, PxeMenuPrompt, PxeVendorOptions } from './pxe.ts';
export { DiscoveryControl, decodePxeVendorOptions, encodePxeVendorOptions } from './pxe.ts';
export {
  clientArchs,
  clientFqdn,
  clientFqdnDomain,
  clientGuid,
  domainName,
  ethernetMac,
  formatGuid,
  macString,
  messageType,
  parseGuid,
  pxeVendorOptions,
  requestedParams,
  userClasses,
  vendorClass,
  wantsBroadcast,
} from './accessors.ts';
export { ECHOED_OPTIONS, replyFrom } from './reply.ts';
