/**
 * A simulated TFTP client and lossy network around a ReadTransfer, driven by a
 * fake clock. Every packet goes through the real encoder and decoder, so a
 * simulation also exercises the codec. The client behaves like U-Boot/EDK2
 * with windowsize: it ACKs at the end of each window and on the short last
 * block; on a gap it ACKs the last in-order block once (RFC 7440 §4); in
 * lock-step it re-ACKs a duplicate (RFC 1350); with a window it ignores old
 * duplicates and relies on its own timer to re-send its ACK.
 */
import type { Packet, TftpOption } from '../../../../src/protocol/tftp/packet.ts';
import type { TransferAction } from '../../../../src/protocol/tftp/transfer.ts';
import type { TransferPolicy } from '../../../../src/protocol/tftp/options.ts';
import { encodeAck, encodeData, encodeError, encodePacket } from '../../../../src/protocol/tftp/packet.ts';
import { decodePacket } from '../../../../src/protocol/tftp/decode.ts';
import { defaultPolicy, negotiateRead } from '../../../../src/protocol/tftp/options.ts';
import { ReadTransfer } from '../../../../src/protocol/tftp/transfer.ts';

export type Direction = 'toClient' | 'toServer';

/** Return true to lose the packet. `seen` counts earlier packets with the same label in that direction. */
export type Loss = (direction: Direction, packet: Packet, seen: number) => boolean;

export interface SimOptions {
  readonly file: Uint8Array;
  readonly options?: readonly TftpOption[];
  readonly policy?: Partial<TransferPolicy>;
  readonly loss?: Loss;
  /** Answer the OACK with ERROR 8, as EDK2 does after reading tsize. */
  readonly probeOnly?: boolean;
  /** Deliver this packet twice (a duplicating network). */
  readonly duplicate?: (direction: Direction, packet: Packet) => boolean;
  /**
   * The client re-sends its last ACK after this long without new data. Default
   * 1500 ms: longer than the server's 1000, so the server's timer acts first.
   */
  readonly clientTimeoutMs?: number;
  /** Keep a trace line per packet (off for the big wrap runs). */
  readonly trace?: boolean;
}

export interface SimResult {
  readonly received: Uint8Array;
  readonly finish: Extract<TransferAction, { type: 'finish' }>;
  readonly trace: string[];
  /** Wire block numbers of every DATA the server sent, in order (retransmissions included). */
  readonly dataBlocks: number[];
  readonly timeouts: number;
  readonly ignored: string[];
  readonly now: number;
}

