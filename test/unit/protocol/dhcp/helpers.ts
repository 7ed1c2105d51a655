/**
 * Test helpers for the DHCP codec: byte vectors written as commented hex, a
 * raw packet builder that does not use the encoder under test, and a packet
 * value builder with modifiers.
 */
import type { DhcpPacket } from '../../../../src/protocol/dhcp/index.ts';

/** Bytes of hex text; whitespace, ':' and '#' comments to end of line are ignored. */
export function hex(text: string): Uint8Array {
  const digits = text.replace(/#.*$/gm, '').replace(/[\s:]/g, '');
  if (!/^([0-9a-fA-F]{2})*$/.test(digits)) throw new Error(`bad hex: ${digits}`);
  return Uint8Array.from(digits.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
}

/** Bytes of ASCII text. */
export function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Header bytes a raw test packet may override, by offset. */
export interface RawHeader {
  op?: number;
  htype?: number;
  hlen?: number;
  chaddr?: Uint8Array;
  sname?: Uint8Array;
  file?: Uint8Array;
  cookie?: Uint8Array;
}

/**
 * A request as bytes, built by hand: 236-byte header (op 1, Ethernet,
 * chaddr 52:54:00:12:34:56, xid 0x01020304), cookie, then `options` verbatim
 * (the caller writes the end option if it wants one).
 */
export function rawPacket(options: Uint8Array, h: RawHeader = {}): Uint8Array {
  const out = new Uint8Array(240 + options.length);
  out[0] = h.op ?? 1;
  out[1] = h.htype ?? 1;
  out[2] = h.hlen ?? 6;
  out.set(hex('01020304'), 4);
  out.set(h.chaddr ?? hex('525400123456'), 28);
  if (h.sname) out.set(h.sname, 44);
  if (h.file) out.set(h.file, 108);
  out.set(h.cookie ?? hex('63825363'), 236);
  out.set(options, 240);
  return out;
}

/** A packet value with everything zero or empty except chaddr, then `mods` applied in order. */
export function packet(...mods: ((p: DhcpPacket) => void)[]): DhcpPacket {
  const p: DhcpPacket = {
    op: 1, htype: 1, hlen: 6, hops: 0, xid: 0x01020304, secs: 0, flags: 0,
    ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: '0.0.0.0',
    chaddr: hex('525400123456'), sname: '', file: '', options: new Map(),
  };
  for (const mod of mods) mod(p);
  return p;
}

/** Modifier: set raw option data. */
export const withOption = (code: number, data: Uint8Array) => (p: DhcpPacket) => void p.options.set(code, data);

/** Deterministic bytes for fuzzing (xorshift32), so a failure reproduces. */
export function prng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s;
  };
}
