/**
 * Sub-option lists: the code/length/value encoding that options 43 (vendor
 * specific), 82 (relay agent) and 175 (iPXE) carry inside their data.
 */
import { malformed } from './bytes.ts';

/** One sub-option as it appeared on the wire; `data` is a copy. */
export interface Tlv {
  readonly code: number;
  readonly data: Uint8Array;
}

/** How a sub-option list is framed. */
export interface TlvFraming {
  /**
   * RFC 2132 §8.4 encapsulation (options 43, 175): code 0 is padding and
   * code 255 ends the list. RFC 3046 sub-options (option 82) have neither,
   * so there 0 and 255 are ordinary codes.
   */
  readonly padAndEnd: boolean;
}

const RFC2132: TlvFraming = { padAndEnd: true };

/**
 * Sub-options of `data` in wire order, repeats kept. Throws DhcpDecodeError
 * ("sub-option 8 runs past end") when a length overruns the data; the caller
 * prefixes the option it came from.
 */
export function decodeTlvs(data: Uint8Array, framing: TlvFraming = RFC2132): Tlv[] {
  const out: Tlv[] = [];
  let at = 0;
  while (at < data.length) {
    const code = data[at] ?? 0;
    if (framing.padAndEnd && code === 0) {
      at += 1;
      continue;
    }
    if (framing.padAndEnd && code === 255) break;
    const len = data[at + 1];
    if (len === undefined || at + 2 + len > data.length) malformed(`sub-option ${code} runs past end`);
    out.push({ code, data: data.slice(at + 2, at + 2 + len) });
    at += 2 + len;
  }
  return out;
}

/**
 * Wire bytes of `tlvs` in the given order, with a trailing 255 when `end` is
 * set (PXE ROMs expect it in option 43). Throws RangeError when a code is not
 * a byte or a value exceeds the 255 bytes one length octet can count.
 */
export function encodeTlvs(tlvs: readonly Tlv[], end = false): Uint8Array {
  const size = tlvs.reduce((n, t) => n + 2 + t.data.length, end ? 1 : 0);
  const out = new Uint8Array(size);
  let at = 0;
  for (const { code, data } of tlvs) {
    if (!Number.isInteger(code) || code < 0 || code > 255) throw new RangeError(`sub-option code ${code} is not a byte`);
    if (data.length > 255) throw new RangeError(`sub-option ${code} is ${data.length} bytes; at most 255 fit`);
    out[at] = code;
    out[at + 1] = data.length;
    out.set(data, at + 2);
    at += 2 + data.length;
  }
  if (end) out[at] = 255;
  return out;
}
