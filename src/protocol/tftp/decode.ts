/**
 * TFTP packet decoder: bytes in, a packet or a short reason out. It never throws,
 * whatever the input; a malformed packet is a returned reason the caller logs at
 * debug and drops (the agent maps it to NB2001 PacketMalformed).
 */
import type { Packet, PacketKind, Request, TftpOption } from './packet.ts';
import { Opcode } from './packet.ts';

/** Outcome of {@link decodePacket}: the packet, or why it was refused ("unknown opcode 9"). */
export type DecodeResult =
  | { readonly ok: true; readonly packet: Packet }
  | { readonly ok: false; readonly reason: string };

type Decoder = (bytes: Uint8Array) => DecodeResult;

const strict = new TextDecoder('utf-8', { fatal: true });
const lenient = new TextDecoder('utf-8');

const decoders: Record<PacketKind, Decoder> = {
  rrq: (b) => decodeRequest('rrq', b),
  wrq: (b) => decodeRequest('wrq', b),
  data: (b) => (b.length < 4 ? fail('DATA shorter than 4 bytes') : ok({ kind: 'data', block: u16(b, 2), data: b.subarray(4) })),
  // Trailing bytes after an ACK are ignored: some firmware pads short frames.
  ack: (b) => (b.length < 4 ? fail('ACK shorter than 4 bytes') : ok({ kind: 'ack', block: u16(b, 2) })),
  error: decodeError,
  oack: (b) => {
    const options = decodeOptions('OACK', b, 2);
    return typeof options === 'string' ? fail(options) : ok({ kind: 'oack', options });
  },
};

const kindByOpcode = new Map<number, PacketKind>(Object.entries(Opcode).map(([kind, code]) => [code, kind as PacketKind]));

/**
 * Decodes one UDP payload. Option names and the mode come back lower case;
 * `data` of a DATA packet is a view into `bytes`, not a copy.
 */
export function decodePacket(bytes: Uint8Array): DecodeResult {
  if (bytes.length < 2) return fail(`packet too short (${bytes.length} bytes)`);
  const opcode = u16(bytes, 0);
  const kind = kindByOpcode.get(opcode);
  if (kind === undefined) return fail(`unknown opcode ${opcode}`);
  return decoders[kind](bytes);
}

function decodeRequest(kind: 'rrq' | 'wrq', bytes: Uint8Array): DecodeResult {
  const name = kind.toUpperCase();
  const filename = cString(bytes, 2);
  if (filename === undefined) return fail(`${name} filename not NUL-terminated`);
  if (filename.text === undefined) return fail(`${name} filename is not valid UTF-8`);
  const mode = cString(bytes, filename.next);
  if (mode === undefined) return fail(`${name} mode not NUL-terminated`);
  if (mode.text === undefined || mode.text === '') return fail(`${name} mode is empty or not text`);
  const options = decodeOptions(name, bytes, mode.next);
  if (typeof options === 'string') return fail(options);
  const request: Request = { kind, filename: filename.text, mode: mode.text.toLowerCase(), options };
  return ok(request);
}

/** `name\0value\0` pairs up to the end; returns a reason string when malformed. */
function decodeOptions(what: string, bytes: Uint8Array, start: number): TftpOption[] | string {
  const options: TftpOption[] = [];
  let at = start;
  // Trailing NULs are padding from some PXE ROMs, not an empty option name.
  while (at < bytes.length && !bytes.subarray(at).every((b) => b === 0)) {
    const name = cString(bytes, at);
    if (name === undefined) return `${what} option name not NUL-terminated`;
    if (name.text === undefined || name.text === '') return `${what} option name is empty or not text`;
    const value = cString(bytes, name.next);
    if (value === undefined) return `${what} option "${name.text}" has no NUL-terminated value`;
    if (value.text === undefined) return `${what} option "${name.text}" value is not valid UTF-8`;
    options.push({ name: name.text.toLowerCase(), value: value.text });
    at = value.next;
  }
  return options;
}

function decodeError(bytes: Uint8Array): DecodeResult {
  if (bytes.length < 4) return fail('ERROR shorter than 4 bytes');
  // The message is only for logs: a missing NUL or bad UTF-8 must not turn a
  // client's "abort" into a malformed packet that we then time out on.
  const end = bytes.indexOf(0, 4);
  const message = lenient.decode(bytes.subarray(4, end === -1 ? bytes.length : end));
  return ok({ kind: 'error', code: u16(bytes, 2), message });
}

/** The NUL-terminated string at `at`: undefined if no NUL, `text` undefined if not UTF-8. */
function cString(bytes: Uint8Array, at: number): { text: string | undefined; next: number } | undefined {
  const end = bytes.indexOf(0, at);
  if (end === -1) return undefined;
  let text: string | undefined;
  try {
    text = strict.decode(bytes.subarray(at, end));
  } catch {
    text = undefined;
  }
  return { text, next: end + 1 };
}

function u16(bytes: Uint8Array, at: number): number {
  return ((bytes[at] ?? 0) << 8) | (bytes[at + 1] ?? 0);
}

function ok(packet: Packet): DecodeResult {
  return { ok: true, packet };
}

function fail(reason: string): DecodeResult {
  return { ok: false, reason };
}
