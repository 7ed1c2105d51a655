/**
 * The AMT prober's and Hello listener's real sockets against the SIMULATED
 * AMT endpoint (test/support/amt-sim.ts) on loopback, on free ports: no AMT
 * hardware exists here, so the simulator speaks the bytes the Intel
 * documentation and open-source AMT tools describe. Needs no root; openssl
 * makes the simulator's TLS certificate for the 16993 case.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeHello } from '../../src/amt/probe/hello.ts';
import { buildAmtPong } from '../../src/amt/probe/rmcp.ts';
import { startHelloListener } from '../../src/agent/amt-hello.ts';
import type { AmtHelloEvent } from '../../src/agent/amt-hello.ts';
import { systemPing } from '../../src/agent/amt-icmp.ts';
import { startAmtProber } from '../../src/agent/amt-prober.ts';
import type { AmtProbeEvent, AmtProber } from '../../src/agent/amt-prober.ts';
import { systemTransport } from '../../src/agent/amt-transport.ts';
import { Errors, isNetbootError } from '../../src/errors.ts';
import { startAmtSim } from '../support/amt-sim.ts';
import type { AmtSim, SimHello } from '../support/amt-sim.ts';
import { findTool, requireTools } from './support/tools.ts';

let dir: string;
let tls: { key: string; cert: string };
/** Stand-ins for iputils ping: this machine has no ping binary (see the ICMP test for the real one). */
let pingTtl255: string;
let pingNoReply: string;
let pingNotPermitted: string;

