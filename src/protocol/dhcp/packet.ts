/**
 * The DHCP packet: the fixed BOOTP header (RFC 951, RFC 2131 §2), the magic
 * cookie, and the option areas (wire.ts). Input is one UDP payload exactly as
 * received, e.g. a file of captured bytes:
 *
 *     const packet = decodePacket(readFileSync('test/fixtures/dhcp/ovmf-discover.bin'));
 */
import { DhcpDecodeError, cString, hex, ipv4At, latin1Bytes, malformed, plainView, uintAt, writeIpv4, writeUint } from './bytes.ts';
import { validateOptions, type DhcpOptions } from './options.ts';
import { decodeOptionAreas, optionAreaSize, writeOptionArea, writeOrder } from './wire.ts';

/**
 * One decoded packet. Addresses are dotted quads; `chaddr` holds the first
 * `hlen` bytes of the 16-byte field; `sname` and `file` are the text up to
 * the first NUL, or "" when option 52 put options there. Fields are mutable
 * so a handler can fill in the skeleton replyFrom() returns.
 */
export interface DhcpPacket {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  chaddr: Uint8Array;
  sname: string;
  file: string;
  options: DhcpOptions;
}

/** BOOTP op codes. */
export const BootOp = { Request: 1, Reply: 2 } as const;

/** ARP hardware type of Ethernet (htype), whose addresses are 6 bytes. */
export const HTYPE_ETHERNET = 1;

/** The flags bit a client sets when it cannot receive unicast before it has an address. */
export const BROADCAST_FLAG = 0x8000;

/** Size of the fixed header, up to and excluding the magic cookie. */
export const HEADER_SIZE = 236;

/** RFC 951's 300-byte BOOTP message, the least some relays and ROMs accept. */
export const BOOTP_MIN_SIZE = 300;

/** The 4 bytes (99.130.83.99) that mark the vendor area as DHCP options (RFC 2131 §3). */
export const MAGIC_COOKIE = Uint8Array.of(99, 130, 83, 99);

const MAX_HLEN = 16;

/** Byte offsets of the header fields (RFC 2131 Figure 1). */
const AT = {
  op: 0, htype: 1, hlen: 2, hops: 3, xid: 4, secs: 8, flags: 10,
  ciaddr: 12, yiaddr: 16, siaddr: 20, giaddr: 24,
  chaddr: 28, sname: 44, file: 108, cookie: 236, options: 240,
} as const;

const SNAME_SIZE = AT.file - AT.sname;
const FILE_SIZE = AT.cookie - AT.file;

/**
 * Decodes one UDP payload. Throws DhcpDecodeError, and nothing else, when the
 * bytes are not a well-formed DHCP packet: too short, bad cookie, op not 1 or
 * 2, hlen over 16, an option running past its area, or a malformed value of
 * a registered option. Arrays in the result are copies, never views of `bytes`.
 */
export function decodePacket(bytes: Uint8Array): DhcpPacket {
  const b = plainView(bytes);
  if (b.length === 0) malformed('packet is empty');
  if (b.length < AT.options) malformed(`packet is ${b.length} bytes, shorter than the ${AT.options}-byte header and cookie`);
  if (!MAGIC_COOKIE.every((v, i) => b[AT.cookie + i] === v)) {
    malformed(`bad magic cookie 0x${hex(b.subarray(AT.cookie, AT.options))}`);
  }
  const op = b[AT.op] ?? 0;
  if (op !== BootOp.Request && op !== BootOp.Reply) malformed(`op ${op} is neither 1 (request) nor 2 (reply)`);
  const hlen = b[AT.hlen] ?? 0;
  if (hlen > MAX_HLEN) malformed(`hlen ${hlen} exceeds ${MAX_HLEN}`);

  const { options, overload } = decodeOptionAreas(
    b,
    { start: AT.options, end: b.length, where: 'packet' },
    { start: AT.file, end: AT.cookie, where: 'file field' },
    { start: AT.sname, end: AT.file, where: 'sname field' },
  );
  validateOptions(options);

  return {
    op,
    htype: b[AT.htype] ?? 0,
    hlen,
    hops: b[AT.hops] ?? 0,
    xid: uintAt(b, AT.xid, 4),
    secs: uintAt(b, AT.secs, 2),
    flags: uintAt(b, AT.flags, 2),
    ciaddr: ipv4At(b, AT.ciaddr),
    yiaddr: ipv4At(b, AT.yiaddr),
    siaddr: ipv4At(b, AT.siaddr),
    giaddr: ipv4At(b, AT.giaddr),
    chaddr: b.slice(AT.chaddr, AT.chaddr + hlen),
    sname: overload & 2 ? '' : cString(b.subarray(AT.sname, AT.file)),
    file: overload & 1 ? '' : cString(b.subarray(AT.file, AT.cookie)),
    options,
  };
}

