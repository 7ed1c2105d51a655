/**
 * TFTP packet values and their encoders (RFC 1350, option extension RFC 2347).
 *
 * Values in, bytes out; no sockets, clocks or logs. Decoding lives in
 * `decode.ts`. Encoders throw only on programmer error (a block number out of
 * range, a NUL inside a string), never on anything a peer sent.
 */

/** Wire opcodes (RFC 1350 §5; OACK from RFC 2347). */
export const Opcode = {
  rrq: 1,
  wrq: 2,
  data: 3,
  ack: 4,
  error: 5,
  oack: 6,
} as const;

/** The `kind` of a packet, which is also the key of its opcode in {@link Opcode}. */
export type PacketKind = keyof typeof Opcode;

/** One `name=value` pair of an RRQ/WRQ or OACK. Decoded names are lower case (RFC 2347: case-insensitive). */
export interface TftpOption {
  readonly name: string;
  readonly value: string;
}

/** RRQ or WRQ. `options` keeps the order and any repeats of the wire. */
export interface Request {
  readonly kind: 'rrq' | 'wrq';
  readonly filename: string;
  /** Lower case (`octet`, `netascii`, `mail`, or whatever the client sent). */
  readonly mode: string;
  readonly options: readonly TftpOption[];
}

/** DATA: `block` is the 16-bit wire number; decoded `data` aliases the input buffer. */
export interface DataPacket {
  readonly kind: 'data';
  readonly block: number;
  readonly data: Uint8Array;
}

/** ACK of a 16-bit wire block number (0 acknowledges an OACK). */
export interface AckPacket {
  readonly kind: 'ack';
  readonly block: number;
}

/** ERROR with an RFC 1350/2347 code (see `error-packet.ts`) and a message for humans. */
export interface ErrorPacket {
  readonly kind: 'error';
  readonly code: number;
  readonly message: string;
}

/** OACK: the options the server accepted, in the order it lists them. */
export interface OackPacket {
  readonly kind: 'oack';
  readonly options: readonly TftpOption[];
}

/** Any TFTP packet. */
export type Packet = Request | DataPacket | AckPacket | ErrorPacket | OackPacket;

const utf8 = new TextEncoder();

/** Encodes any packet. Throws RangeError/TypeError on values no peer could have sent. */
export function encodePacket(packet: Packet): Uint8Array {
  switch (packet.kind) {
    case 'rrq':
    case 'wrq':
      return withOpcode(packet.kind, strings([packet.filename, packet.mode, ...flatten(packet.options)]));
    case 'data':
      return encodeData(packet.block, packet.data);
    case 'ack':
      return encodeAck(packet.block);
    case 'error':
      return encodeError(packet.code, packet.message);
    case 'oack':
      return encodeOack(packet.options);
  }
}

/** DATA packet: the hot path of a transfer, so it copies the payload once and nothing else. */
export function encodeData(block: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + data.length);
  writeHeader(out, Opcode.data, u16(block, 'block'));
  out.set(data, 4);
  return out;
}

/** ACK packet for a 16-bit wire block number. */
export function encodeAck(block: number): Uint8Array {
  const out = new Uint8Array(4);
  writeHeader(out, Opcode.ack, u16(block, 'block'));
  return out;
}

/** ERROR packet; the message is NUL-terminated as RFC 1350 requires. */
export function encodeError(code: number, message: string): Uint8Array {
  const body = strings([message]);
  const out = new Uint8Array(4 + body.length);
  writeHeader(out, Opcode.error, u16(code, 'error code'));
  out.set(body, 4);
  return out;
}

/** OACK packet listing `options` in the given order. */
export function encodeOack(options: readonly TftpOption[]): Uint8Array {
  return withOpcode('oack', strings(flatten(options)));
}

function flatten(options: readonly TftpOption[]): string[] {
  return options.flatMap((o) => [o.name, o.value]);
}

/** Each string as UTF-8 followed by a NUL. */
function strings(parts: readonly string[]): Uint8Array {
  const encoded = parts.map((part) => {
    if (part.includes('\0')) throw new TypeError(`TFTP string contains NUL: ${JSON.stringify(part)}`);
    return utf8.encode(part);
  });
  const out = new Uint8Array(encoded.reduce((n, e) => n + e.length + 1, 0));
  let at = 0;
  for (const e of encoded) {
    out.set(e, at);
    at += e.length + 1; // the zeroed byte left behind is the terminator
  }
  return out;
}

function withOpcode(kind: PacketKind, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + body.length);
  out[0] = 0;
  out[1] = Opcode[kind];
  out.set(body, 2);
  return out;
}

function writeHeader(out: Uint8Array, opcode: number, second: number): void {
  out[0] = 0;
  out[1] = opcode;
  out[2] = second >> 8;
  out[3] = second & 0xff;
}

function u16(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new RangeError(`TFTP ${what} ${n} is not a 16-bit unsigned integer`);
  return n;
}
