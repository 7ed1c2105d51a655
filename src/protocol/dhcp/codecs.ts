/**
 * Value codecs: one per wire shape of option data (an address, a list of
 * addresses, a string, a number of fixed width, ...). The option registry in
 * options.ts maps each option code to one of these; client-codecs.ts holds the
 * shapes only a few client options use.
 *
 * A codec sees an option's data after RFC 3396 concatenation, without code and
 * length bytes. Its decode errors omit the option code ("length 3, want 4");
 * the registry adds it.
 */
import { ipv4At, ipv4Bytes, latin1, latin1Bytes, malformed, uintAt, uintBytes, writeIpv4, writeUint } from './bytes.ts';

/** How one option's data turns into a value and back. */
export interface OptionCodec<T> {
  /** The wire shape in a few words, for docs and `netboot doctor`. */
  readonly shape: string;
  /** The value of `data`; throws DhcpDecodeError when `data` does not have this shape. */
  decode(data: Uint8Array): T;
  /** The data bytes of `value`; throws RangeError when `value` cannot be encoded. */
  encode(value: T): Uint8Array;
}

function exactLength(data: Uint8Array, want: number): void {
  if (data.length !== want) malformed(`length ${data.length}, want ${want}`);
}

function multipleOf(data: Uint8Array, size: number, allowEmpty: boolean): void {
  if (data.length % size !== 0 || (!allowEmpty && data.length === 0)) {
    malformed(`length ${data.length} is not a ${allowEmpty ? '' : 'positive '}multiple of ${size}`);
  }
}

/** Opaque bytes, kept as they came: client id, vendor-specific data, unknown options. */
export const raw: OptionCodec<Uint8Array> = {
  shape: 'bytes',
  decode: (data) => data.slice(),
  encode: (value) => value.slice(),
};

/**
 * NVT ASCII text (RFC 2132 §2). Trailing NULs are dropped because the RFC
 * tells receivers to expect them; the raw bytes stay in the packet, so
 * pass-through is still exact.
 */
export const text: OptionCodec<string> = {
  shape: 'string',
  decode: (data) => latin1(data).replace(/\0+$/, ''),
  encode: (value) => latin1Bytes(value),
};

/** One IPv4 address as a dotted quad. */
export const ipv4: OptionCodec<string> = {
  shape: 'IPv4 address',
  decode: (data) => (exactLength(data, 4), ipv4At(data, 0)),
  encode: ipv4Bytes,
};

/** One or more IPv4 addresses (RFC 2132 gives these options a minimum length of 4). */
export const ipv4List: OptionCodec<string[]> = {
  shape: 'IPv4 address list',
  decode: (data) => {
    multipleOf(data, 4, false);
    return Array.from({ length: data.length / 4 }, (_, i) => ipv4At(data, i * 4));
  },
  encode: (value) => {
    if (value.length === 0) throw new RangeError('an address list needs at least one address');
    const out = new Uint8Array(value.length * 4);
    value.forEach((ip, i) => writeIpv4(out, i * 4, ip));
    return out;
  },
};

function uint(width: 1 | 2 | 4): OptionCodec<number> {
  return {
    shape: `uint${width * 8}`,
    decode: (data) => (exactLength(data, width), uintAt(data, 0, width)),
    encode: (value) => uintBytes(value, width),
  };
}

/** One unsigned byte. */
export const uint8 = uint(1);
/** One big-endian 16-bit unsigned number. */
export const uint16 = uint(2);
/** One big-endian 32-bit unsigned number (seconds for lease times). */
export const uint32 = uint(4);

/** A list of bytes, e.g. the option codes of the parameter request list (55). */
export const uint8List: OptionCodec<number[]> = {
  shape: 'uint8 list',
  decode: (data) => {
    // A plain loop: Array.from walks a typed array through its iterator, and this runs for option 55 of every packet.
    const out = new Array<number>(data.length);
    for (let i = 0; i < data.length; i++) out[i] = data[i] as number;
    return out;
  },
  encode: (value) => {
    const out = new Uint8Array(value.length);
    value.forEach((n, i) => writeUint(out, i, n, 1));
    return out;
  },
};

/** A list of big-endian 16-bit numbers, e.g. client architectures (93, RFC 4578 §2.1). */
export const uint16List: OptionCodec<number[]> = {
  shape: 'uint16 list',
  decode: (data) => {
    multipleOf(data, 2, true);
    const out = new Array<number>(data.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = uintAt(data, i * 2, 2);
    return out;
  },
  encode: (value) => {
    const out = new Uint8Array(value.length * 2);
    value.forEach((n, i) => writeUint(out, i * 2, n, 2));
    return out;
  },
};

/**
 * Option overload (52, RFC 2132 §9.3): 1 = `file` holds options, 2 = `sname`,
 * 3 = both. Any other value would make us read a name as options.
 */
export const overload: OptionCodec<1 | 2 | 3> = {
  shape: 'overload flag',
  decode: (data) => {
    exactLength(data, 1);
    const v = data[0];
    return v === 1 || v === 2 || v === 3 ? v : malformed(`value ${v} is not 1, 2 or 3`);
  },
  encode: (value) => uintBytes(value, 1),
};
