/**
 * End to end: real firmware boots from our agent. For every mode x firmware a
 * fresh network-namespace lab (test/e2e/lab/lab.sh) gets `netboot serve`
 * where dnsmasq's ProxyDHCP sat in the reference setup, a QEMU guest (TCG)
 * PXE-boots, and the test asserts what a user would check: the profile's
 * iPXE script ran (its marker is on the serial console), `netboot status` and
 * bootmachines.yaml show the phases the mode implies, and in the proxy modes
 * the guest's address came from the site DHCP server, never from us.
 *
 *   bios      = SeaBIOS + QEMU's iPXE option ROM (iPXE itself does PXE)
 *   uefi      = OVMF + the iPXE EFI option ROM
 *   uefi-edk2 = OVMF's own PXE (PxeBcDxe): loads ipxe.efi over TFTP first
 *
 * Root only; fails (never skips) when a tool is missing. Lab directories of
 * failed boots are kept (paths in the failure message); NETBOOT_E2E_KEEP=1
 * keeps them all. NETBOOT_E2E_CONCURRENCY sets how many boot at once.
 */
import { before, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BootMachine } from '../../src/api/v1alpha1/bootmachine.ts';
import {
  GUEST_MAC, Lab, agentErrors, agentResources, alive, netbootStatus, requireLabPrerequisites, tail, tsharkFields, waitForMachine,
} from './support/lab.ts';
import type { Agent, Firmware, Mode } from './support/lab.ts';

/**
 * Three boots at once. Measured on the 2-core machine (QEMU TCG), the 9 boots
 * took 135 s one at a time, 69 s two, 49 s three and 38 s nine at a time; at
 * nine an EDK2 boot needs 29 s instead of 16 s to reach its script, closer to
 * the firmware's own DHCP/TFTP timers, and `npm test` runs other test files
 * beside this one. Three keeps each guest near its unloaded speed.
 */
const CONCURRENCY = Number(process.env['NETBOOT_E2E_CONCURRENCY'] ?? 3);
/** Marker deadline per boot; an unloaded EDK2 boot takes ~15 s. */
const BOOT_TIMEOUT_MS = 150_000;
/** Lab indexes 120..128 (subnets 10.213.120-128.0/24); the protocol tests use others. */
const FIRST_INDEX = 120;

const MODES: readonly Mode[] = ['proxy', 'proxy-colocated', 'dhcp'];
/** Slowest first, so the long EDK2 boots do not end up alone at the tail. */
const FIRMWARES: readonly Firmware[] = ['uefi-edk2', 'uefi', 'bios'];

/** The event subsequence each boot must leave in status.boot.history (details as regexes). */
function expectedHistory(mode: Mode, fw: Firmware, server: string): { event: string; detail?: RegExp }[] {
  const script = new RegExp(`script http://${server.replaceAll('.', '\\.')}:8080/ipxe/${GUEST_MAC}`);
  // EDK2 is firmware PXE: it gets the loader (ipxe.efi) and fetches it over TFTP on 4011's
  // say-so, then the chainloaded iPXE asks again. The iPXE ROMs (bios, uefi) identify as
  // iPXE (user class / option 175), so they get their script URL at once: no chainload.
  const loader = fw === 'uefi-edk2'
    ? [
      ...(mode === 'proxy' ? [{ event: 'ProxyOffer', detail: /^loader ipxe\.efi/ }] : []),
      ...(mode === 'dhcp' ? [{ event: 'Offer', detail: /loader ipxe\.efi/ }, { event: 'Ack', detail: /loader ipxe\.efi/ }] : []),
      { event: 'PxeAck', detail: /^loader ipxe\.efi/ },
      { event: 'TftpCompleted', detail: /^ipxe\.efi \d+ bytes/ },
    ]
    : [];
  const scriptFrom = mode === 'proxy' ? [{ event: 'ProxyOffer', detail: script }]
    : mode === 'proxy-colocated' ? [{ event: 'PxeAck', detail: script }]
      : [{ event: 'Offer', detail: script }, { event: 'Ack', detail: script }];
  return [...loader, ...scriptFrom, { event: 'ScriptFetched', detail: /^profile marker$/ }];
}

/** True when `want` occurs in `history` in order (other events may sit between). */
function isSubsequence(history: readonly { event: string; detail?: string | undefined }[], want: readonly { event: string; detail?: RegExp }[]): boolean {
  let i = 0;
  for (const h of history) {
    const w = want[i];
    if (w !== undefined && h.event === w.event && (w.detail === undefined || w.detail.test(h.detail ?? ''))) i++;
  }
  return i === want.length;
}

