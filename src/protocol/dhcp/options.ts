/**
 * The option registry: one data table from option code to a name and a value
 * codec. Everything typed about options derives from it: `OptionCode` (names
 * to codes), `OptionValue<C>` (the value type of a code), and the typed
 * get/set helpers. To support a new option, add a row; the round-trip test
 * fails until the row has a test case.
 *
 * A packet keeps its options as raw bytes (`DhcpOptions`), so an option this
 * table does not know passes through byte for byte, and one it knows is
 * decoded only when asked for (and once, eagerly, by decodePacket to
 * validate it).
 */
import { inContext } from './bytes.ts';
import { clientFqdn, ipxeEncapsulated, machineId, ndi, relayAgentInfo, userClass } from './client-codecs.ts';
import { ipv4, ipv4List, overload, raw, text, uint16, uint16List, uint32, uint8, uint8List, type OptionCodec } from './codecs.ts';

/**
 * Options of one packet: code to data bytes, after RFC 3396 concatenation.
 * Map order is wire order on decode and write order on encode (except that
 * 53 is always written first and 82 last; see wire.ts).
 */
export type DhcpOptions = Map<number, Uint8Array>;

/** One registry row. */
export interface OptionSpec<T> {
  /** PascalCase name, also the key in {@link OptionCode}. */
  readonly name: string;
  /** Where the option is defined. */
  readonly rfc: string;
  readonly codec: OptionCodec<T>;
}

/** The registry. Codes 0 (pad) and 255 (end) are framing, not options. */
export const OPTIONS = {
  1: { name: 'SubnetMask', rfc: 'RFC 2132 §3.3', codec: ipv4 },
  3: { name: 'Routers', rfc: 'RFC 2132 §3.5', codec: ipv4List },
  6: { name: 'DnsServers', rfc: 'RFC 2132 §3.8', codec: ipv4List },
  12: { name: 'HostName', rfc: 'RFC 2132 §3.14', codec: text },
  15: { name: 'DomainName', rfc: 'RFC 2132 §3.17', codec: text },
  43: { name: 'VendorSpecific', rfc: 'RFC 2132 §8.4; PXE 2.1 §2.4 (see pxe.ts)', codec: raw },
  50: { name: 'RequestedIpAddress', rfc: 'RFC 2132 §9.1', codec: ipv4 },
  51: { name: 'LeaseTime', rfc: 'RFC 2132 §9.2', codec: uint32 },
  52: { name: 'Overload', rfc: 'RFC 2132 §9.3', codec: overload },
  53: { name: 'MessageType', rfc: 'RFC 2132 §9.6', codec: uint8 },
  54: { name: 'ServerIdentifier', rfc: 'RFC 2132 §9.7', codec: ipv4 },
  55: { name: 'ParameterRequestList', rfc: 'RFC 2132 §9.8', codec: uint8List },
  56: { name: 'Message', rfc: 'RFC 2132 §9.9', codec: text },
  57: { name: 'MaxMessageSize', rfc: 'RFC 2132 §9.10', codec: uint16 },
  58: { name: 'RenewalTime', rfc: 'RFC 2132 §9.11', codec: uint32 },
  59: { name: 'RebindingTime', rfc: 'RFC 2132 §9.12', codec: uint32 },
  60: { name: 'VendorClassId', rfc: 'RFC 2132 §9.13', codec: text },
  61: { name: 'ClientId', rfc: 'RFC 2132 §9.14', codec: raw },
  66: { name: 'TftpServerName', rfc: 'RFC 2132 §9.4', codec: text },
  67: { name: 'BootFileName', rfc: 'RFC 2132 §9.5', codec: text },
  77: { name: 'UserClass', rfc: 'RFC 3004', codec: userClass },
  81: { name: 'ClientFqdn', rfc: 'RFC 4702', codec: clientFqdn },
  82: { name: 'RelayAgentInfo', rfc: 'RFC 3046', codec: relayAgentInfo },
  93: { name: 'ClientSystemArch', rfc: 'RFC 4578 §2.1', codec: uint16List },
  94: { name: 'ClientNdi', rfc: 'RFC 4578 §2.2', codec: ndi },
  97: { name: 'ClientMachineId', rfc: 'RFC 4578 §2.3', codec: machineId },
  175: { name: 'IpxeEncapsulated', rfc: 'iPXE include/ipxe/dhcp.h', codec: ipxeEncapsulated },
} as const satisfies Record<number, OptionSpec<unknown>>;

