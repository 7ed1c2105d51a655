/**
 * The TFTP server's only contact with node:dgram: a bound UDP endpoint behind
 * a small interface, so the server's logic can be driven by a fake in tests
 * (as pixiecore hides its sockets behind a private `conn`).
 */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';

/** Where a datagram came from. */
export interface Peer {
  readonly address: string;
  readonly port: number;
}

/** One bound IPv4 UDP endpoint. */
export interface UdpConn {
  /** The local port actually bound (an ephemeral one when 0 was asked for). */
  readonly port: number;
  /**
   * Sends one datagram, given whole or as parts (gathered by the kernel, so
   * a payload goes out without being copied into a packet buffer first).
   * Never waits; errors (ICMP port unreachable on a connected socket, a full
   * buffer) reach the `onError` handler, never the caller: UDP is best
   * effort and the transfer's timer covers a lost packet. The bytes must not
   * change afterwards.
   */
  send(bytes: Uint8Array | readonly Uint8Array[], to: Peer): void;
  /**
   * Restricts the endpoint to one peer: the kernel then drops datagrams from
   * any other address or port (RFC 1350 TID check) and skips the per-send
   * address handling, which matters at tens of thousands of packets a second.
   */
  connect(to: Peer): Promise<void>;
  /** Replaces the datagram handler; `data` is only valid during the call. */
  onMessage(handler: (data: Uint8Array, from: Peer) => void): void;
  /** Replaces the error handler; without one, errors are ignored (a socket error must not crash the agent). */
  onError(handler: (err: Error) => void): void;
  /** Closes the endpoint; idempotent. */
  close(): Promise<void>;
}

/** Binds a UDP endpoint on `address:port` (port 0: ephemeral). Rejects with the bind error. */
export type BindUdp = (address: string, port: number) => Promise<UdpConn>;

/** The real implementation over node:dgram. */
export const bindUdp: BindUdp = async (address, port) => {
  const socket = createSocket({ type: 'udp4' });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return new DgramConn(socket);
};

class DgramConn implements UdpConn {
  readonly port: number;
  readonly #socket: Socket;
  #connected = false;
  #closed = false;
  #onError: (err: Error) => void = () => {};

  constructor(socket: Socket) {
    this.#socket = socket;
    this.port = socket.address().port;
    socket.on('error', (err) => this.#onError(err));
  }

  send(bytes: Uint8Array | readonly Uint8Array[], to: Peer): void {
    if (this.#closed) return;
    const msg = bytes as Uint8Array | Uint8Array[];
    try {
      if (this.#connected) this.#socket.send(msg);
      else this.#socket.send(msg, to.port, to.address);
    } catch (err) {
      // Synchronous throws are argument errors or a socket closing under us.
      this.#onError(err instanceof Error ? err : new Error(String(err)));
    }
  }

  connect(to: Peer): Promise<void> {
    return new Promise((resolve, reject) => {
      const fail = (err: Error) => reject(err);
      this.#socket.once('error', fail);
      this.#socket.connect(to.port, to.address, () => {
        this.#socket.off('error', fail);
        this.#connected = true;
        resolve();
      });
    });
  }

  onMessage(handler: (data: Uint8Array, from: Peer) => void): void {
    this.#socket.removeAllListeners('message');
    this.#socket.on('message', (data, rinfo) => handler(data, rinfo));
  }

  onError(handler: (err: Error) => void): void {
    this.#onError = handler;
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return new Promise((resolve) => {
      try {
        this.#socket.close(() => resolve());
      } catch {
        resolve(); // already closed by Node after a fatal error
      }
    });
  }
}