/** Runs one transfer to its finish action; throws if it stalls or never ends. */
export function simulate(opts: SimOptions): SimResult {
  const { file, loss = () => false } = opts;
  const rrq = decodePacket(encodePacket({ kind: 'rrq', filename: 'boot.efi', mode: 'octet', options: opts.options ?? [] }));
  if (!rrq.ok || rrq.packet.kind !== 'rrq') throw new Error('RRQ did not round-trip');
  const negotiation = negotiateRead(rrq.packet, file.length, { ...defaultPolicy, ...opts.policy });
  if (!negotiation.ok) throw new Error(`negotiation refused: ${negotiation.reason}`);
  const server = new ReadTransfer(negotiation.plan);
  // A runaway (Sorcerer's Apprentice, a wrap bug) must fail fast, not fill memory.
  const blocks = Math.floor(file.length / negotiation.plan.blksize) + 1;
  const maxData = 20 * blocks + 100 * negotiation.plan.windowsize;

  const trace: string[] = [];
  const log = (line: string) => { if (opts.trace !== false) trace.push(line); };
  const toClient: Uint8Array[] = [];
  const toServer: Uint8Array[] = [];
  const seen = new Map<string, number>();
  const dataBlocks: number[] = [];
  const ignored: string[] = [];
  let finish: SimResult['finish'] | undefined;
  let deadline: number | undefined;
  let now = 0;
  let timeouts = 0;

  const clientTimeoutMs = opts.clientTimeoutMs ?? 1500;
  const client = {
    blksize: 512, windowsize: 1, expected: 1, sinceAck: 0, nakFor: 0, done: false, deadline: Number.POSITIVE_INFINITY,
    chunks: [] as Uint8Array[],
  };

  const run = (actions: TransferAction[]) => {
    for (const a of actions) {
      if (a.type === 'send') toClient.push(a.packet);
      if (a.type === 'sendData') {
        const bytes = file.subarray(a.offset, a.offset + a.length);
        if (bytes.length !== a.length || a.offset < 0) throw new Error(`sendData outside the file: ${a.offset}+${a.length}`);
        dataBlocks.push(a.block);
        if (dataBlocks.length > maxData) throw new Error(`runaway: ${dataBlocks.length} DATA sent for ${blocks} blocks`);
        toClient.push(encodeData(a.block, bytes));
      }
      if (a.type === 'timer') deadline = a.at;
      if (a.type === 'ignore') ignored.push(a.reason);
      if (a.type === 'finish') finish = a;
    }
  };

  /** Decodes, applies the loss rule, and returns the copies of the packet that arrive. */
  const transmit = (direction: Direction, bytes: Uint8Array): Packet[] => {
    const decoded = decodePacket(bytes);
    if (!decoded.ok) throw new Error(`${direction} packet does not decode: ${decoded.reason}`);
    const p = decoded.packet;
    const label = `${direction === 'toClient' ? 'S' : 'C'} ${p.kind.toUpperCase()}${'block' in p ? ` ${p.block}` : ''}`;
    const n = seen.get(label) ?? 0;
    seen.set(label, n + 1);
    const lost = loss(direction, p, n);
    log(lost ? `lost ${label}` : label);
    if (lost) return [];
    return opts.duplicate?.(direction, p) ? [p, p] : [p];
  };

  const ack = (block: number) => {
    toServer.push(encodeAck(block & 0xffff));
    client.sinceAck = 0;
    client.deadline = client.done ? Number.POSITIVE_INFINITY : now + clientTimeoutMs;
  };

  const clientReceives = (p: Packet) => {
    if (p.kind === 'oack') {
      for (const o of p.options) {
        if (o.name === 'blksize') client.blksize = Number(o.value);
        if (o.name === 'windowsize') client.windowsize = Number(o.value);
      }
      if (opts.probeOnly) toServer.push(encodeError(8, 'User aborted the transfer'));
      else ack(0);
      return;
    }
    if (p.kind !== 'data') throw new Error(`client got unexpected ${p.kind}`);
    const inOrder = !client.done && p.block === (client.expected & 0xffff);
    if (!inOrder) {
      // Which side of `expected` the block is on, in 16-bit wire arithmetic.
      const ahead = ((p.block - client.expected) & 0xffff) < 0x8000;
      if (client.done || client.windowsize === 1) ack(client.expected - 1);
      else if (ahead && client.nakFor !== client.expected) {
        client.nakFor = client.expected;
        ack(client.expected - 1);
      }
      return;
    }
    client.chunks.push(p.data.slice());
    client.expected += 1;
    client.sinceAck += 1;
    client.deadline = now + clientTimeoutMs;
    if (p.data.length < client.blksize) client.done = true;
    if (client.done || client.sinceAck >= client.windowsize) ack(client.expected - 1);
  };

  run(server.start(now));
  for (let steps = 0; finish === undefined; steps += 1) {
    if (steps > 5_000_000) throw new Error('simulation did not finish');
    const toC = toClient.shift();
    if (toC !== undefined) {
      for (const p of transmit('toClient', toC)) clientReceives(p);
      continue;
    }
    const toS = toServer.shift();
    if (toS !== undefined) {
      for (const p of transmit('toServer', toS)) {
        if (finish === undefined) run(server.receive(p, now));
      }
      continue;
    }
    if (deadline === undefined) throw new Error('stalled: nothing in flight and no timer');
    if (client.deadline < deadline) {
      now = client.deadline;
      log(`client timeout at ${now}`);
      ack(client.expected - 1);
      continue;
    }
    now = deadline;
    timeouts += 1;
    log(`timeout at ${now}`);
    run(server.timeout(now));
  }
  return { received: concat(client.chunks), finish, trace, dataBlocks, timeouts, ignored, now };
}

/**
 * Asserts two byte arrays are equal with a one-line message: deepEqual on a
 * large array builds a diff so big it can exhaust memory.
 */
export function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what = 'bytes'): void {
  if (Buffer.compare(actual, expected) === 0) return;
  let i = 0;
  while (i < actual.length && i < expected.length && actual[i] === expected[i]) i += 1;
  throw new Error(`${what} differ: got ${actual.length} bytes, want ${expected.length}; first difference at offset ${i}`);
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Deterministic pseudo-random bytes (xorshift32), so failures reproduce. */
export function pseudoRandomBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i += 1) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}
