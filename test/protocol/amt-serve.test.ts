/**
 * `netboot serve --dry-run` recording Intel AMT facts, end to end on
 * loopback: the real CLI process (every port +10000, AMT's too) against the
 * SIMULATED AMT endpoint of test/support/amt-sim.ts. No AMT hardware exists
 * here, so the simulator answers the RMCP presence ping with Intel's pong
 * bytes and HTTP with AMT's 401 and Server banner, and sends a PKI Hello.
 *
 * A machine seen on the segment (a PXE request on 4011 from 127.0.0.1) whose
 * class names an amtPolicy is probed: status.boot.amt.probe gets the version.
 * A Hello from that address, then one from an address never seen that only
 * the BootMachine's spec.uuid identifies, each add one to hello.count. A site
 * DHCP server's OFFER on the shifted client port adds siteOption15. All read
 * back from the standalone status file.
 *
 * Fixed ports (the dry-run contract): 10623 RMCP, 26992/26993 HTTP(S),
 * 19971 Hello, 10068 DHCP client; the boot ports are set high in the YAML.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AmtObservation } from '../../src/api/v1alpha1/amtstatus.ts';
import { MessageType, OptionCode, decodePacket, encodePacket, getOption, replyFrom, setOption } from '../../src/protocol/dhcp/index.ts';
import { readMachinesFile } from '../../src/store/file.ts';
import { startAmtSim } from '../support/amt-sim.ts';
import { amtFleetYaml, request, withArch, withCiaddr, withType } from '../support/dhcp.ts';
import { REPO_ROOT } from '../support/fixtures.ts';

const NETBOOT = join(REPO_ROOT, 'bin/netboot.js');
const MAC = '52:54:00:a1:b2:c3';
const UUID = '4c4c4544-0042-3510-8052-b4c04f4d3732';
// --dry-run adds 10000: 22067/22011/22069/22081. Fixed ports must be unique across the suite (two test files run at
// once) and below 32768, outside Linux's ephemeral range: see test/kube/controller-amt.test.ts for the others.
const PORTS = { dhcp: 12067, pxe: 12011, tftp: 12069, http: 12081 };
const SHIFT = 10000;

const YAML = `apiVersion: netboot.dev/v1alpha1
kind: BootNetwork
metadata: {name: lab}
spec:
  mode: proxy
  subnet: 127.0.0.0/8
  unknownMachines: ignore
  ports: {dhcp: ${PORTS.dhcp}, pxe: ${PORTS.pxe}, tftp: ${PORTS.tftp}, http: ${PORTS.http}}
---
apiVersion: netboot.dev/v1alpha1
kind: BootProfile
metadata: {name: hello}
spec:
  ipxe: {script: "#!ipxe\\necho hello\\n"}
${amtFleetYaml('{dnsSuffix: contoso.com}')}---
apiVersion: netboot.dev/v1alpha1
kind: BootMachine
metadata: {name: 52-54-00-a1-b2-c3}
spec: {mac: "${MAC}", uuid: ${UUID}}
`;

async function waitFor<T>(what: string, ms: number, read: () => T | undefined, log: () => string): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const v = read();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not happen within ${ms} ms; agent log:\n${log()}`);
}

test('serve --dry-run probes a seen AMT machine (simulated), counts its Hellos, and overhears the site DHCP server, into the status file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netboot-amt-serve-'));
  const state = join(dir, 'state');
  writeFileSync(join(dir, 'lab.yaml'), YAML);
  const sim = await startAmtSim({ address: '127.0.0.1', rmcpPort: 623 + SHIFT, httpPort: 16992 + SHIFT, version: '11.8.50.3425', provisioningState: 'pre' });
  // A second simulated AMT at an address the agent never saw: only its UUID identifies it.
  const stranger = await startAmtSim({ address: '127.0.0.2' });
  const agent = spawn(process.execPath, [NETBOOT, 'serve', '-f', dir, '--dry-run', '--state', state, '--node', 'test-node'],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NETBOOT_LOG_LEVEL: 'debug' } });
  let log = '';
  agent.stderr.on('data', (d: Buffer) => { log += d.toString(); });
  const exited = new Promise<number | null>((r) => agent.once('exit', (code) => r(code)));
  const amt = (): AmtObservation | undefined => {
    try { return readMachinesFile(state).find((m) => m.spec.mac === MAC)?.status?.boot?.amt; } catch { return undefined; } // mid-rename
  };
  const sock = createSocket('udp4');
  try {
    await waitFor('agent ready', 15_000, () => (/agent ready/.test(log) ? true : undefined), () => log);

    // Seen on the segment: a PXE request on 4011 from 127.0.0.1.
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const reply = new Promise<Buffer>((r) => sock.once('message', r));
    sock.send(encodePacket(request(withArch(7), withType(MessageType.Request), withCiaddr('127.0.0.1'), (p) => { p.chaddr = Uint8Array.of(0x52, 0x54, 0, 0xa1, 0xb2, 0xc3); })), PORTS.pxe + SHIFT, '127.0.0.1');
    const ack = decodePacket(await Promise.race([reply, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no 4011 reply; log:\n${log}`)), 5000))]));
    assert.equal(getOption(ack.options, OptionCode.MessageType), MessageType.Ack);

    const probed = await waitFor('a probe in status.boot.amt', 20_000, () => amt()?.probe, () => log);
    assert.equal(probed.address, '127.0.0.1');
    assert.equal(probed.httpServerHeader, '11.8.50.3425', 'version from the Server banner of the 401');
    assert.equal(probed.rmcp, '11.8', 'version nibbles from the RMCP pong');
    assert.equal(probed.provisioningState, 'pre');
    // Real ping to 127.0.0.1: Linux answers with TTL 64, so the heuristic says the OS answered.
    assert.equal(probed.ttl, 64);
    assert.equal(probed.osAnswering, 'os');
    assert.ok(sim.pings.length >= 1, 'the simulator saw the presence ping');
    assert.ok(sim.requests.length >= 1 && sim.requests.every((r) => !/^authorization:/im.test(r.head)), 'no credentials sent');
    assert.ok(amt()?.firstSeenAt !== undefined, 'the 4011 request was the first sighting');

    const hello = { adminCredentialsSet: false, retryCount: 3, uuid: UUID, rootHashes: [{ algorithm: 'sha256' as const, hex: 'ab'.repeat(32) }] };
    await sim.sendHello({ host: '127.0.0.1', port: 9971 + SHIFT }, hello);
    const first = await waitFor('hello.count 1', 10_000, () => (amt()?.hello?.count === 1 ? amt()?.hello : undefined), () => log);
    assert.deepEqual({ ...first, at: 'x' }, { at: 'x', count: 1, retryCount: 3, uuid: UUID, rootHashes: ['ab'.repeat(32)] });
    await stranger.sendHello({ host: '127.0.0.1', port: 9971 + SHIFT }, { ...hello, retryCount: 4 });
    const second = await waitFor('hello.count 2', 10_000, () => (amt()?.hello?.count === 2 ? amt()?.hello : undefined), () => log);
    assert.equal(second.retryCount, 4, 'matched by spec.uuid from an address never seen');

    // The site DHCP server's OFFER to the machine, on the dry-run client port.
    const offer = replyFrom(request((p) => { p.chaddr = Uint8Array.of(0x52, 0x54, 0, 0xa1, 0xb2, 0xc3); }));
    offer.yiaddr = '127.0.0.50';
    setOption(offer.options, OptionCode.MessageType, MessageType.Offer);
    setOption(offer.options, OptionCode.ServerIdentifier, '127.0.0.9');
    setOption(offer.options, OptionCode.DomainName, 'sales.contoso.com');
    sock.send(encodePacket(offer), 68 + SHIFT, '127.0.0.1');
    const site = await waitFor('siteOption15', 10_000, () => amt()?.siteOption15, () => log);
    assert.deepEqual(site.map((s) => s.value), ['sales.contoso.com']);
  } finally {
    sock.close();
    agent.kill('SIGTERM');
    await Promise.all([sim.close(), stranger.close()]);
  }
  assert.equal(await exited, 0, `serve exits 0 on SIGTERM; log:\n${log.slice(-4000)}`);
  const final = amt();
  assert.equal(final?.hello?.count, 2, 'the counts survive shutdown in the status file');
  assert.equal(final?.probe?.httpServerHeader, '11.8.50.3425');
  rmSync(dir, { recursive: true });
});
