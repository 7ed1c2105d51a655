/**
 * Reaching the test API server (host loopback) from inside a network
 * namespace, whose loopback is its own: a byte relay through a unix socket,
 * since the filesystem is shared across namespaces.
 *
 *   agent in netns -> 127.0.0.1:PORT (netns loopback) -> relay in the netns
 *     -> unix socket -> relay in the host namespace -> 127.0.0.1:PORT (host)
 *
 * Both ends listen on the same address as the API server, so a process in the
 * namespace uses the cluster's kubeconfig unchanged (TLS passes through).
 *
 * As a library: `relay(listen, connect)` runs one direction in this process;
 * `bridgeIntoNetns(ns, port, socket)` does the whole path (host side here,
 * netns side as `ip netns exec NS node netns-bridge.ts ...`). As a program:
 *
 *   node netns-bridge.ts LISTEN CONNECT     (endpoints: tcp:HOST:PORT or unix:PATH)
 *
 * prints "netns-bridge listening LISTEN" once it accepts, and exits on SIGTERM/SIGINT.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { resolve } from 'node:path';

export const NETNS_BRIDGE = resolve(import.meta.dirname, 'netns-bridge.ts');

/** A TCP address or a unix socket path. */
export type Endpoint = { readonly host: string; readonly port: number } | { readonly path: string };

/** tcp:HOST:PORT or unix:PATH. */
export function parseEndpoint(text: string): Endpoint {
  const unix = /^unix:(.+)$/.exec(text);
  if (unix?.[1] !== undefined) return { path: unix[1] };
  const tcp = /^tcp:(.+):(\d+)$/.exec(text);
  if (tcp?.[1] !== undefined && tcp[2] !== undefined) return { host: tcp[1], port: Number(tcp[2]) };
  throw new Error(`bad endpoint "${text}": expected tcp:HOST:PORT or unix:PATH`);
}

export function formatEndpoint(e: Endpoint): string {
  return 'path' in e ? `unix:${e.path}` : `tcp:${e.host}:${e.port}`;
}

/** A running relay; close() stops accepting and cuts open connections. */
export interface Relay {
  readonly listen: Endpoint;
  close(): Promise<void>;
}

/** Accepts on `listen` and pipes each connection to a new one to `connect`, both ways. */
export async function relay(listen: Endpoint, to: Endpoint): Promise<Relay> {
  const open = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    const outbound = connect(to);
    for (const s of [inbound, outbound]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      // Either side failing ends the pair; the peer sees a reset, as with a direct connection.
      s.on('error', () => { inbound.destroy(); outbound.destroy(); });
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  if ('path' in listen) rmSync(listen.path, { force: true });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(listen, () => { server.off('error', rej); res(); });
  });
  return {
    listen,
    close: () => new Promise<void>((res) => {
      for (const s of open) s.destroy();
      server.close(() => res());
    }),
  };
}

/** The whole path into one namespace; close() ends both relays. */
export interface NetnsBridge {
  /** The relay process inside the namespace. */
  readonly child: ChildProcess;
  close(): Promise<void>;
}

const children = new Set<ChildProcess>();
// An 'exit' handler cannot wait: kill the in-namespace relays that are still running.
process.once('exit', () => { for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL'); });

/**
 * Makes 127.0.0.1:`port` inside namespace `ns` reach 127.0.0.1:`port` of the
 * host namespace, through the unix socket `socketPath` (created here, in a
 * directory both sides see). Needs root (ip netns exec) and `lo` up in `ns`.
 */
export async function bridgeIntoNetns(ns: string, port: number, socketPath: string, timeoutMs = 10_000): Promise<NetnsBridge> {
  const host = await relay({ path: socketPath }, { host: '127.0.0.1', port });
  const listen = formatEndpoint({ host: '127.0.0.1', port });
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, NETNS_BRIDGE, listen, formatEndpoint({ path: socketPath })], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    children.delete(child);
    await host.close();
    rmSync(socketPath, { force: true });
  };
  try {
    await new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`the relay in netns ${ns} did not start within ${timeoutMs} ms: ${output}`)), timeoutMs);
      const seen = (d: Buffer) => {
        output += d.toString();
        if (output.includes(`netns-bridge listening ${listen}`)) { clearTimeout(timer); res(); }
      };
      child.stdout?.on('data', seen);
      child.stderr?.on('data', seen);
      child.once('exit', (code, signal) => { clearTimeout(timer); rej(new Error(`the relay in netns ${ns} exited (${code ?? signal}): ${output}`)); });
    });
  } catch (err) {
    await close();
    throw err;
  }
  return { child, close };
}

async function main(args: readonly string[]): Promise<void> {
  const [listen, to] = args;
  if (listen === undefined || to === undefined || args.length !== 2) {
    process.stderr.write('usage: node netns-bridge.ts LISTEN CONNECT   (tcp:HOST:PORT or unix:PATH)\n');
    process.exit(2);
  }
  const r = await relay(parseEndpoint(listen), parseEndpoint(to));
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => { void r.close().then(() => process.exit(0)); });
  process.stdout.write(`netns-bridge listening ${formatEndpoint(r.listen)}\n`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === NETNS_BRIDGE) await main(process.argv.slice(2));
