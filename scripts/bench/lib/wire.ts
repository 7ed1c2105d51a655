/**
 * Just enough DHCP and TFTP on the wire for the simulated PXE clients,
 * written independently of src/protocol so the benchmark does not grade the
 * agent with its own codec. DHCP: RFC 2131 fixed header + options (RFC 2132),
 * PXE vendor options in option 43 (PXE 2.1). TFTP: RFC 1350 with the
 * blksize/tsize options (RFC 2348, 2349).
 */

/** The DHCP magic cookie (RFC 2131 §3), at offset 236. */
export const MAGIC = 0x63825363;

export const DhcpType = { Discover: 1, Offer: 2, Request: 3, Ack: 5 } as const;

export interface DhcpOut {
  readonly type: number;
  readonly xid: number;
  readonly mac: Uint8Array;
  readonly ciaddr?: string;
  readonly broadcast: boolean;
  /** Options after 53, in order: [code, bytes]. */
  readonly options: ReadonlyArray<readonly [number, Uint8Array]>;
}

export interface DhcpIn {
  readonly op: number;
  readonly xid: number;
  readonly yiaddr: string;
  readonly siaddr: string;
  readonly chaddr: string;
  readonly file: string;
  readonly options: Map<number, Buffer>;
}

const ip = (s: string) => s.split('.').map(Number);
const ipString = (b: Buffer, at: number) => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;

/** A BOOTREQUEST carrying `msg`'s options. */
export function encodeDhcp(msg: DhcpOut): Buffer {
  const opts: number[] = [53, 1, msg.type];
  for (const [code, value] of msg.options) opts.push(code, value.length, ...value);
  opts.push(255);
  const b = Buffer.alloc(Math.max(300, 240 + opts.length));
  b[0] = 1; b[1] = 1; b[2] = 6; // BOOTREQUEST, Ethernet, hlen 6
  b.writeUInt32BE(msg.xid >>> 0, 4);
  if (msg.broadcast) b.writeUInt16BE(0x8000, 10);
  if (msg.ciaddr !== undefined) Buffer.from(ip(msg.ciaddr)).copy(b, 12);
  Buffer.from(msg.mac).copy(b, 28);
  b.writeUInt32BE(MAGIC, 236);
  Buffer.from(opts).copy(b, 240);
  return b;
}

/** The fields a client looks at, or undefined for anything that is not a DHCP message. */
export function decodeDhcp(b: Buffer): DhcpIn | undefined {
  if (b.length < 240 || b.readUInt32BE(236) !== MAGIC) return undefined;
  const options = new Map<number, Buffer>();
  for (let i = 240; i < b.length;) {
    const code = b[i] ?? 255;
    if (code === 255) break;
    if (code === 0) { i++; continue; }
    const len = b[i + 1] ?? 0;
    options.set(code, b.subarray(i + 2, i + 2 + len));
    i += 2 + len;
  }
  const file = b.subarray(108, 236);
  const nul = file.indexOf(0);
  return {
    op: b[0] ?? 0, xid: b.readUInt32BE(4), yiaddr: ipString(b, 16), siaddr: ipString(b, 20),
    chaddr: [...b.subarray(28, 34)].map((x) => x.toString(16).padStart(2, '0')).join(':'),
    file: file.subarray(0, nul === -1 ? file.length : nul).toString('latin1'), options,
  };
}

/** Sub-options of option 43 (PXE vendor options), code -> bytes. */
export function pxeSubOptions(opt43: Buffer | undefined): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  if (opt43 === undefined) return out;
  for (let i = 0; i < opt43.length;) {
    const code = opt43[i] ?? 255;
    if (code === 255) break;
    if (code === 0) { i++; continue; }
    const len = opt43[i + 1] ?? 0;
    out.set(code, opt43.subarray(i + 2, i + 2 + len));
    i += 2 + len;
  }
  return out;
}

/**
 * The boot item a BIOS PXE ROM asks for on 4011 (option 43 sub 71, type +
 * layer 0): the first entry of the menu (sub 9) the proxy OFFER carried, or
 * undefined when the OFFER has no menu (then the ROM sends a plain request).
 */
export function bootItemRequest(offer: DhcpIn): Uint8Array | undefined {
  const menu = pxeSubOptions(offer.options.get(43)).get(9);
  if (menu === undefined || menu.length < 3) return undefined;
  return Uint8Array.from([71, 4, menu[0] ?? 0, menu[1] ?? 0, 0, 0, 255]);
}

export const TftpOp = { Rrq: 1, Data: 3, Ack: 4, Error: 5, Oack: 6 } as const;

export function tftpRrq(file: string, options: Readonly<Record<string, string>>): Buffer {
  const parts = [file, 'octet', ...Object.entries(options).flat()];
  return Buffer.concat([Buffer.from([0, TftpOp.Rrq]), ...parts.map((p) => Buffer.from(`${p}\0`, 'latin1'))]);
}

export function tftpAck(block: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(TftpOp.Ack, 0);
  b.writeUInt16BE(block & 0xffff, 2);
  return b;
}

/** The NUL-terminated strings after a TFTP opcode (an RRQ's file, mode and options; an OACK's options). */
export function tftpStrings(b: Buffer): string[] {
  return b.subarray(2).toString('latin1').split('\0');
}

/** name=value pairs (names lower-cased) from `parts`, as tftpStrings gives them. */
export function tftpOptions(parts: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i + 1 < parts.length; i += 2) out.set((parts[i] ?? '').toLowerCase(), parts[i + 1] ?? '');
  return out;
}

/** key=value pairs of an OACK. */
export function oackOptions(b: Buffer): Map<string, string> {
  return tftpOptions(tftpStrings(b));
}
