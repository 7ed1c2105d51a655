/**
 * Codecs for the structured options that clients and relays send: NDI (94),
 * machine id (97), user class (77), client FQDN (81), relay agent info (82)
 * and iPXE's encapsulated options (175). Firmware gets several of these
 * wrong, so the decoders here are tolerant where a wrong shape is common and
 * harmless, and say so next to each case.
 */
import { latin1, latin1Bytes, malformed } from './bytes.ts';
import type { OptionCodec } from './codecs.ts';
import { decodeTlvs, encodeTlvs, type Tlv } from './tlv.ts';

/** Client network device interface (94, RFC 4578 §2.2): type 1 = UNDI, then the UNDI version. */
export interface ClientNdi {
  readonly type: number;
  readonly major: number;
  readonly minor: number;
}

/** Codec for option 94: exactly 3 bytes. */
export const ndi: OptionCodec<ClientNdi> = {
  shape: 'type, major, minor',
  decode: (data) => {
    if (data.length !== 3) malformed(`length ${data.length}, want 3`);
    return { type: data[0] ?? 0, major: data[1] ?? 0, minor: data[2] ?? 0 };
  },
  encode: (v) => Uint8Array.of(v.type, v.major, v.minor),
};

/**
 * Client machine identifier (97, RFC 4578 §2.3): a type byte (0 = GUID) and 16
 * GUID bytes in the order firmware sends them (see accessors.ts for how the
 * GUID is rendered). Some Intel ROMs omit the type byte; that 16-byte form
 * decodes with `type: undefined`. Any other length is kept as `raw` rather
 * than rejected: the option is echoed back, never interpreted.
 */
export type ClientMachineId =
  | { readonly kind: 'guid'; readonly type: number | undefined; readonly guid: Uint8Array }
  | { readonly kind: 'raw'; readonly bytes: Uint8Array };

/** Codec for option 97: never fails; lengths other than 16 and 17 decode as `raw`. */
export const machineId: OptionCodec<ClientMachineId> = {
  shape: 'type byte + 16-byte GUID',
  decode: (data) => {
    if (data.length === 17) return { kind: 'guid', type: data[0], guid: data.slice(1) };
    if (data.length === 16) return { kind: 'guid', type: undefined, guid: data.slice() };
    return { kind: 'raw', bytes: data.slice() };
  },
  encode: (v) => {
    if (v.kind === 'raw') return v.bytes.slice();
    if (v.guid.length !== 16) throw new RangeError(`a GUID is 16 bytes, not ${v.guid.length}`);
    return v.type === undefined ? v.guid.slice() : Uint8Array.of(v.type, ...v.guid);
  },
};

/**
 * User class (77). RFC 3004 makes it a list of length-prefixed strings, but
 * iPXE (and some other clients) send one bare string ("iPXE"). Data that
 * parses exactly as RFC 3004 is read that way; anything else is one string.
 * Encoding always writes RFC 3004.
 */
export const userClass: OptionCodec<string[]> = {
  shape: 'RFC 3004 string list, or one bare string',
  decode: (data) => rfc3004(data) ?? (data.length === 0 ? [] : [latin1(data)]),
  encode: (classes) => {
    const parts = classes.map((c) => {
      if (c.length === 0 || c.length > 255) throw new RangeError(`user class ${JSON.stringify(c)} must be 1-255 bytes`);
      return [c.length, ...latin1Bytes(c)];
    });
    return Uint8Array.from(parts.flat());
  },
};

function rfc3004(data: Uint8Array): string[] | undefined {
  const out: string[] = [];
  let at = 0;
  while (at < data.length) {
    const len = data[at] ?? 0;
    if (len === 0 || at + 1 + len > data.length) return undefined;
    out.push(latin1(data.subarray(at + 1, at + 1 + len)));
    at += 1 + len;
  }
  return out.length > 0 ? out : undefined;
}