async function boot(t: TestContext, mode: Mode, fw: Firmware, index: number): Promise<void> {
  const lab = await Lab.up(index, `e2e-${mode}-${fw}`);
  let passed = false;
  let agent: Agent | undefined;
  let wire = '';
  const pcap = join(lab.dir, 'wire.pcap');
  // Everything a person needs to see why a boot failed, appended to every assertion message.
  const logs = () => [
    `  lab ${lab.dir} (kept): agent log ${agent?.log ?? '(not started)'}, serial ${lab.serial('pxe')}, site dnsmasq log ${join(lab.dir, 'dhcp.log')}, capture ${pcap}`,
    `  agent log (last lines):\n${agent === undefined ? '    (none)' : tail(agent.log, 15)}`,
    `  serial (last lines):\n${tail(lab.serial('pxe'), 15)}`,
    `  DHCP/TFTP on the wire:\n${wire === '' ? '    (no summary)' : wire.split('\n').map((l) => `    ${l}`).join('\n')}`,
    agent === undefined ? '' : `  bootmachines.yaml:\n${tail(join(agent.stateDir, 'bootmachines.yaml'), 60)}`,
  ].join('\n');
  const fail = (what: string): never => assert.fail(`${mode} x ${fw}: ${what}\n${logs()}`);
  const check = (ok: boolean, what: string) => { if (!ok) fail(what); };
  try {
    await lab.withGateway();
    let site: string | undefined;
    let agentHost: string;
    if (mode === 'proxy') {
      await lab.host('dhcp', 2);
      await lab.siteDhcp('dhcp');
      site = lab.ip('dhcp');
      await lab.host('server', 3);
      agentHost = 'server';
    } else if (mode === 'proxy-colocated') {
      // Site DHCP adds option 60 PXEClient; the agent sits beside it and serves 4011 only.
      await lab.host('dhcp', 2);
      await lab.siteDhcp('dhcp', { pxeclient: true });
      site = lab.ip('dhcp');
      agentHost = 'dhcp';
    } else {
      await lab.host('server', 3);
      agentHost = 'server';
    }
    await lab.capture('sw', 'wire');
    const marker = `NETBOOT-E2E-${mode}-${fw}`;
    agent = await lab.startAgent(agentHost, agentResources({ mode, net: lab.net, marker }));
    const server = agent.address;

    if (mode === 'proxy-colocated') {
      // Beside the site server, the agent must leave 67 alone: only dnsmasq listens there.
      const ss = await lab.exec(agentHost, ['ss', '-Hulnp', 'sport = :67']);
      check(ss.stdout.includes('dnsmasq') && !ss.stdout.includes('node'), `in proxy-colocated mode only the site dnsmasq may listen on UDP 67; ss shows:\n${ss.stdout}`);
    }

    const started = Date.now();
    const qemu = await lab.guest('pxe', fw);
    let line: RegExpMatchArray;
    try {
      line = await lab.waitForSerial('pxe', new RegExp(`${marker} ip=(\\d+\\.\\d+\\.\\d+\\.\\d+)`), BOOT_TIMEOUT_MS, qemu);
    } catch (err) {
      await lab.captureStop('wire').catch(() => {});
      wire = await lab.summary(pcap).catch(() => '');
      return fail(`the boot did not reach the profile's script: ${(err as Error).message}`);
    }
    const bootSeconds = (Date.now() - started) / 1000;
    const guestIp = line[1] ?? '';

    const machine = await waitForMachine(agent.stateDir, GUEST_MAC, (m) => m.status?.boot?.history?.some((h) => h.event === 'ScriptFetched') === true);
    const table = await netbootStatus(agent.stateDir);
    await lab.captureStop('wire');
    wire = await lab.summary(pcap);

    // status: the table a user reads, and the object behind it
    const row = table.split('\n').find((l) => l.startsWith(GUEST_MAC));
    check(row !== undefined && /\bScriptServed\b/.test(row) && /\bScriptFetched profile marker\b/.test(row),
      `netboot status should show ${GUEST_MAC} in phase ScriptServed, last event ScriptFetched; it printed:\n${table}`);
    check(machine !== undefined, `bootmachines.yaml has no BootMachine for ${GUEST_MAC}`);
    const boot = (machine as BootMachine).status?.boot;
    check(boot?.phase === 'ScriptServed', `status.boot.phase is ${boot?.phase}, expected ScriptServed`);
    check(boot?.completedAt !== undefined, 'status.boot.completedAt is not set although the script was served');
    check(boot?.stoppedReason === undefined, `status.boot.stoppedReason is set: ${boot?.stoppedReason}`);
    check(boot?.firmware?.arch === (fw === 'bios' ? 'bios' : 'uefi-x64'), `status.boot.firmware.arch is ${boot?.firmware?.arch}`);
    const history = boot?.history ?? [];
    const want = expectedHistory(mode, fw, server);
    check(isSubsequence(history, want),
      `status.boot.history should contain, in order: ${want.map((w) => `${w.event}${w.detail === undefined ? '' : ` ${w.detail}`}`).join(' -> ')}\n  got: ${history.map((h) => `${h.event}${h.detail === undefined ? '' : ` (${h.detail})`}`).join(' -> ')}`);
    const events = new Set(history.map((h) => h.event));
    if (mode === 'proxy-colocated') check(!events.has('ProxyOffer') && !events.has('Offer') && !events.has('Ack'), 'proxy-colocated must not answer on 67');
    if (mode !== 'dhcp') check(!events.has('Offer') && !events.has('Ack'), 'a proxy mode must never Offer/Ack an address');
    if (mode === 'dhcp') check(!events.has('ProxyOffer'), 'mode dhcp sends real OFFERs, not proxy ones');
    if (fw !== 'uefi-edk2') check(!events.has('TftpStarted') && !events.has('TftpCompleted'), `the ${fw} iPXE ROM should get its script directly, yet a TFTP transfer was recorded (chainload loop?)`);

    // which server gave the guest its address
    const acks = await tsharkFields(pcap, 'dhcp.option.dhcp == 5 && udp.srcport == 67', ['ip.src', 'dhcp.ip.your', 'dhcp.hw.mac_addr']);
    const guestAcks = acks.filter((a) => (a[2] ?? '').split(',').includes(GUEST_MAC) && a[1] !== '0.0.0.0');
    check(guestAcks.some((a) => a[1] === guestIp), `no DHCPACK on the wire gave the guest ${guestIp}: ${JSON.stringify(acks)}`);
    if (site !== undefined) {
      const last = Number(guestIp.split('.')[3]);
      check(guestIp.startsWith(`${lab.net}.`) && last >= 100 && last <= 199, `the guest's address ${guestIp} is not in the site dnsmasq range ${lab.net}.100-199`);
      const leases = readFileSync(join(lab.dir, 'dhcp.leases'), 'utf8');
      check(leases.split('\n').some((l) => l.includes(` ${GUEST_MAC} ${guestIp} `)), `the site dnsmasq did not lease ${guestIp} to ${GUEST_MAC}:\n${leases}`);
      check(guestAcks.every((a) => a[0] === site), `every address-carrying DHCPACK must come from the site server ${site}: ${JSON.stringify(guestAcks)}`);
      check(boot?.ipAddress === undefined, `a proxy agent recorded ipAddress ${boot?.ipAddress}: it must never assign one`);
      if (mode === 'proxy') {
        // Nothing from our address may configure a client: yiaddr 0 and none of options 1, 3, 6, 51.
        const unsafe = await tsharkFields(pcap, `ip.src == ${server} && dhcp && (dhcp.ip.your != 0.0.0.0 || dhcp.option.type == 1 || dhcp.option.type == 3 || dhcp.option.type == 6 || dhcp.option.type == 51)`, ['frame.number', 'dhcp.ip.your']);
        check(unsafe.length === 0, `the proxy agent sent address-assigning replies (frames ${JSON.stringify(unsafe)})`);
      }
    } else {
      const last = Number(guestIp.split('.')[3]);
      check(guestIp.startsWith(`${lab.net}.`) && last >= 150 && last <= 160, `the guest's address ${guestIp} is not from the agent's pool ${lab.net}.150-160`);
      check(boot?.ipAddress === guestIp, `status.boot.ipAddress is ${boot?.ipAddress}, the guest uses ${guestIp}`);
      check(guestAcks.every((a) => a[0] === server), `in mode dhcp every DHCPACK must come from the agent: ${JSON.stringify(guestAcks)}`);
    }

    // 4011: every boot-server request got its ACK back on the port it came from
    const pxe = await tsharkFields(pcap, 'udp.port == 4011 && dhcp', ['ip.src', 'udp.srcport', 'ip.dst', 'udp.dstport', 'dhcp.option.dhcp', 'dhcp.id']);
    const requests = pxe.filter((p) => p[3] === '4011' && (p[4] === '3' || p[4] === '8'));
    for (const r of requests) {
      check(pxe.some((p) => p[0] === server && p[1] === '4011' && p[2] === r[0] && p[3] === r[1] && p[4] === '5' && p[5] === r[5]),
        `the 4011 request from ${r[0]}:${r[1]} xid ${r[5]} got no ACK back to that port`);
    }
    if (fw === 'uefi-edk2') check(requests.some((r) => r[1] === '4011'), 'EDK2 sent no boot-server request from port 4011 (it must, without option 43 in the OFFER)');

    check(alive(agent.pid), 'the agent is no longer running');
    const errors = agentErrors(agent.log);
    check(errors.length === 0, `the agent logged errors:\n${errors.join('\n')}`);

    t.diagnostic(`${mode} x ${fw}: marker ${bootSeconds.toFixed(1)} s after QEMU started; guest ${guestIp}; 4011 requests from ports ${[...new Set(requests.map((r) => r[1]))].join(',') || '-'}; history ${history.map((h) => h.event).join(' ')}`);
    passed = true;
  } finally {
    await lab.down({ purge: passed });
    if (!passed && existsSync(lab.dir)) t.diagnostic(`lab kept: ${lab.dir}`);
  }
}

describe('PXE boots of real firmware against netboot serve (netns lab, QEMU TCG)', { concurrency: CONCURRENCY }, () => {
  before(() => requireLabPrerequisites());
  let index = FIRST_INDEX;
  for (const fw of FIRMWARES) {
    for (const mode of MODES) {
      const i = index++;
      test(`${mode} x ${fw}: the guest runs the profile's iPXE script and status shows the phases`, (t) => boot(t, mode, fw, i));
    }
  }
});
