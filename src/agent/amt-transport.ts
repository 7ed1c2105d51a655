/**
 * The AMT prober's only contact with the network: one RMCP presence ping
 * (UDP), one HTTP GET read up to the end of its headers (TCP or TLS), one
 * ICMP echo through the system `ping`. Behind an interface so the prober's
 * scheduling is tested with a fake. Nothing here ever sends a credential.
 */
import { createSocket } from 'node:dgram';
import { connect as tcpConnect } from 'node:net';
import type { Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { buildPresencePing, parsePresencePong } from '../amt/probe/rmcp.ts';
import type { PresencePong } from '../amt/probe/rmcp.ts';
import { buildProbeRequest, MAX_HEAD_BYTES, parseResponseHead, parseServerBanner } from '../amt/probe/http-server.ts';
import type { ServerBanner } from '../amt/probe/http-server.ts';
import { Errors } from '../errors.ts';
import { systemPing } from './amt-icmp.ts';
import type { IcmpOutcome } from './amt-icmp.ts';

export type RmcpOutcome =
  | { readonly ok: true; readonly pong: PresencePong; readonly ignored: readonly string[] }
  | { readonly ok: false; readonly reason: string; readonly ignored: readonly string[] };

export type HttpOutcome =
  | { readonly ok: true; readonly status: number; readonly server?: string; readonly banner?: ServerBanner }
  | { readonly ok: false; readonly reason: string };

export interface AmtTransport {
  /** Pings `address:port`, resends once at half the timeout, resolves with the first pong carrying our tag. */
  rmcpPing(address: string, port: number, timeoutMs: number): Promise<RmcpOutcome>;
  /** GET / and the response's status and Server header (a 401 is an answer, not a failure). */
  httpHead(address: string, port: number, tls: boolean, timeoutMs: number): Promise<HttpOutcome>;
  /** One ICMP echo; the reply's TTL, or why there is none. */
  ping(address: string): Promise<IcmpOutcome>;
}

/** The real transport; `bindAddress` is the serving interface's address (default: any). */
export function systemTransport(opts: { bindAddress?: string; pingCommand?: string } = {}): AmtTransport {
  let tag = 0;
  const icmp = systemPing(opts.pingCommand === undefined ? {} : { command: opts.pingCommand });
  return {
    rmcpPing: (address, port, timeoutMs) => rmcpPing(address, port, timeoutMs, (tag = (tag + 1) % 255), opts.bindAddress ?? '0.0.0.0'),
    httpHead,
    ping: (address) => icmp(address),
  };
}

function rmcpPing(address: string, port: number, timeoutMs: number, tag: number, bindAddress: string): Promise<RmcpOutcome> {
  const ignored: string[] = [];
  return new Promise((resolve) => {
    const socket = createSocket({ type: 'udp4' });
    const ping = buildPresencePing(tag);
    let settled = false;
    const finish = (outcome: RmcpOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(resend);
      clearTimeout(giveUp);
      try { socket.close(); } catch { /* already closed */ }
      resolve(outcome);
    };
    const send = () => socket.send(ping, port, address, (err) => { if (err) finish({ ok: false, reason: `send failed: ${err.message}`, ignored }); });
    const resend = setTimeout(send, timeoutMs / 2);
    const giveUp = setTimeout(() => finish({ ok: false, reason: `no presence pong within ${timeoutMs} ms`, ignored }), timeoutMs);
    socket.on('error', (err) => finish({ ok: false, reason: `socket error: ${err.message}`, ignored }));
    socket.on('message', (data, from) => {
      if (from.address !== address || from.port !== port) return; // not the machine we asked
      const r = parsePresencePong(data);
      if (!r.ok) { ignored.push(`${Errors.AmtPongMalformed.code}: ${r.reason}`); return; }
      if (r.pong.tag !== tag) { ignored.push(`pong for tag ${r.pong.tag}, want ${tag}`); return; }
      finish({ ok: true, pong: r.pong, ignored });
    });
    socket.bind({ address: bindAddress, port: 0 }, send);
  });
}

function httpHead(address: string, port: number, tls: boolean, timeoutMs: number): Promise<HttpOutcome> {
  return new Promise((resolve) => {
    const request = buildProbeRequest(address, port);
    // TLS only to read a banner: nothing secret is sent, so the AMT's
    // self-signed certificate is not verified, and old firmware's TLS 1.0 is allowed.
    const socket: Socket = tls
      ? tlsConnect({ host: address, port, rejectUnauthorized: false, minVersion: 'TLSv1', ciphers: 'DEFAULT:@SECLEVEL=0' }, () => socket.write(request))
      : tcpConnect({ host: address, port }, () => socket.write(request));
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (outcome: HttpOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const fail = (why: string) => finish({ ok: false, reason: `${Errors.AmtHttpProbeFailed.code}: ${tls ? 'https' : 'http'}://${address}:${port}/ ${why}` });
    const timer = setTimeout(() => fail(`no response headers within ${timeoutMs} ms`), timeoutMs);
    socket.on('error', (err) => fail(err.message));
    socket.on('end', () => fail('closed before the end of the headers'));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      const r = parseResponseHead(Buffer.concat(chunks, size).subarray(0, MAX_HEAD_BYTES));
      if (r.ok) {
        const server = r.head.headers.get('server');
        const banner = parseServerBanner(server);
        finish({ ok: true, status: r.head.status, ...(server === undefined ? {} : { server }), ...(banner === undefined ? {} : { banner }) });
      } else if (!('incomplete' in r)) fail(r.reason);
    });
  });
}
