/**
 * The AMT probes on their real ports: the SIMULATED AMT endpoint (no AMT
 * hardware exists here; test/support/amt-sim.ts) runs in a network namespace
 * this test creates, on UDP 623 and TCP 16992/16993, behind a veth pair; the
 * prober and the Hello listener (TCP 9971) run here with their default
 * ports. Traffic stays on the veth pair. Root only; fails (never skips) when
 * root or a tool is missing.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HELLO_PORT, startHelloListener } from '../../src/agent/amt-hello.ts';
import type { AmtHelloEvent, HelloListener } from '../../src/agent/amt-hello.ts';
import { startAmtProber } from '../../src/agent/amt-prober.ts';
import type { AmtProbeEvent, AmtProber } from '../../src/agent/amt-prober.ts';
import { spawnAmtSimInNetns } from '../support/amt-sim.ts';
import type { AmtSimProcess } from '../support/amt-sim.ts';
import { createNetns } from './support/netns.ts';
import type { Netns } from './support/netns.ts';
import { findTool, requireRoot, requireTools, runOk } from './support/tools.ts';

// A /30 of 198.18.0.0/15 (RFC 2544 benchmarking, never routed) picked by pid, so parallel runs do not collide.
const pid = process.pid;
const base = `198.18.${(pid >> 6) & 0xff}.${(pid & 0x3f) * 4}`;
const hostIp = base.replace(/\d+$/, (d) => String(Number(d) + 1));
const amtIp = base.replace(/\d+$/, (d) => String(Number(d) + 2));
const MAC = '52:54:00:0a:47:01';

let ns: Netns;
let dir: string;
let sim: AmtSimProcess;
let listener: HelloListener;
let prober: AmtProber;
const probeEvents: AmtProbeEvent[] = [];
const hellos: AmtHelloEvent[] = [];

before(async () => {
  requireRoot('the simulated AMT listens on UDP 623 and TCP 16992/16993 in a network namespace');
  requireTools('ip', 'openssl');
  dir = mkdtempSync(join(tmpdir(), 'nb-amt-ns-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=simulated-amt', '-days', '1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  ns = await createNetns('amt');
  const hostIf = `nbah${pid}`.slice(0, 15);
  const nsIf = `nban${pid}`.slice(0, 15);
  await runOk('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf, 'netns', ns.name]);
  await runOk('ip', ['addr', 'add', `${hostIp}/30`, 'dev', hostIf]);
  await runOk('ip', ['link', 'set', hostIf, 'up']);
  await runOk('ip', ['-n', ns.name, 'addr', 'add', `${amtIp}/30`, 'dev', nsIf]);
  await runOk('ip', ['-n', ns.name, 'link', 'set', nsIf, 'up']);
  sim = await spawnAmtSimInNetns(ns.name, {
    address: amtIp, rmcpPort: 623, httpPort: 16992, httpsPort: 16993,
    tls: { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') },
    version: '16.1.27.2176', provisioningState: 'in',
  });
  listener = await startHelloListener({ address: hostIp, onHello: (e) => hellos.push(e), macOf: (a) => (a === amtIp ? MAC : undefined) });
  prober = startAmtProber({ seen: () => new Map([[amtIp, MAC]]), onAmt: (e) => probeEvents.push(e), bindAddress: hostIp, scanIntervalMs: 3_600_000 });
});

after(async () => {
  await prober?.stop();
  await listener?.close();
  await sim?.close();
  await ns?.destroy(); // deletes the veth pair with it
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('AMT probes on the default ports (simulated AMT in a netns)', () => {
  it('finds AMT 16.1 mid-provisioning: pong version from bytes 11/12, banner on 16992, no credentials', async () => {
    const outcome = await prober.probeNow(amtIp);
    assert.ok(outcome.rmcp.ok, JSON.stringify(outcome.rmcp));
    assert.deepEqual(outcome.rmcp.pong.version, { major: 16, minor: 1, text: '16.1' });
    assert.equal(outcome.rmcp.pong.openPort, 16993);
    const e = outcome.event;
    assert.ok(e !== undefined);
    assert.equal(e.version, '16.1.27.2176');
    assert.equal(e.source, 'http-server-header');
    assert.equal(e.provisioningState, 'in');
    assert.deepEqual(e.ports, { http: true, https: true });
    assert.equal(e.mac, MAC);
    // The real `ping`: this machine has none, so the heuristic must say it was skipped and why.
    if (findTool('ping') === undefined) assert.match(e.ttlHeuristic.reason, /NB5014: ping command not found/);
    else assert.ok(e.ttlHeuristic.verdict === 'os' || /NB5014/.test(e.ttlHeuristic.reason), e.ttlHeuristic.reason); // the namespace's Linux kernel answers, TTL 64
    assert.equal(probeEvents.length, 1);
    await waitFor(() => sim.events.some((x) => x.request !== undefined));
    const requests = sim.events.flatMap((x) => (x.request === undefined ? [] : [x.request]));
    assert.equal(requests.length, 1);
    assert.equal(requests[0]?.port, 16992);
    assert.doesNotMatch(requests[0]?.head ?? '', /authorization/i);
    assert.ok(sim.events.some((x) => x.ping !== undefined));
  });

  it('receives a Hello on TCP 9971 from the namespace and reports it as an attempt', async () => {
    assert.equal(listener.port, HELLO_PORT);
    await sim.sendHello({ host: hostIp, port: HELLO_PORT }, {
      adminCredentialsSet: false, retryCount: 0, uuid: 'd2ffc23e-9dd1-412d-860a-54b2039b72ff',
      rootHashes: [{ algorithm: 'sha256', hex: 'a267c480b0b29056eb5e8aa7c93add804f5a7df516e969e77bcacafe8d456079' }],
    });
    await waitFor(() => hellos.length === 1);
    assert.equal(hellos[0]?.address, amtIp);
    assert.equal(hellos[0]?.mac, MAC);
    assert.equal(hellos[0]?.uuid, 'd2ffc23e-9dd1-412d-860a-54b2039b72ff');
    assert.deepEqual(hellos[0]?.rootHashes, [{ algorithm: 'sha256', hex: 'a267c480b0b29056eb5e8aa7c93add804f5a7df516e969e77bcacafe8d456079' }]);
  });
});

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await delay(20);
  }
}
