/**
 * The option areas on the wire: a length-driven walk over code/length/value
 * triples, with option overload (52) and RFC 3396 concatenation on decode, and
 * ordering and long-option splitting on encode.
 *
 * The walk trusts lengths, never a per-option notion of type: that is what
 * made the npm `dhcp` parser mis-read valid packets (docs/DESIGN §6).
 */
import { concatBytes, malformed } from './bytes.ts';
import { decodeOptionValue, type DhcpOptions } from './options.ts';

/** Pad: a framing byte with no length, skipped wherever it appears. */
export const PAD = 0;
/** End: closes an option area; bytes after it are padding. */
export const END = 255;

const OVERLOAD = 52;
const MESSAGE_TYPE = 53;
const RELAY_AGENT_INFO = 82;

/** An option area inside a packet: [start, end) and a name for reasons. */
export interface OptionArea {
  readonly start: number;
  readonly end: number;
  readonly where: string;
}

/** What {@link decodeOptionAreas} read. */
export interface DecodedOptions {
  /** Every option once, data concatenated in area order; 52 itself is consumed. */
  readonly options: DhcpOptions;
  /** Which BOOTP fields held options: 0 none, 1 file, 2 sname, 3 both. */
  readonly overload: 0 | 1 | 2 | 3;
}

/**
 * Reads the options of `bytes`: the main area first, then `file` if option
 * 52 says so, then `sname` (the order RFC 3396 §5 prescribes for
 * concatenating repeated options). An area ends at an end option or at its
 * boundary. Throws DhcpDecodeError when an option's length runs past its
 * area or option 52 is not 1, 2 or 3.
 */
export function decodeOptionAreas(bytes: Uint8Array, main: OptionArea, file: OptionArea, sname: OptionArea): DecodedOptions {
  const read: Walked = { options: new Map(), repeats: undefined };
  walk(bytes, main, read);
  // Overload may only appear in the main area; read it before walking the others.
  const overloadData = joined(read, OVERLOAD);
  const overload = overloadData ? decodeOptionValue(OVERLOAD, overloadData) : 0;
  if (overload & 1) walk(bytes, file, read);
  if (overload & 2) walk(bytes, sname, read);
  const { options, repeats } = read;
  // Each part is already a copy (walk slices): an option in one part, the usual case, is used as it is.
  if (repeats !== undefined) for (const code of repeats.keys()) options.set(code, joined(read, code) as Uint8Array);
  options.delete(OVERLOAD);
  return { options, overload };
}

/** Options as walked: the first part of each, and the parts of those that repeat (joined once, at the end, so a packet of many repeats costs no more than its length). */
interface Walked {
  readonly options: Map<number, Uint8Array>;
  repeats: Map<number, Uint8Array[]> | undefined;
}

function joined(read: Walked, code: number): Uint8Array | undefined {
  const parts = read.repeats?.get(code);
  return parts === undefined ? read.options.get(code) : concatBytes(parts);
}

function walk(bytes: Uint8Array, area: OptionArea, into: Walked): void {
  let at = area.start;
  while (at < area.end) {
    const code = bytes[at] ?? END;
    if (code === PAD) {
      at += 1;
      continue;
    }
    if (code === END) return;
    const len = at + 1 < area.end ? (bytes[at + 1] ?? 0) : Infinity;
    if (at + 2 + len > area.end) malformed(`option ${code} runs past end of ${area.where}`);
    const data = bytes.slice(at + 2, at + 2 + len);
    const first = into.options.get(code);
    if (first === undefined) {
      into.options.set(code, data);
    } else {
      // RFC 3396: a repeated option continues the data of the earlier ones.
      into.repeats ??= new Map();
      const parts = into.repeats.get(code);
      if (parts === undefined) into.repeats.set(code, [first, data]);
      else parts.push(data);
    }
    at += 2 + len;
  }
}

/** The order options are written in: 53 first, 82 last, the rest in map order. */
export function writeOrder(options: ReadonlyMap<number, Uint8Array>): number[] {
  // RFC 2131 does not require 53 first, but dnsmasq and ISC dhcpd both put it
  // there and naive firmware parsers look for it early. RFC 3046 §2.1 makes
  // relay agent information the last option.
  const codes: number[] = [];
  if (options.has(MESSAGE_TYPE)) codes.push(MESSAGE_TYPE);
  for (const code of options.keys()) if (code !== MESSAGE_TYPE && code !== RELAY_AGENT_INFO) codes.push(code);
  if (options.has(RELAY_AGENT_INFO)) codes.push(RELAY_AGENT_INFO);
  return codes;
}

/**
 * The size of the main option area for `options` written in `order`, end
 * option included (see writeOptionArea). Throws RangeError on code 0 or 255
 * or a code that is not a byte.
 */
export function optionAreaSize(options: ReadonlyMap<number, Uint8Array>, order: readonly number[]): number {
  let size = 1; // END
  for (const code of order) {
    if (!Number.isInteger(code) || code <= PAD || code >= END) throw new RangeError(`option code ${code} is not 1-254`);
    if (code === OVERLOAD) continue;
    const length = options.get(code)?.length ?? 0;
    size += length + 2 * Math.max(1, Math.ceil(length / 255));
  }
  return size;
}

/** Below this many bytes a loop copies faster than TypedArray#set's call. */
const SET_THRESHOLD = 32;

/**
 * Writes the main option area into `out` at `at` (room for
 * {@link optionAreaSize} bytes), ending with the end option; returns the
 * position after it. Data over 255 bytes is split into consecutive
 * occurrences of the same code (RFC 3396 §6); an empty value is written as
 * code and length 0. Option 52 is skipped: the encoder never overloads
 * `file` or `sname`, so claiming it would make a client read the boot file
 * name as options.
 */
export function writeOptionArea(out: Uint8Array, at: number, options: ReadonlyMap<number, Uint8Array>, order: readonly number[]): number {
  let pos = at;
  for (const code of order) {
    if (code === OVERLOAD) continue;
    const data = options.get(code) ?? EMPTY;
    let from = 0;
    do {
      const end = Math.min(from + 255, data.length);
      out[pos++] = code;
      out[pos++] = end - from;
      if (end - from < SET_THRESHOLD) {
        for (let i = from; i < end; i++) out[pos++] = data[i] as number;
      } else {
        out.set(data.subarray(from, end), pos);
        pos += end - from;
      }
      from += 255;
    } while (from < data.length);
  }
  out[pos++] = END;
  return pos;
}

const EMPTY = new Uint8Array(0);
