/**
 * Byte-level helpers shared by the DHCP codec: the decode error, IPv4 and MAC
 * text forms, Latin-1 strings and a bounded reader. Nothing here knows DHCP
 * semantics; it exists so the codec files read as field layouts.
 */

/**
 * Why a packet (or one option in it) could not be decoded. `reason` is short,
 * lower case and names the field ("option 93 runs past end of packet"), so the
 * agent can log it and map it to NB2001 PacketMalformed at the edge. The
 * codec throws nothing else on malformed input.
 */
export class DhcpDecodeError extends Error {
  readonly reason: string;

  constructor(reason: string) {
    super(`malformed DHCP packet: ${reason}`);
    this.name = 'DhcpDecodeError';
    this.reason = reason;
  }
}

/** Throws a {@link DhcpDecodeError}; an expression so it fits in `??` and ternaries. */
export function malformed(reason: string): never {
  throw new DhcpDecodeError(reason);
}

/**
 * Runs `decode`, prefixing the reason of a DhcpDecodeError it throws with
 * `context` ("option 54" + "length 3, want 4"), so inner codecs need not know
 * where their bytes came from.
 */
export function withContext<T>(context: string, decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    throw inContext(context, err);
  }
}

/** `err` with `context` before its reason when it is a DhcpDecodeError, else `err` itself (withContext's rethrow, for hot paths that build the context only on failure). */
export function inContext(context: string, err: unknown): unknown {
  return err instanceof DhcpDecodeError ? new DhcpDecodeError(`${context} ${err.reason}`) : err;
}

/** Dotted-quad text of the 4 bytes at `offset` ("192.0.2.1"). */
export function ipv4At(bytes: Uint8Array, offset: number): string {
  return `${bytes[offset] ?? 0}.${bytes[offset + 1] ?? 0}.${bytes[offset + 2] ?? 0}.${bytes[offset + 3] ?? 0}`;
}

/**
 * The 4 bytes of a dotted quad (1-3 digits per part, each <= 255). Throws
 * RangeError on anything else: values being encoded come from our own code,
 * so a bad one is a bug, not input. A character loop, not a regular
 * expression: every reply encodes several addresses.
 */
export function ipv4Bytes(ip: string): Uint8Array {
  const out = new Uint8Array(4);
  writeIpv4(out, 0, ip);
  return out;
}

/** ipv4Bytes written into `out` at `at` (no array of its own: an encoder writes several per packet). */
export function writeIpv4(out: Uint8Array, at: number, ip: string): void {
  let part = 0;
  let digits = 0;
  let value = 0;
  for (let i = 0; i <= ip.length; i++) {
    const c = i === ip.length ? 46 : ip.charCodeAt(i); // the end closes the last part like a '.'
    if (c >= 48 && c <= 57 && digits < 3) {
      value = value * 10 + (c - 48);
      digits++;
    } else if (c === 46 && digits > 0 && value <= 255 && part < 4) {
      out[at + part++] = value;
      value = 0;
      digits = 0;
    } else {
      part = -1;
      break;
    }
  }
  if (part !== 4) throw new RangeError(`not an IPv4 address: ${JSON.stringify(ip)}`);
}

/** "00" to "ff" by byte value. */
export const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/** Lower-case hex of `bytes` with `separator` between bytes ("63825363"). */
export function hex(bytes: Uint8Array, separator = ''): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += (i === 0 ? '' : separator) + (HEX_BYTE[bytes[i] as number] as string);
  return out;
}

/** Lower-case colon-separated hex of `bytes` ("aa:bb:cc:dd:ee:ff"); "" for none. */
export function formatMac(bytes: Uint8Array): string {
  return hex(bytes, ':');
}

/** Bytes of a colon- or dash-separated hex address, any case. Throws RangeError otherwise. */
export function parseMac(text: string): Uint8Array {
  const parts = text.split(/[:-]/);
  if (parts.length > 16 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) {
    throw new RangeError(`not a hardware address: ${JSON.stringify(text)}`);
  }
  return Uint8Array.from(parts, (p) => Number.parseInt(p, 16));
}

/** Bytes per String.fromCharCode.apply in latin1 (keeps the argument count small). */
const LATIN1_CHUNK = 4096;

/**
 * Latin-1 text of `bytes`. DHCP strings are NVT ASCII in theory and anything
 * in practice; Latin-1 maps every byte to one code unit, so encoding the text
 * again gives back the same bytes.
 */
export function latin1(bytes: Uint8Array): string {
  // One flat string per chunk: a `+=` per byte builds a rope of one-character strings first
  // (2 of the ~25 kB that handling one DISCOVER allocated).
  if (bytes.length <= LATIN1_CHUNK) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  let s = '';
  for (let at = 0; at < bytes.length; at += LATIN1_CHUNK) s += String.fromCharCode.apply(null, bytes.subarray(at, at + LATIN1_CHUNK) as unknown as number[]);
  return s;
}

/** Bytes of Latin-1 `text`. Throws RangeError on a code unit above 0xff. */
export function latin1Bytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff) throw new RangeError(`character U+${c.toString(16)} does not fit in one byte: ${JSON.stringify(text)}`);
    out[i] = c;
  }
  return out;
}

/** Latin-1 text of a fixed-size NUL-padded field, up to the first NUL. */
export function cString(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  return latin1(nul < 0 ? bytes : bytes.subarray(0, nul));
}

/** One new array holding `parts` back to back. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Big-endian unsigned integer of `width` bytes at `offset` (width 1, 2 or 4). */
export function uintAt(bytes: Uint8Array, offset: number, width: 1 | 2 | 4): number {
  let n = 0;
  for (let i = 0; i < width; i++) n = n * 256 + (bytes[offset + i] ?? 0);
  return n;
}

/** `n` as `width` big-endian bytes. Throws RangeError when it does not fit. */
export function uintBytes(n: number, width: 1 | 2 | 4): Uint8Array {
  const out = new Uint8Array(width);
  writeUint(out, 0, n, width);
  return out;
}

/** uintBytes written into `out` at `at`. Throws RangeError when `n` does not fit. */
export function writeUint(out: Uint8Array, at: number, n: number, width: 1 | 2 | 4): void {
  if (!Number.isInteger(n) || n < 0 || n >= 2 ** (8 * width)) throw new RangeError(`${n} does not fit in ${width} byte(s)`);
  for (let i = width - 1; i >= 0; i--, n = Math.floor(n / 256)) out[at + i] = n % 256;
}

/**
 * A plain Uint8Array view of `bytes`. Node's Buffer is a Uint8Array subclass
 * whose `slice` shares memory and whose prototype differs; decoding from a
 * plain view makes every array we hand out a fresh, plain copy.
 */
export function plainView(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