type Registry = typeof OPTIONS;

/** A code the registry knows. */
export type KnownOptionCode = keyof Registry;

/** The decoded value type of option `C`. */
export type OptionValue<C extends KnownOptionCode> = Registry[C]['codec'] extends OptionCodec<infer T> ? T : never;

/** Option codes by registry name: `OptionCode.VendorClassId === 60`. */
export const OptionCode = Object.fromEntries(Object.entries(OPTIONS).map(([code, spec]) => [spec.name, Number(code)])) as {
  readonly [C in KnownOptionCode as Registry[C]['name']]: C;
};

/** DHCP message types (option 53, RFC 2132 §9.6). */
export const MessageType = {
  Discover: 1,
  Offer: 2,
  Request: 3,
  Decline: 4,
  Ack: 5,
  Nak: 6,
  Release: 7,
  Inform: 8,
} as const;

/** The registry row for `code`, or undefined for an unknown (pass-through) option. */
export function optionSpec(code: number): OptionSpec<unknown> | undefined {
  return (OPTIONS as Record<number, OptionSpec<unknown>>)[code];
}

/** "VendorClassId" for 60, "Option249" for a code the registry does not know. */
export function optionName(code: number): string {
  return optionSpec(code)?.name ?? `Option${code}`;
}

/**
 * The value of option `code` decoded from `data`. Throws DhcpDecodeError with
 * the code in the reason ("option 54 length 3, want 4").
 */
export function decodeOptionValue<C extends KnownOptionCode>(code: C, data: Uint8Array): OptionValue<C> {
  const spec: OptionSpec<unknown> = OPTIONS[code];
  // Not withContext: this runs several times per packet, and the context text is only needed on failure.
  try {
    return spec.codec.decode(data) as OptionValue<C>;
  } catch (err) {
    throw inContext(`option ${code}`, err);
  }
}

/** The data bytes of `value` for option `code`. Throws RangeError on a value that cannot be encoded. */
export function encodeOptionValue<C extends KnownOptionCode>(code: C, value: OptionValue<C>): Uint8Array {
  const spec: OptionSpec<unknown> = OPTIONS[code];
  return spec.codec.encode(value);
}

/**
 * The typed value of option `code`, undefined when absent. On a packet from
 * decodePacket this never throws (decoding validated every known option);
 * on hand-built raw data it throws DhcpDecodeError like decodeOptionValue.
 */
export function getOption<C extends KnownOptionCode>(options: ReadonlyMap<number, Uint8Array>, code: C): OptionValue<C> | undefined {
  const data = options.get(code);
  return data === undefined ? undefined : decodeOptionValue(code, data);
}

/** Sets option `code` to the encoding of `value`, replacing any earlier value. */
export function setOption<C extends KnownOptionCode>(options: DhcpOptions, code: C, value: OptionValue<C>): void {
  options.set(code, encodeOptionValue(code, value));
}

/**
 * Decodes every registered option in `options` once, so that a packet with a
 * malformed known option is refused at the edge rather than half understood
 * by a handler. Throws the first DhcpDecodeError.
 */
export function validateOptions(options: ReadonlyMap<number, Uint8Array>): void {
  for (const [code, data] of options) {
    if (optionSpec(code) !== undefined) decodeOptionValue(code as KnownOptionCode, data);
  }
}