/** Outcome of {@link tryDecodePacket}. */
export type DecodeResult =
  | { readonly ok: true; readonly packet: DhcpPacket }
  | { readonly ok: false; readonly reason: string };

/** decodePacket as a value: the packet, or the reason it was refused. Never throws on input. */
export function tryDecodePacket(bytes: Uint8Array): DecodeResult {
  try {
    return { ok: true, packet: decodePacket(bytes) };
  } catch (err) {
    if (err instanceof DhcpDecodeError) return { ok: false, reason: err.reason };
    throw err;
  }
}

/**
 * The UDP payload for `packet`: header, cookie, options (wire.ts order and
 * splitting), end option, then zero padding up to {@link BOOTP_MIN_SIZE}.
 * Throws RangeError when a field cannot be represented: an address that is
 * not a dotted quad, hlen or chaddr over 16 bytes, or `sname`/`file` too long to keep
 * their terminating NUL (63 and 127 bytes) — a silently truncated boot file
 * name would leave a machine unbootable with no clue why.
 */
export function encodePacket(packet: DhcpPacket): Uint8Array {
  const order = writeOrder(packet.options);
  const out = new Uint8Array(Math.max(BOOTP_MIN_SIZE, AT.options + optionAreaSize(packet.options, order)));
  // Fields are written in place: a throwaway array per field was most of what encoding allocated.
  writeUint(out, AT.op, packet.op, 1);
  writeUint(out, AT.htype, packet.htype, 1);
  writeUint(out, AT.hlen, packet.hlen, 1);
  writeUint(out, AT.hops, packet.hops, 1);
  writeUint(out, AT.xid, packet.xid, 4);
  writeUint(out, AT.secs, packet.secs, 2);
  writeUint(out, AT.flags, packet.flags, 2);
  writeIpv4(out, AT.ciaddr, packet.ciaddr);
  writeIpv4(out, AT.yiaddr, packet.yiaddr);
  writeIpv4(out, AT.siaddr, packet.siaddr);
  writeIpv4(out, AT.giaddr, packet.giaddr);
  if (packet.hlen > MAX_HLEN) throw new RangeError(`hlen ${packet.hlen} exceeds ${MAX_HLEN}`);
  if (packet.chaddr.length > MAX_HLEN) throw new RangeError(`chaddr is ${packet.chaddr.length} bytes; the field holds ${MAX_HLEN}`);
  out.set(packet.chaddr, AT.chaddr);
  out.set(fixedString('sname', packet.sname, SNAME_SIZE), AT.sname);
  out.set(fixedString('file', packet.file, FILE_SIZE), AT.file);
  out.set(MAGIC_COOKIE, AT.cookie);
  writeOptionArea(out, AT.options, packet.options, order);
  return out;
}

function fixedString(field: string, value: string, size: number): Uint8Array {
  const bytes = latin1Bytes(value);
  if (bytes.length >= size) throw new RangeError(`${field} is ${bytes.length} bytes; at most ${size - 1} fit`);
  return bytes;
}
