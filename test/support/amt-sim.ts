/**
 * A SIMULATED Intel AMT endpoint for tests. No AMT hardware exists on this
 * machine, so this stands in for one, byte-compatible with what the sources
 * say a real one sends:
 * - an RMCP responder that answers a presence ping with an AMT pong
 *   (src/amt/probe/rmcp.ts buildAmtPong: Intel's byte table);
 * - a web server on the "16992"/"16993" ports that answers every request
 *   with AMT's 401 (headers as quoted from a real AMT 15 in
 *   open-amt-cloud-toolkit/rps src/dataProcessor.test.ts, with the version
 *   substituted), and records each request head so tests can check that no
 *   credentials were sent;
 * - a Hello sender that connects to a listener and writes a PKI Hello.
 *
 * Loopback with configurable ports by default (no root needed). For default
 * ports inside a network namespace, run this file as a program under
 * `ip netns exec` ({@link spawnAmtSimInNetns}): it prints one JSON line when
 * ready and one per event, and takes Hello commands as JSON lines on stdin.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { connect, createServer as createTcpServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { createServer as createTlsServer } from 'node:tls';
import { encodeHello } from '../../src/amt/probe/hello.ts';
import type { PkiHello } from '../../src/amt/probe/hello.ts';
import { buildAmtPong, parsePresencePong } from '../../src/amt/probe/rmcp.ts';

export interface AmtSimOptions {
  /** Default 127.0.0.1. */
  readonly address?: string;
  /** 0 (default) picks free ports; 623/16992/16993 are the real ones (root or a netns). */
  readonly rmcpPort?: number;
  readonly httpPort?: number;
  /** Listen with TLS on this port too (needs `tls`). */
  readonly httpsPort?: number;
  readonly tls?: { readonly key: string; readonly cert: string };
  /** Firmware version in the banner and the pong (default 11.8.50.3425). */
  readonly version?: string;
  readonly provisioningState?: 'pre' | 'in' | 'post';
  /** Port named in the pong; default 0 before setup, else 16993 with TLS and 16992 without. */
  readonly pongPort?: number;
  /** False: ignore pings, like AMT with its RMCP answer disabled. */
  readonly answerRmcp?: boolean;
  /** False: no plain-HTTP listener (AMT with TLS on answers only on 16993). */
  readonly answerHttp?: boolean;
}

export type SimHello = Omit<PkiHello, 'interfaceVersion'>;

export interface AmtSim {
  readonly address: string;
  readonly rmcpPort: number;
  readonly httpPort?: number;
  readonly httpsPort?: number;
  /** Tags of the pings received. */
  readonly pings: number[];
  /** Each HTTP request head received, in order. */
  readonly requests: { port: number; tls: boolean; head: string }[];
  /** Connects to `to` and writes `hello`, in two pieces when `split` (as TCP may deliver it). */
  sendHello(to: { host: string; port: number }, hello: SimHello, split?: boolean): Promise<void>;
  close(): Promise<void>;
}

