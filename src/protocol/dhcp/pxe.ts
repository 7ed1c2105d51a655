/**
 * PXE vendor options: the sub-options a PXE server puts in option 43 when the
 * client's vendor class starts with "PXEClient" (PXE 2.1 §2.4, Table 2-1).
 * Option 43 itself is raw bytes in the registry because its meaning depends
 * on option 60; these helpers give the PXE reading of it.
 *
 * Only the sub-options a boot server sends are typed: 6 discovery control,
 * 8 boot servers, 9 boot menu, 10 menu prompt and 71 boot item. The MTFTP
 * ones (1-5, 7, 11) and anything else stay raw TLVs in `other`.
 */
import { ipv4At, ipv4Bytes, latin1, latin1Bytes, malformed, uintAt, uintBytes, withContext } from './bytes.ts';
import { uint8, type OptionCodec } from './codecs.ts';
import { decodeTlvs, encodeTlvs, type Tlv } from './tlv.ts';

/** Bits of sub-option 6. `UseBootFile` is the one that makes a ROM skip discovery and the 4011 step. */
export const DiscoveryControl = {
  /** Do not discover boot servers by broadcast. */
  DisableBroadcast: 0x01,
  /** Do not discover boot servers by multicast. */
  DisableMulticast: 0x02,
  /** Only use and accept servers listed in sub-option 8. */
  OnlyListedServers: 0x04,
  /** If the offer carries a boot file name, download it: no prompt, menu or discovery. */
  UseBootFile: 0x08,
} as const;

/** One entry of sub-option 8: a boot server type and the addresses that serve it. */
export interface PxeBootServer {
  readonly type: number;
  readonly addresses: readonly string[];
}

/** One entry of sub-option 9: the boot server type it selects and the text shown (type 0 = boot from local disk). */
export interface PxeMenuItem {
  readonly type: number;
  readonly description: string;
}

/** Sub-option 10: seconds to show `prompt` before picking the first menu item (255 = wait for a key, 0 = do not show it). */
export interface PxeMenuPrompt {
  readonly timeout: number;
  readonly prompt: string;
}

/** Sub-option 71: the boot server type and layer a client asks for, or a server answers with, on port 4011. */
export interface PxeBootItem {
  readonly type: number;
  readonly layer: number;
}

/** The PXE reading of option 43. */
export interface PxeVendorOptions {
  readonly discoveryControl?: number;
  readonly bootServers?: readonly PxeBootServer[];
  readonly bootMenu?: readonly PxeMenuItem[];
  readonly menuPrompt?: PxeMenuPrompt;
  readonly bootItem?: PxeBootItem;
  /** Sub-options not typed here, in wire order. */
  readonly other?: readonly Tlv[];
}

type TypedKey = Exclude<keyof PxeVendorOptions, 'other'>;

/** Repeated "type (2 bytes), count or length (1 byte), payload" entries of sub-options 8 and 9. */
function entries<T>(unit: number, read: (type: number, body: Uint8Array) => T, write: (v: T) => [number, number, Uint8Array]): OptionCodec<readonly T[]> {
  return {
    shape: 'list of entries',
    decode: (data) => {
      const out: T[] = [];
      for (let at = 0; at < data.length; ) {
        const n = data[at + 2];
        if (n === undefined || at + 3 + n * unit > data.length) malformed('entry runs past end');
        out.push(read(uintAt(data, at, 2), data.subarray(at + 3, at + 3 + n * unit)));
        at += 3 + n * unit;
      }
      return out;
    },
    encode: (list) => {
      const parts = list.map(write).map(([type, n, body]) => [...uintBytes(type, 2), ...uintBytes(n, 1), ...body]);
      return Uint8Array.from(parts.flat());
    },
  };
}

const bootServers = entries<PxeBootServer>(
  4,
  (type, body) => ({ type, addresses: Array.from({ length: body.length / 4 }, (_, i) => ipv4At(body, i * 4)) }),
  (s) => [s.type, s.addresses.length, Uint8Array.from(s.addresses.flatMap((ip) => [...ipv4Bytes(ip)]))],
);

