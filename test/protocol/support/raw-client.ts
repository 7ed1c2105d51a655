/**
 * A scripted TFTP client over a real UDP socket on 127.0.0.1, for what no
 * packaged client does on demand: abort after a tsize probe, stall a
 * transfer, send from a foreign port, send garbage. Packets go through the
 * project's codec; the codec has its own golden tests.
 */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { decodePacket, encodePacket } from '../../../src/protocol/tftp/index.ts';
import type { Packet, TftpOption } from '../../../src/protocol/tftp/index.ts';

/** A decoded packet and the server port (TID) it came from. */
export interface Received {
  readonly packet: Packet;
  readonly port: number;
}

/** One client socket; received packets queue until read with {@link RawClient.next}. */
export class RawClient {
  readonly #socket: Socket;
  readonly #host: string;
  readonly #queue: Received[] = [];
  #waiter: (() => void) | undefined;

  private constructor(socket: Socket, host: string) {
    this.#socket = socket;
    this.#host = host;
    socket.on('message', (msg, rinfo) => {
      const decoded = decodePacket(msg);
      this.#queue.push({ packet: decoded.ok ? decoded.packet : { kind: 'error', code: -1, message: `undecodable: ${decoded.reason}` }, port: rinfo.port });
      this.#waiter?.();
    });
  }

  /** Binds an ephemeral port on `host` (127.0.0.1 by default). */
  static async open(host = '127.0.0.1'): Promise<RawClient> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, host, () => resolve()));
    return new RawClient(socket, host);
  }

  /** This client's port (its TID). */
  get port(): number {
    return this.#socket.address().port;
  }

  /** Sends a packet, or raw bytes, to `port` on the host. */
  send(packet: Packet | Uint8Array, port: number): void {
    this.#socket.send(packet instanceof Uint8Array ? packet : encodePacket(packet), port, this.#host);
  }

  /** Sends an RRQ (octet) with options. */
  rrq(port: number, filename: string, options: readonly TftpOption[] = []): void {
    this.send({ kind: 'rrq', filename, mode: 'octet', options }, port);
  }

  /** The next packet; rejects after `timeoutMs` with nothing. */
  async next(timeoutMs = 2000): Promise<Received> {
    const deadline = performance.now() + timeoutMs;
    while (this.#queue.length === 0) {
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no TFTP packet within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => { clearTimeout(timer); resolve(); };
      });
      this.#waiter = undefined;
    }
    return this.#queue.shift() as Received;
  }

  /** Every packet that arrives within `ms` (an empty list proves silence). */
  async drain(ms: number): Promise<Received[]> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return this.#queue.splice(0);
  }

  close(): void {
    this.#socket.close();
  }
}
