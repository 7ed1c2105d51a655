/**
 * Listens where an AMT in bare-metal setup sends its PKI Hello (TCP 9971 on
 * ProvisionServer.<domain>), decodes each Hello and reports it as a
 * provisioning attempt. It is not a setup and configuration server: it never
 * answers, never connects back, and closes the connection once the Hello is
 * read. Pointing ProvisionServer at the agent is the operator's choice.
 */
import { createServer } from 'node:net';
import type { Socket } from 'node:net';
import { MAX_HELLO_BYTES, parseHello } from '../amt/probe/hello.ts';
import type { RootHash } from '../amt/probe/hello.ts';
import { Errors, NetbootError } from '../errors.ts';
import type { AmtLog } from './amt-prober.ts';

export const HELLO_PORT = 9971;

/** One Hello: a provisioning attempt by the machine at `address`. */
export interface AmtHelloEvent {
  readonly uuid: string;
  readonly retryCount: number;
  /** The firmware's trusted root hashes, lower-case hex, in the Hello's order. */
  readonly rootHashes: readonly RootHash[];
  readonly adminCredentialsSet: boolean;
  readonly address: string;
  /** From `macOf`, when the agent knows the address. */
  readonly mac?: string;
  /** When the Hello was read, ms since the epoch. */
  readonly at: number;
}

export interface HelloListenerDeps {
  readonly onHello: (event: AmtHelloEvent) => void;
  /** Default 0.0.0.0 (AMT connects to whatever ProvisionServer resolves to). */
  readonly address?: string;
  /** Default 9971; 0 picks a free port (tests). */
  readonly port?: number;
  readonly macOf?: (address: string) => string | undefined;
  readonly now?: () => number;
  readonly log?: AmtLog;
  /** A connection that has not completed its Hello in this long is closed (default 10 s). */
  readonly idleTimeoutMs?: number;
  /** Open connections at most (default 32). */
  readonly maxConnections?: number;
  /** Hellos from one address closer together than this are dropped (default 20 s; AMT sends at most one a minute). */
  readonly minIntervalMs?: number;
}

export interface HelloListener {
  readonly port: number;
  close(): Promise<void>;
}

/** Binds the listener; rejects with NB5012 when the port cannot be bound. */
export async function startHelloListener(deps: HelloListenerDeps): Promise<HelloListener> {
  const now = deps.now ?? Date.now;
  const idle = deps.idleTimeoutMs ?? 10_000;
  const minInterval = deps.minIntervalMs ?? 20_000;
  const lastHello = new Map<string, number>();
  const sockets = new Set<Socket>();

  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const address = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    let buffer = Buffer.alloc(0);
    let done = false;
    const drop = (why: string) => {
      if (done) return;
      done = true;
      // An empty connection is a port scan or a health check, not a broken Hello: debug only.
      const level = buffer.length === 0 ? 'debug' : 'warn';
      deps.log?.[level]({ code: Errors.AmtHelloMalformed.code, address, bytes: buffer.length }, `dropped AMT Hello: ${why}`);
      socket.destroy();
    };
    socket.setTimeout(idle, () => drop(`no complete Hello within ${idle} ms`));
    socket.on('error', () => socket.destroy());
    socket.on('end', () => { if (!done) drop(buffer.length === 0 ? 'connection closed without data' : 'connection closed mid-Hello'); });
    socket.on('data', (chunk: Buffer) => {
      if (done) return;
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length > MAX_HELLO_BYTES) return drop(`more than ${MAX_HELLO_BYTES} bytes`);
      const r = parseHello(buffer);
      if (!r.ok) { if (!('incomplete' in r)) drop(r.reason); return; }
      done = true;
      socket.end();
      const at = now();
      if (at - (lastHello.get(address) ?? Number.NEGATIVE_INFINITY) < minInterval) {
        deps.log?.debug({ address, uuid: r.hello.uuid }, 'AMT Hello dropped: another from this address less than minIntervalMs ago');
        return;
      }
      lastHello.set(address, at);
      if (lastHello.size > 10_000) lastHello.delete(lastHello.keys().next().value ?? '');
      const mac = deps.macOf?.(address);
      deps.onHello({
        uuid: r.hello.uuid, retryCount: r.hello.retryCount, rootHashes: r.hello.rootHashes,
        adminCredentialsSet: r.hello.adminCredentialsSet, address, ...(mac === undefined ? {} : { mac }), at,
      });
    });
  });
  server.maxConnections = deps.maxConnections ?? 32;

  const host = deps.address ?? '0.0.0.0';
  const wanted = deps.port ?? HELLO_PORT;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new NetbootError(Errors.AmtHelloListenFailed, `cannot listen for AMT Hellos on ${host}:${wanted}: ${err.message}`, { cause: err })));
    server.listen({ host, port: wanted, exclusive: true }, () => resolve());
  });
  server.on('error', (err) => deps.log?.warn({ err: err.message }, 'AMT Hello listener error'));
  const bound = server.address();
  return {
    port: typeof bound === 'object' && bound !== null ? bound.port : wanted,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