const bootMenu = entries<PxeMenuItem>(
  1,
  (type, body) => ({ type, description: latin1(body) }),
  (m) => [m.type, m.description.length, latin1Bytes(m.description)],
);

const menuPrompt: OptionCodec<PxeMenuPrompt> = {
  shape: 'timeout, prompt',
  decode: (data) => (data.length < 1 ? malformed('length 0, want at least 1') : { timeout: data[0] ?? 0, prompt: latin1(data.subarray(1)) }),
  encode: (v) => Uint8Array.of(...uintBytes(v.timeout, 1), ...latin1Bytes(v.prompt)),
};

const bootItem: OptionCodec<PxeBootItem> = {
  shape: 'type, layer',
  decode: (data) => (data.length !== 4 ? malformed(`length ${data.length}, want 4`) : { type: uintAt(data, 0, 2), layer: uintAt(data, 2, 2) }),
  encode: (v) => Uint8Array.of(...uintBytes(v.type, 2), ...uintBytes(v.layer, 2)),
};

/** Sub-option table, in the order they are encoded. */
const SUBOPTIONS: { readonly [K in TypedKey]: { readonly code: number; readonly codec: OptionCodec<NonNullable<PxeVendorOptions[K]>> } } = {
  discoveryControl: { code: 6, codec: uint8 },
  bootServers: { code: 8, codec: bootServers },
  bootMenu: { code: 9, codec: bootMenu },
  menuPrompt: { code: 10, codec: menuPrompt },
  bootItem: { code: 71, codec: bootItem },
};

/** SUBOPTIONS in code order, listed once rather than per encode. */
const SUBOPTION_LIST = Object.entries(SUBOPTIONS) as [TypedKey, (typeof SUBOPTIONS)[TypedKey]][];

const KEY_BY_CODE = new Map(Object.entries(SUBOPTIONS).map(([key, { code }]) => [code, key as TypedKey]));

/**
 * The PXE sub-options in option 43 `data`. Throws DhcpDecodeError naming the
 * sub-option ("option 43 sub-option 8 entry runs past end") when the data is
 * not a PXE sub-option list or a typed sub-option has the wrong shape.
 */
export function decodePxeVendorOptions(data: Uint8Array): PxeVendorOptions {
  const out: Record<string, unknown> = {};
  const other: Tlv[] = [];
  for (const tlv of withContext('option 43', () => decodeTlvs(data))) {
    const key = KEY_BY_CODE.get(tlv.code);
    if (key === undefined) {
      other.push(tlv);
      continue;
    }
    if (key in out) malformed(`option 43 sub-option ${tlv.code} appears twice`);
    out[key] = withContext(`option 43 sub-option ${tlv.code}`, () => SUBOPTIONS[key].codec.decode(tlv.data));
  }
  if (other.length > 0) out['other'] = other;
  return out as PxeVendorOptions;
}

/**
 * Option 43 data for `value`: typed sub-options in code order, then `other`,
 * then the end marker PXE ROMs expect. Throws RangeError when the result
 * exceeds 255 bytes: PXE 2.1 (1999) predates RFC 3396 (2002), so a ROM may
 * not join option 43 split over two occurrences. A boot menu therefore has
 * well under 253 bytes to spend.
 */
export function encodePxeVendorOptions(value: PxeVendorOptions): Uint8Array {
  const tlvs: Tlv[] = [];
  for (const [key, { code, codec }] of SUBOPTION_LIST) {
    const v = value[key];
    if (v !== undefined) tlvs.push({ code, data: (codec as OptionCodec<unknown>).encode(v) });
  }
  const data = encodeTlvs([...tlvs, ...(value.other ?? [])], true);
  if (data.length > 255) throw new RangeError(`PXE vendor options are ${data.length} bytes; option 43 holds 255`);
  return data;
}