/** The 401 AMT answers an unauthenticated request with (real AMT 15 headers, version substituted). */
export function amt401(version: string): string {
  const body = '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" >\n<html><head><title>Intel&reg; Active Management Technology</title></head><body>Log on failed.</body></html>\n';
  return 'HTTP/1.1 401 Unauthorized\r\n' +
    'WWW-Authenticate: Digest realm="Digest:727734D63A1FC0423736E48DA554E462", nonce="B9AX94iAAAAAAAAAx6rrSfPHGUrx/3uA",stale="false",qop="auth"\r\n' +
    `Content-Type: text/html\r\nServer: Intel(R) Active Management Technology ${version}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
}

/** Starts the simulated endpoint in this process. */
export async function startAmtSim(opts: AmtSimOptions = {}): Promise<AmtSim> {
  const address = opts.address ?? '127.0.0.1';
  const version = opts.version ?? '11.8.50.3425';
  const [major = 0, minor = 0] = version.split('.').map(Number);
  const state = opts.provisioningState ?? 'pre';
  const pongPort = opts.pongPort ?? (state === 'pre' ? 0 : opts.tls !== undefined ? 16993 : 16992);
  const pings: number[] = [];
  const requests: { port: number; tls: boolean; head: string }[] = [];
  const servers: Server[] = [];
  const sockets = new Set<Socket>();

  const udp = createSocket({ type: 'udp4' });
  udp.on('message', (data, from) => {
    // A ping is a pong-shaped header with type 0x80; check the fixed bytes the way a responder would.
    if (data.length < 12 || data[8] !== 0x80 || data.readUInt32BE(4) !== 4542) return;
    const tag = data[9] ?? 0;
    pings.push(tag);
    if (opts.answerRmcp === false) return;
    const pong = buildAmtPong({ tag, major, minor, openPort: pongPort, provisioningState: state });
    if (!parsePresencePong(pong).ok) throw new Error('simulator built an invalid pong');
    udp.send(pong, from.port, from.address);
  });
  await new Promise<void>((resolve, reject) => { udp.once('error', reject); udp.bind(opts.rmcpPort ?? 0, address, () => resolve()); });

  const onConnection = (port: () => number, tls: boolean) => (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      requests.push({ port: port(), tls, head: text.slice(0, end + 4) });
      socket.end(amt401(version));
    });
  };
  const listen = async (server: Server, port: number): Promise<number> => {
    servers.push(server);
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, address, () => resolve()); });
    const a = server.address();
    return typeof a === 'object' && a !== null ? a.port : port;
  };
  let httpPort: number | undefined;
  let httpsPort: number | undefined;
  try {
    if (opts.answerHttp !== false) {
      httpPort = await listen(createTcpServer(onConnection(() => httpPort ?? 0, false)), opts.httpPort ?? 0);
    }
    if (opts.tls !== undefined) {
      httpsPort = await listen(createTlsServer({ key: opts.tls.key, cert: opts.tls.cert }, onConnection(() => httpsPort ?? 0, true)), opts.httpsPort ?? 0);
    }
  } catch (err) {
    // The caller gets no handle to close, so close what is open here: a bound socket left behind keeps the test process alive.
    udp.close();
    for (const s of servers) s.close();
    throw err;
  }

  return {
    address, rmcpPort: udp.address().port, pings, requests,
    ...(httpPort === undefined ? {} : { httpPort }),
    ...(httpsPort === undefined ? {} : { httpsPort }),
    sendHello: (to, hello, split = false) => new Promise((resolve, reject) => {
      const bytes = encodeHello(hello);
      const socket = connect({ host: to.host, port: to.port, localAddress: address }, () => {
        if (!split) { socket.end(bytes); return; }
        socket.write(bytes.subarray(0, 30));
        setTimeout(() => socket.end(bytes.subarray(30)), 50);
      });
      socket.on('error', reject);
      socket.on('close', () => resolve());
      socket.resume();
    }),
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all([
        new Promise<void>((r) => udp.close(() => r())),
        ...servers.map((s) => new Promise<void>((r) => s.close(() => r()))),
      ]);
    },
  };
}

/** The simulator running as a child process inside a network namespace. */
export interface AmtSimProcess {
  readonly rmcpPort: number;
  readonly httpPort?: number;
  readonly httpsPort?: number;
  /** Events the child printed: pings and request heads, as they arrive. */
  readonly events: { ping?: number; request?: { port: number; tls: boolean; head: string } }[];
  sendHello(to: { host: string; port: number }, hello: SimHello): Promise<void>;
  close(): Promise<void>;
}

/**
 * Runs this file under `ip netns exec <netns>` (root) and waits until it
 * listens. `node` is this process's own binary (Node 24).
 */
export function spawnAmtSimInNetns(netns: string, opts: AmtSimOptions): Promise<AmtSimProcess> {
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, import.meta.filename, JSON.stringify(opts)], { stdio: ['pipe', 'pipe', 'pipe'] });
  const events: AmtSimProcess['events'] = [];
  const waiting: ((line: Record<string, unknown>) => boolean)[] = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  createInterface({ input: child.stdout }).on('line', (line) => {
    const msg = JSON.parse(line) as Record<string, unknown>;
    if ('ping' in msg || 'request' in msg) events.push(msg);
    const i = waiting.findIndex((w) => w(msg));
    if (i >= 0) waiting.splice(i, 1);
  });
  const next = (want: string, timeoutMs = 10_000): Promise<Record<string, unknown>> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`AMT simulator in ${netns}: no "${want}" within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
    waiting.push((msg) => {
      if (!(want in msg)) return false;
      clearTimeout(timer);
      if (msg[want] === false) reject(new Error(`AMT simulator in ${netns}: ${String(msg['error'])}`));
      else resolve(msg);
      return true;
    });
  });
  return next('ready').then((ready) => ({
    rmcpPort: Number(ready['rmcpPort']),
    ...(ready['httpPort'] === undefined ? {} : { httpPort: Number(ready['httpPort']) }),
    ...(ready['httpsPort'] === undefined ? {} : { httpsPort: Number(ready['httpsPort']) }),
    events,
    sendHello: async (to, hello) => {
      const done = next('helloSent');
      child.stdin.write(`${JSON.stringify({ to, hello })}\n`);
      await done;
    },
    close: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) { resolve(); return; }
      child.once('exit', () => resolve());
      child.stdin.end();
      setTimeout(() => child.kill('SIGKILL'), 3_000).unref();
    }),
  }));
}

/** Program mode: `node amt-sim.ts '<AmtSimOptions JSON>'`, used by spawnAmtSimInNetns. */
async function main(): Promise<void> {
  const print = (msg: unknown) => process.stdout.write(`${JSON.stringify(msg)}\n`);
  let sim: AmtSim;
  try {
    sim = await startAmtSim(JSON.parse(process.argv[2] ?? '{}') as AmtSimOptions);
  } catch (err) {
    print({ ready: false, error: String(err) });
    process.exit(1);
  }
  const pings = sim.pings;
  const requests = sim.requests;
  let seenPings = 0;
  let seenRequests = 0;
  const flush = setInterval(() => {
    for (; seenPings < pings.length; seenPings++) print({ ping: pings[seenPings] });
    for (; seenRequests < requests.length; seenRequests++) print({ request: requests[seenRequests] });
  }, 20);
  print({ ready: true, rmcpPort: sim.rmcpPort, httpPort: sim.httpPort, httpsPort: sim.httpsPort });
  const input = createInterface({ input: process.stdin });
  input.on('line', (line) => {
    const cmd = JSON.parse(line) as { to: { host: string; port: number }; hello: SimHello };
    sim.sendHello(cmd.to, cmd.hello).then(() => print({ helloSent: true }), (err: unknown) => print({ helloSent: false, error: String(err) }));
  });
  input.on('close', () => {
    clearInterval(flush);
    void sim.close().then(() => process.exit(0));
  });
}

if (import.meta.main) void main();