/**
 * Client FQDN (81, RFC 4702). `name` ends in "." when the client sent a fully
 * qualified name and not when it sent a partial one, which keeps the
 * difference through a round trip. Flag bit E (0x04) selects DNS wire format
 * for the name; without it the name is plain (deprecated) ASCII.
 */
export interface ClientFqdn {
  readonly flags: number;
  readonly rcode1: number;
  readonly rcode2: number;
  readonly name: string;
}

const FQDN_E = 0x04;

/** Codec for option 81: at least 3 bytes; a wire-format name may not use compression. */
export const clientFqdn: OptionCodec<ClientFqdn> = {
  shape: 'flags, rcode1, rcode2, domain name',
  decode: (data) => {
    if (data.length < 3) malformed(`length ${data.length}, want at least 3`);
    const flags = data[0] ?? 0;
    const rest = data.subarray(3);
    const name = flags & FQDN_E ? wireName(rest) : latin1(rest).replace(/\0+$/, '');
    return { flags, rcode1: data[1] ?? 0, rcode2: data[2] ?? 0, name };
  },
  encode: (v) => {
    const name = v.flags & FQDN_E ? wireNameBytes(v.name) : latin1Bytes(v.name);
    return Uint8Array.of(v.flags, v.rcode1, v.rcode2, ...name);
  },
};

function wireName(data: Uint8Array): string {
  const labels: string[] = [];
  let at = 0;
  while (at < data.length) {
    const len = data[at] ?? 0;
    if (len === 0) {
      if (at + 1 !== data.length) malformed('bytes after the root label of the domain name');
      return labels.join('.') + '.';
    }
    // 0xc0 and friends are DNS compression pointers, which RFC 4702 forbids here.
    if (len > 63) malformed(`domain name label length ${len} exceeds 63`);
    if (at + 1 + len > data.length) malformed('domain name runs past end');
    labels.push(latin1(data.subarray(at + 1, at + 1 + len)));
    at += 1 + len;
  }
  return labels.join('.');
}

function wireNameBytes(name: string): number[] {
  const qualified = name.endsWith('.');
  const body = qualified ? name.slice(0, -1) : name;
  const labels = body === '' ? [] : body.split('.');
  const out: number[] = [];
  for (const label of labels) {
    if (label.length === 0 || label.length > 63) throw new RangeError(`domain name label ${JSON.stringify(label)} must be 1-63 bytes`);
    out.push(label.length, ...latin1Bytes(label));
  }
  if (qualified) out.push(0);
  return out;
}

/**
 * Relay agent information (82, RFC 3046). Servers must echo it unchanged, so
 * `raw` is what gets encoded; `subOptions` (1 = circuit id, 2 = remote id, ...)
 * is a reading aid, undefined when the data is not a well-formed list.
 */
export interface RelayAgentInfo {
  readonly raw: Uint8Array;
  readonly subOptions: Tlv[] | undefined;
}

/** Codec for option 82: never fails; encodes `raw` and ignores `subOptions`. */
export const relayAgentInfo: OptionCodec<RelayAgentInfo> = {
  shape: 'relay sub-options (kept raw)',
  decode: (data) => {
    let subOptions: Tlv[] | undefined;
    try {
      subOptions = decodeTlvs(data, { padAndEnd: false });
    } catch {
      subOptions = undefined;
    }
    return { raw: data.slice(), subOptions };
  },
  encode: (v) => v.raw.slice(),
};

/**
 * iPXE encapsulated options (175): sub-options kept as raw TLVs. iPXE defines
 * many (0xb1 = bus id, 0xeb = version, 0x10-0x7f = feature markers such as
 * 0x13 HTTP); nothing here interprets them, boot/ decides which ones matter.
 */
export const ipxeEncapsulated: OptionCodec<Tlv[]> = {
  shape: 'sub-options (kept raw)',
  decode: (data) => decodeTlvs(data),
  encode: (tlvs) => encodeTlvs(tlvs),
};
