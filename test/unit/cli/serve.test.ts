/**
 * `netboot serve --dry-run` as a user runs it: a real process on loopback,
 * talked to with real clients (curl for HTTP and TFTP, a UDP socket for the
 * 4011 exchange), stopped with SIGTERM, then read back with `netboot status`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { MessageType, OptionCode, decodePacket, encodePacket, getOption } from '../../../src/protocol/dhcp/index.ts';
import { request, withArch, withCiaddr, withType } from '../../support/dhcp.ts';
import { REPO_ROOT } from '../../support/fixtures.ts';

const run = promisify(execFile);
const NETBOOT = join(REPO_ROOT, 'bin/netboot.js');

async function waitForHttp(url: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try { if ((await fetch(url)).ok) return; } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within ${ms} ms`);
}

test('serve --dry-run answers HTTP, TFTP and 4011 on loopback, records the boot, and exits cleanly on SIGTERM', async () => {
  const state = mkdtempSync(join(tmpdir(), 'netboot-serve-'));
  const agent = spawn(process.execPath, [NETBOOT, 'serve', '-f', join(REPO_ROOT, 'examples/quickstart'), '--dry-run', '--state', state, '--node', 'test-node'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  agent.stderr.on('data', (d: Buffer) => { log += d.toString(); });
  const exited = new Promise<number | null>((r) => agent.once('exit', (code) => r(code)));
  try {
    await waitForHttp('http://127.0.0.1:18080/healthz', 15_000);
    const script = await (await fetch('http://127.0.0.1:18080/ipxe/52:54:00:12:34:56?arch=bios')).text();
    assert.match(script, /^#!ipxe\necho NETBOOT-MARKER mac=\$\{net0\/mac\} profile=hello host=52-54-00-12-34-56/);
    assert.equal((await fetch('http://127.0.0.1:18080/ipxe/not-a-mac')).status, 400);
    assert.equal((await fetch('http://127.0.0.1:18080/boot/..%2f..%2fetc%2fpasswd')).status, 403);

    const { stdout: size } = await run('curl', ['-sS', '-o', join(state, 'nbp'), '-w', '%{size_download}', 'tftp://127.0.0.1:10069/undionly.kpxe']);
    assert.ok(Number(size) > 10_000, `TFTP delivered ${size} bytes`);
    // curl is done once it has sent its last ACK; the server records the transfer when that ACK arrives. Wait for it,
    // so the boot events below happen in this order and the status ends with the 4011 ACK.
    for (const deadline = Date.now() + 5000; !log.includes('TFTP transfer finished') && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 20));
    assert.ok(log.includes('TFTP transfer finished'), `the server did not record the transfer; log:\n${log}`);

    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const reply = new Promise<Buffer>((r) => sock.once('message', r));
    sock.send(encodePacket(request(withArch(7), withType(MessageType.Request), withCiaddr('127.0.0.1'))), 14011, '127.0.0.1');
    const ack = decodePacket(await Promise.race([reply, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no 4011 reply; agent log:\n${log}`)), 5000))]));
    sock.close();
    assert.equal(getOption(ack.options, OptionCode.MessageType), MessageType.Ack);
    assert.equal(ack.file, 'ipxe.efi');
    assert.equal(ack.yiaddr, '0.0.0.0');
  } finally {
    agent.kill('SIGTERM');
  }
  assert.equal(await exited, 0, `serve exits 0 on SIGTERM; log:\n${log}`);
  const { stdout } = await run(process.execPath, [NETBOOT, 'status', '--state', state]);
  const lines = stdout.trim().split('\n');
  assert.match(lines[0] ?? '', /^MAC\s+CLASS\s+PHASE\s+LAST EVENT\s+WHY STOPPED$/);
  assert.match(lines[1] ?? '', /^52:54:00:12:34:56\s+everything-else\s+BootFileSent\s+\S+ PxeAck loader ipxe\.efi/);
  rmSync(state, { recursive: true });
});

test('serve reports bad input with a code and a readable message, and a usage error with exit 2', async () => {
  const bad = await run(process.execPath, [NETBOOT, 'serve', '-f', join(REPO_ROOT, 'test/fixtures/invalid/bootnetwork-proxy-with-pool.yaml')]).catch((e: { code: number; stderr: string }) => e);
  assert.equal((bad as { code: number }).code, 1);
  assert.match((bad as { stderr: string }).stderr, /NB1001 .*a proxy network must not carry a DHCP pool/);
  const usage = await run(process.execPath, [NETBOOT, 'serve']).catch((e: { code: number; stderr: string }) => e);
  assert.equal((usage as { code: number }).code, 2);
  const iface = await run(process.execPath, [NETBOOT, 'serve', '-f', join(REPO_ROOT, 'examples/quickstart'), '--interface', 'nosuch0', '--state', join(tmpdir(), 'nb-nosuch')]).catch((e: { code: number; stderr: string }) => e);
  assert.match((iface as { stderr: string }).stderr, /NB2003: interface nosuch0 does not exist/);
});