before(() => {
  requireTools('openssl');
  dir = mkdtempSync(join(tmpdir(), 'nb-amt-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=simulated-amt', '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  tls = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  const script = (name: string, body: string) => {
    writeFileSync(join(dir, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
    return join(dir, name);
  };
  // The output iputils' ping prints for one reply (args: -n -c 1 -W 1 ADDRESS; $6 is the address).
  pingTtl255 = script('ping-ttl255', 'echo "PING $6 ($6) 56(84) bytes of data."; echo "64 bytes from $6: icmp_seq=1 ttl=255 time=0.412 ms"');
  pingNoReply = script('ping-noreply', 'echo "1 packets transmitted, 0 received, 100% packet loss, time 0ms"; exit 1');
  pingNotPermitted = script('ping-eperm', 'echo "ping: socket: Operation not permitted" >&2; exit 2');
});
after(() => rmSync(dir, { recursive: true, force: true }));

const SEEN_MAC = '52:54:00:a1:b2:c3';

function prober(sim: AmtSim, onAmt: (e: AmtProbeEvent) => void, pingCommand: string): AmtProber {
  return startAmtProber({
    seen: () => new Map([[sim.address, SEEN_MAC]]),
    onAmt,
    transport: systemTransport({ bindAddress: '127.0.0.1', pingCommand }),
    ports: { rmcp: sim.rmcpPort, http: sim.httpPort ?? closedPort, https: sim.httpsPort ?? closedPort },
    timeouts: { rmcpMs: 400, httpMs: 1500 },
    scanIntervalMs: 3_600_000,
  });
}

/** A loopback TCP port nothing listens on (bound, then closed): where a port the simulator does not open points. */
let closedPort = 0;

describe('AMT probes against the simulated endpoint on loopback', () => {
  before(async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    const a = s.address();
    closedPort = typeof a === 'object' && a !== null ? a.port : 1;
    await new Promise<void>((r) => s.close(() => r()));
  });

  it('pre-provisioning AMT 11.8 on 16992: pong state and 401 banner, no credentials sent, TTL 255 read as AMT (heuristic)', async () => {
    const sim = await startAmtSim({ version: '11.8.50.3425', provisioningState: 'pre' });
    const events: AmtProbeEvent[] = [];
    const p = prober(sim, (e) => events.push(e), pingTtl255);
    try {
      const outcome = await p.probeNow(sim.address);
      assert.equal(outcome.detected, true);
      assert.ok(outcome.rmcp.ok && outcome.rmcp.pong.amt && outcome.rmcp.pong.openPort === 0, JSON.stringify(outcome.rmcp));
      assert.equal(outcome.http.length, 1, 'the banner on 16992 ends the HTTP probe');
      assert.deepEqual(outcome.event && { ...outcome.event, at: 0, ttlHeuristic: outcome.event.ttlHeuristic.verdict }, {
        mac: SEEN_MAC, address: '127.0.0.1', version: '11.8.50.3425', provisioningState: 'pre', source: 'http-server-header', versions: { httpServerHeader: '11.8.50.3425', rmcp: '11.8' }, ttlHeuristic: 'amt', at: 0, ports: { http: true, https: false },
      });
      assert.equal(outcome.ttlHeuristic.heuristic, true);
      assert.ok(sim.pings.length >= 1);
      assert.equal(sim.requests.length, 1);
      assert.match(sim.requests[0]?.head ?? '', /^GET \/ HTTP\/1\.1\r\n/);
      assert.doesNotMatch(sim.requests[0]?.head ?? '', /authorization/i, 'never a credential');
    } finally {
      await p.stop();
      await sim.close();
    }
  });

  it('configured AMT with TLS only: 16992 refused, the banner read on 16993 over TLS; the pong names 16993', async () => {
    const sim = await startAmtSim({ version: '15.0.23.1706', provisioningState: 'post', answerHttp: false, tls });
    const p = prober(sim, () => {}, pingNoReply);
    try {
      const outcome = await p.probeNow(sim.address);
      assert.equal(outcome.http.length, 2);
      const plain = outcome.http[0]?.outcome;
      assert.ok(plain !== undefined && !plain.ok && /^NB5015: http:\/\/127\.0\.0\.1:\d+\/ .*ECONNREFUSED/.test(plain.reason), JSON.stringify(plain));
      assert.ok(outcome.http[1]?.outcome.ok && outcome.http[1].outcome.status === 401 && outcome.http[1].tls);
      assert.equal(outcome.event?.version, '15.0.23.1706');
      assert.equal(outcome.event?.provisioningState, 'post');
      assert.deepEqual(outcome.event?.ports, { http: false, https: true });
      assert.equal(outcome.event?.ttlHeuristic.verdict, 'unknown');
      assert.match(outcome.event?.ttlHeuristic.reason ?? '', /no echo reply/);
      assert.equal(sim.requests[0]?.tls, true);
      assert.doesNotMatch(sim.requests[0]?.head ?? '', /authorization/i);
    } finally {
      await p.stop();
      await sim.close();
    }
  });

  it('RMCP answer disabled: AMT is still found by its banner, the setup state is unknown', async () => {
    const sim = await startAmtSim({ version: '12.0.45', provisioningState: 'post', answerRmcp: false });
    const p = prober(sim, () => {}, pingTtl255);
    try {
      const outcome = await p.probeNow(sim.address);
      assert.ok(!outcome.rmcp.ok && /no presence pong within 400 ms/.test(outcome.rmcp.reason));
      assert.ok(sim.pings.length >= 2, 'the ping is sent again at half the timeout');
      assert.equal(outcome.event?.provisioningState, 'unknown');
      assert.equal(outcome.event?.source, 'http-server-header');
      assert.equal(outcome.event?.version, '12.0.45');
    } finally {
      await p.stop();
      await sim.close();
    }
  });

  it('a seen address where nothing answers: no event; an unseen one is refused (NB5013)', async () => {
    const sim = await startAmtSim({ answerRmcp: false, answerHttp: false });
    const events: AmtProbeEvent[] = [];
    const p = prober(sim, (e) => events.push(e), pingNoReply);
    try {
      const outcome = await p.probeNow(sim.address);
      assert.equal(outcome.detected, false);
      assert.equal(outcome.event, undefined);
      assert.equal(events.length, 0);
      await assert.rejects(p.probeNow('127.0.0.2'), (err: unknown) => isNetbootError(err, Errors.AmtProbeNotAllowed));
    } finally {
      await p.stop();
      await sim.close();
    }
  });

  it('the RMCP socket skips garbage, answers from elsewhere and wrong tags, and takes the pong with our tag', async () => {
    const responder = createSocket('udp4');
    const stranger = createSocket('udp4');
    await new Promise<void>((r) => responder.bind(0, '127.0.0.1', () => r()));
    await new Promise<void>((r) => stranger.bind(0, '127.0.0.1', () => r()));
    responder.on('message', (ping, from) => {
      const tag = ping[9] ?? 0;
      stranger.send(buildAmtPong({ tag, major: 9, minor: 0, openPort: 16992, provisioningState: 'post' }), from.port, from.address); // wrong source port
      responder.send(Buffer.from('not rmcp at all'), from.port, from.address);
      responder.send(buildAmtPong({ tag: (tag + 1) % 255, major: 9, minor: 0, openPort: 16992, provisioningState: 'post' }), from.port, from.address);
      setTimeout(() => responder.send(buildAmtPong({ tag, major: 11, minor: 8, openPort: 0, provisioningState: 'pre' }), from.port, from.address), 20);
    });
    try {
      const r = await systemTransport({ bindAddress: '127.0.0.1' }).rmcpPing('127.0.0.1', responder.address().port, 1000);
      assert.ok(r.ok, JSON.stringify(r));
      assert.equal(r.pong.version?.text, '11.8');
      assert.ok(r.ignored.some((i) => i.startsWith('NB5010: ')), JSON.stringify(r.ignored));
      assert.ok(r.ignored.some((i) => /^pong for tag \d+, want \d+$/.test(i)), JSON.stringify(r.ignored));
      assert.equal(r.ignored.length, 2, 'the stranger\'s pong is not even looked at');
    } finally {
      responder.close();
      stranger.close();
    }
  });
});

describe('the ICMP edge: system ping, or the heuristic skipped with the reason', () => {
  it('reads the TTL from iputils output; reports no reply, a missing binary and a refused socket as skipped (NB5014)', async () => {
    assert.deepEqual(await systemPing({ command: pingTtl255 })('127.0.0.1'), { ttl: 255 });
    assert.match((await systemPing({ command: pingNoReply })('127.0.0.1')).skipped ?? '', /^no echo reply within 1 s/);
    assert.match((await systemPing({ command: pingNotPermitted })('127.0.0.1')).skipped ?? '', /^NB5014: ping not permitted/);
    assert.match((await systemPing({ command: join(dir, 'no-such-ping') })('127.0.0.1')).skipped ?? '', /^NB5014: ping command not found/);
    assert.match((await systemPing({ command: pingTtl255 })('-f')).skipped ?? '', /not an IPv4 address/, 'an option is never passed as the address');
  });

  it('the real `ping` on this machine: TTL 64 from loopback when installed, else NB5014 not found', async () => {
    const real = await systemPing()('127.0.0.1');
    if (findTool('ping') === undefined) assert.match(real.skipped ?? '', /^NB5014: ping command not found/);
    else assert.ok(real.ttl === 64 || /^NB5014: ping not permitted/.test(real.skipped ?? ''), JSON.stringify(real));
  });
});

describe('the Hello listener against the simulator\'s Hello sender', () => {
  const HELLO: SimHello = {
    adminCredentialsSet: true, retryCount: 2, uuid: '939b524b-13d4-1d18-e487-1c697a6b7a2b',
    rootHashes: [
      { algorithm: 'sha256', hex: 'c3846bf24b9e93ca64274c0ec67c1ecc5e024ffcacd2d74019350e81fe546ae4' },
      { algorithm: 'sha1', hex: '742c3192e607e424eb4549542be1bbc53e6174e2' },
    ],
  };

  it('decodes whole and split Hellos into attempts, drops a repeat within minIntervalMs, and drops garbage with NB5011', async () => {
    const events: AmtHelloEvent[] = [];
    const warnings: { obj: Record<string, unknown>; msg: string }[] = [];
    let now = Date.UTC(2026, 10, 23, 10, 0, 0);
    const listener = await startHelloListener({
      address: '127.0.0.1', port: 0, onHello: (e) => events.push(e), now: () => now,
      macOf: (a) => (a === '127.0.0.1' ? SEEN_MAC : undefined), minIntervalMs: 20_000, idleTimeoutMs: 2000,
      log: { debug: () => {}, warn: (obj, msg) => warnings.push({ obj: obj as Record<string, unknown>, msg }) },
    });
    const sim = await startAmtSim();
    const to = { host: '127.0.0.1', port: listener.port };
    try {
      await sim.sendHello(to, HELLO);
      await waitFor(() => events.length === 1);
      assert.deepEqual(events[0], { ...HELLO, address: '127.0.0.1', mac: SEEN_MAC, at: now });
      await sim.sendHello(to, { ...HELLO, retryCount: 3 }, true);
      await delay(100);
      assert.equal(events.length, 1, 'a second Hello from the same address 0 s later is dropped');
      now += 60_000;
      await sim.sendHello(to, { ...HELLO, retryCount: 3 }, true);
      await waitFor(() => events.length === 2);
      assert.equal(events[1]?.retryCount, 3);
      assert.equal(events[1]?.at, now);

      const psk = new Uint8Array(32);
      psk[2] = 2; // interface version 2: a PSK Hello
      await sendRaw(listener.port, psk);
      await waitFor(() => warnings.length === 1);
      assert.equal(warnings[0]?.obj['code'], 'NB5011');
      assert.match(warnings[0]?.msg ?? '', /PSK Hello/);
      await sendRaw(listener.port, encodeHello(HELLO).subarray(0, 30)); // closed mid-Hello
      await waitFor(() => warnings.length === 2);
      assert.match(warnings[1]?.msg ?? '', /connection closed mid-Hello/);
      await sendRaw(listener.port, new Uint8Array(0)); // a port scan: connect and close
      await delay(100);
      assert.equal(warnings.length, 2, 'an empty connection is not worth a warning');
      assert.equal(events.length, 2);
    } finally {
      await sim.close();
      await listener.close();
    }
  });

  it('refuses to start on a port in use (NB5012)', async () => {
    const first = await startHelloListener({ address: '127.0.0.1', port: 0, onHello: () => {} });
    try {
      await assert.rejects(startHelloListener({ address: '127.0.0.1', port: first.port, onHello: () => {} }), (err: unknown) => isNetbootError(err, Errors.AmtHelloListenFailed) && err.message.includes(`127.0.0.1:${first.port}`));
    } finally {
      await first.close();
    }
  });
});

function sendRaw(port: number, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.end(bytes));
    socket.on('error', reject);
    socket.on('close', () => resolve());
    socket.resume();
  });
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await delay(10);
  }
}
