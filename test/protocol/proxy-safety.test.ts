/**
 * "Do no harm" on the wire: our agent in a proxy mode beside a site DHCP
 * server (dnsmasq), probed with hand-made packets from a scapy script
 * (support/dhcp-probe.py) in a netns lab. A ProxyDHCP that answered the wrong
 * packet, or answered with an address, router or DNS server, would break
 * someone else's network; a ProxyDHCP that crashes on garbage is a denial of
 * service. Every "we stay silent" check has a control: the site server did
 * answer the same packet, so the packet was real and was delivered.
 *
 * Root only; fails (never skips) when a tool is missing.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Lab, agentErrors, agentResources, alive, requireLabPrerequisites, tail } from '../e2e/support/lab.ts';
import type { Agent } from '../e2e/support/lab.ts';
import { describeReplies, optionIp, optionText, runProbe, step } from '../e2e/support/probe.ts';
import type { ProbeReply, ProbeResult, ProbeStep, ProbeStepResult } from '../e2e/support/probe.ts';

/** Options that configure a client's address; a ProxyDHCP reply must carry none (15: AMT learns its DNS suffix from it). */
const ADDRESS_OPTIONS = [1, 3, 6, 15, 28, 51, 58, 59];
const PROXY_INDEX = 140;
const COLOCATED_INDEX = 141;

/** A lab with a site dnsmasq on `dhcp` (.2), our agent, a probe host (.50) and a capture of the bridge. */
interface ProbeLab {
  lab: Lab;
  agent: Agent;
  site: string;
  failed: boolean;
  /** Paths and logs for assertion messages. */
  logs(result?: ProbeResult): string;
}

async function probeLab(index: number, mode: 'proxy' | 'proxy-colocated'): Promise<ProbeLab> {
  const lab = await Lab.up(index, `safety-${mode}`);
  const ctx: ProbeLab = {
    lab, agent: undefined as unknown as Agent, site: '', failed: false,
    logs: (result) => [
      `  lab ${lab.dir} (kept): agent log ${ctx.agent?.log}, site dnsmasq log ${join(lab.dir, 'dhcp.log')}, capture ${join(lab.dir, 'wire.pcap')}`,
      `  agent log (last lines):\n${ctx.agent === undefined ? '' : tail(ctx.agent.log, 12)}`,
      result === undefined ? '' : `  probe saw:\n${result.steps.map(describeReplies).join('\n')}`,
    ].join('\n'),
  };
  try {
    await lab.host('dhcp', 2);
    await lab.siteDhcp('dhcp', { pxeclient: mode === 'proxy-colocated' });
    ctx.site = lab.ip('dhcp');
    const agentHost = mode === 'proxy' ? 'server' : 'dhcp';
    if (mode === 'proxy') await lab.host('server', 3);
    await lab.host('probe', 50);
    await lab.capture('sw', 'wire');
    ctx.agent = await lab.startAgent(agentHost, agentResources({ mode, net: lab.net, marker: 'unused' }));
  } catch (err) {
    await lab.down();
    throw err;
  }
  return ctx;
}

async function closeLab(ctx: ProbeLab | undefined): Promise<void> {
  if (ctx === undefined) return;
  await ctx.lab.captureStop('wire').catch(() => {});
  await ctx.lab.down({ purge: !ctx.failed });
}

/** Runs a test body, remembering a failure so the lab is kept for inspection. */
function tracked(ctx: () => ProbeLab, body: () => Promise<void>): () => Promise<void> {
  return async () => {
    try { await body(); } catch (err) { ctx().failed = true; throw err; }
  };
}

const fromAddr = (s: ProbeStepResult, address: string) => s.replies.filter((r) => r.src === address);

/** The checks every reply of ours in a proxy mode must pass. */
function assertSafe(r: ProbeReply, agent: string, what: string, logs: string): void {
  assert.equal(r.yiaddr, '0.0.0.0', `${what}: yiaddr must be 0.0.0.0\n${logs}`);
  const bad = ADDRESS_OPTIONS.filter((c) => r.options?.[String(c)] !== undefined);
  assert.deepEqual(bad, [], `${what}: carries address options ${bad.join(', ')}\n${logs}`);
  assert.equal(optionText(r, 60), 'PXEClient', `${what}: option 60 must be PXEClient\n${logs}`);
  assert.equal(optionIp(r, 54), agent, `${what}: option 54 must be our address ${agent}\n${logs}`);
  assert.equal(r.siaddr, agent, `${what}: siaddr must be our address\n${logs}`);
  assert.equal(r.malformed, undefined, `${what}: our reply does not decode: ${r.malformed}\n${logs}`);
}

// --- malformed payloads -------------------------------------------------------------------

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A BOOTREQUEST header (236 bytes) from MAC 02:00:00:00:be:ef, then the cookie and `options` as given (raw bytes). */
function rawRequest(options: readonly number[], head: { op?: number; htype?: number; hlen?: number; cookie?: readonly number[]; file?: string } = {}): string {
  const h = new Uint8Array(236);
  h[0] = head.op ?? 1; h[1] = head.htype ?? 1; h[2] = head.hlen ?? 6;
  h.set([0xde, 0xad, 0xbe, 0xef], 4);
  h[10] = 0x80;
  h.set([0x02, 0x00, 0x00, 0x00, 0xbe, 0xef], 28);
  if (head.file !== undefined) h.set(Buffer.from(head.file, 'latin1').subarray(0, 128), 108);
  return hex(h) + hex(Uint8Array.from(head.cookie ?? [99, 130, 83, 99])) + hex(Uint8Array.from(options));
}
const opt = (code: number, ...bytes: number[]) => [code, bytes.length, ...bytes];
const text = (s: string) => [...Buffer.from(s, 'latin1')];
const PXE_VC = opt(60, ...text('PXEClient:Arch:00000:UNDI:002001'));
const DISCOVER = opt(53, 1);
const REQUEST = opt(53, 3);

/** Deterministic noise (xorshift), so a failure reproduces. */
function noise(n: number, seed: number): string {
  let x = seed;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; out[i] = x & 0xff; }
  return hex(out);
}

/** Payloads a robust server drops (or answers sanely), and must never crash on. */
function garbage(): { name: string; hex: string }[] {
  const valid = rawRequest([...DISCOVER, ...PXE_VC, ...opt(93, 0, 0), 255]);
  return [
    { name: 'empty datagram', hex: '' },
    { name: 'one byte', hex: 'ff' },
    { name: 'truncated header (100 bytes of a DISCOVER)', hex: valid.slice(0, 200) },
    { name: 'header without cookie', hex: valid.slice(0, 472) },
    { name: 'wrong magic cookie', hex: rawRequest([...DISCOVER, ...PXE_VC, 255], { cookie: [1, 2, 3, 4] }) },
    { name: 'option length past the end', hex: rawRequest([53, 200, 1]) },
    { name: 'option 53 empty', hex: rawRequest([53, 0, ...PXE_VC, 255]) },
    { name: 'option 53 type 255', hex: rawRequest([...opt(53, 255), ...PXE_VC, 255]) },
    { name: 'no end option, no padding', hex: rawRequest([...DISCOVER, ...PXE_VC]) },
    { name: 'BOOTREPLY with PXE options', hex: rawRequest([...DISCOVER, ...PXE_VC, 255], { op: 2 }) },
    { name: 'htype 6, hlen 16', hex: rawRequest([...DISCOVER, ...PXE_VC, 255], { htype: 6, hlen: 16 }) },
    { name: 'hlen 200', hex: rawRequest([...DISCOVER, ...PXE_VC, 255], { hlen: 200 }) },
    { name: 'option 93 one byte', hex: rawRequest([...DISCOVER, ...PXE_VC, ...opt(93, 7), 255]) },
    { name: 'option 93 unknown arch 0xffff', hex: rawRequest([...DISCOVER, ...PXE_VC, ...opt(93, 0xff, 0xff), 255]) },
    { name: 'option 97 three bytes', hex: rawRequest([...DISCOVER, ...PXE_VC, ...opt(97, 0, 1, 2), 255]) },
    { name: 'option 60 not UTF-8', hex: rawRequest([...DISCOVER, ...opt(60, ...text('PXEClient'), 0xff, 0xfe, 0x00), 255]) },
    { name: 'option 77 bad length fields', hex: rawRequest([...DISCOVER, ...PXE_VC, ...opt(77, 40, ...text('iPXE')), 255]) },
    { name: 'option 43 sub-option overrun', hex: rawRequest([...DISCOVER, ...PXE_VC, ...opt(43, 71, 30, 0x80, 0), 255]) },
    { name: 'option 54 five bytes', hex: rawRequest([...REQUEST, ...PXE_VC, ...opt(54, 10, 213, 0, 3, 9), 255]) },
    { name: 'option 50 three bytes', hex: rawRequest([...REQUEST, ...PXE_VC, ...opt(50, 10, 213, 0), 255]) },
    { name: 'option overload into a garbage file field', hex: rawRequest([...DISCOVER, ...PXE_VC, ...opt(52, 3), 255], { file: '\x35\xff\x01\x02' }) },
    { name: 'option overload 9', hex: rawRequest([...DISCOVER, ...PXE_VC, ...opt(52, 9), 255]) },
    { name: 'zeros (300 bytes)', hex: '00'.repeat(300) },
    { name: 'noise (1400 bytes)', hex: noise(1400, 0x2545f491) },
    { name: 'cookie then noise', hex: rawRequest([]) + noise(300, 0x1234567) },
  ];
}

// --- proxy mode ---------------------------------------------------------------------------

describe('on-the-wire safety of our ProxyDHCP (netns lab, scapy probe)', { concurrency: 2 }, () => {
  before(() => requireLabPrerequisites({ qemu: false, scapy: true }));

  describe('proxy mode beside a site DHCP server (dnsmasq)', () => {
    let ctx: ProbeLab | undefined;
    const c = () => ctx as ProbeLab;
    before(async () => { ctx = await probeLab(PROXY_INDEX, 'proxy'); });
    after(async () => { await closeLab(ctx); });

    test('(a) PXE DISCOVERs get our proxy OFFER: yiaddr 0.0.0.0, option 60 PXEClient, option 54 = us, no address options', tracked(c, async () => {
      const { agent, site } = c();
      const r = await runProbe(c().lab, 'probe', [
        { name: 'bios', arch: 0 },
        { name: 'efi-x64', arch: 7 },
        { name: 'ipxe', arch: 7, ipxe: true },
      ]);
      const logs = c().logs(r);
      for (const [name, file] of [['bios', /^undionly\.kpxe$/], ['efi-x64', /^ipxe\.efi$/], ['ipxe', new RegExp(`^http://${agent.address.replaceAll('.', '\\.')}:8080/ipxe/${r.mac}`)]] as const) {
        const s = step(r, name);
        const ours = fromAddr(s, agent.address);
        assert.equal(ours.length, 1, `${name}: expected exactly one reply from us (${agent.address})\n${logs}`);
        const offer = ours[0] as ProbeReply;
        assert.equal(offer.messageType, 2, `${name}: our reply must be an OFFER\n${logs}`);
        assert.equal(offer.sport, 67, `${name}: our OFFER must come from port 67\n${logs}`);
        assert.equal(offer.dport, 68, `${name}: our OFFER must go to port 68\n${logs}`);
        assertSafe(offer, agent.address, `${name} proxy OFFER`, logs);
        assert.match(offer.file ?? '', file, `${name}: boot file\n${logs}`);
        assert.match(optionText(offer, 67) ?? '', file, `${name}: option 67\n${logs}`);
        // control: the site server offered an address for the same DISCOVER
        assert.ok(fromAddr(s, site).some((x) => x.messageType === 2 && x.yiaddr !== '0.0.0.0'), `${name}: control failed, the site server did not OFFER\n${logs}`);
      }
    }));

    test('(b) a DISCOVER without option 60 PXEClient gets nothing from us', tracked(c, async () => {
      const { agent, site } = c();
      const r = await runProbe(c().lab, 'probe', [
        { name: 'no option 60', pxe: false },
        { name: 'option 60 MSFT 5.0', pxe: false, vendorClass: 'MSFT 5.0' },
        { name: 'option 60 udhcp', pxe: false, vendorClass: 'udhcp 1.36.1' },
        // PXE-like in every other way (options 93, 94, 97): option 60 alone decides
        { name: 'options 93/94/97 but no option 60', vendorClass: null },
        { name: 'options 93/94/97 with option 60 MSFT 5.0', vendorClass: 'MSFT 5.0' },
      ]);
      const logs = c().logs(r);
      for (const s of r.steps) {
        assert.deepEqual(fromAddr(s, agent.address), [], `${s.name}: we answered a non-PXE client\n${logs}`);
        assert.ok(fromAddr(s, site).length > 0, `${s.name}: control failed, the site server did not answer\n${logs}`);
      }
    }));

    test('(c) a DHCPREQUEST naming the site server (option 54) gets nothing from us', tracked(c, async () => {
      const { agent, site, lab } = c();
      const r = await runProbe(lab, 'probe', [
        { name: 'PXE client selects the site server', type: 'request', serverId: site, requestedIp: `${lab.net}.150` },
        { name: 'plain client selects the site server', type: 'request', pxe: false, serverId: site, requestedIp: `${lab.net}.151` },
      ]);
      const logs = c().logs(r);
      for (const s of r.steps) {
        assert.deepEqual(fromAddr(s, agent.address), [], `${s.name}: we answered a REQUEST meant for ${site}\n${logs}`);
        assert.ok(fromAddr(s, site).length > 0, `${s.name}: control failed, the site server did not answer\n${logs}`);
      }
    }));

    test('(d) a boot-server REQUEST on 4011 gets an ACK with the boot file back to its source port (68 and 4011)', tracked(c, async () => {
      const { agent } = c();
      const to = agent.address;
      const r = await runProbe(c().lab, 'probe', [
        // a BIOS PXE ROM's boot-server discovery: from 68, with the boot item it wants
        { name: 'from 68 (BIOS, boot item)', type: 'request', arch: 0, ciaddr: 'self', to, dport: 4011, sport: 68, bootItem: [0x8000, 0] },
        // EDK2: from 4011, new xid, ciaddr set
        { name: 'from 4011 (EFI x64)', type: 'request', arch: 7, ciaddr: 'self', to, dport: 4011, sport: 4011 },
        // chainloaded iPXE in proxy-colocated networks: from 68, gets its script URL
        { name: 'from 68 (iPXE)', type: 'request', arch: 7, ipxe: true, ciaddr: 'self', to, dport: 4011, sport: 68 },
      ]);
      const logs = c().logs(r);
      const cases = [
        ['from 68 (BIOS, boot item)', 68, /^undionly\.kpxe$/],
        ['from 4011 (EFI x64)', 4011, /^ipxe\.efi$/],
        ['from 68 (iPXE)', 68, new RegExp(`^http://${to.replaceAll('.', '\\.')}:8080/ipxe/${r.mac}`)],
      ] as const;
      for (const [name, port, file] of cases) {
        const s = step(r, name);
        const ours = fromAddr(s, to);
        assert.equal(ours.length, 1, `${name}: expected exactly one reply from us\n${logs}`);
        const ack = ours[0] as ProbeReply;
        assert.equal(ack.messageType, 5, `${name}: expected a DHCPACK\n${logs}`);
        assert.equal(ack.sport, 4011, `${name}: the ACK must come from port 4011\n${logs}`);
        assert.equal(ack.dst, r.ip, `${name}: the ACK must go to the requester's address\n${logs}`);
        assert.equal(ack.dport, port, `${name}: the ACK must go back to source port ${port}\n${logs}`);
        assert.equal(ack.xid, s.xid, `${name}: xid\n${logs}`);
        assertSafe(ack, to, `${name} ACK`, logs);
        assert.match(ack.file ?? '', file, `${name}: boot file\n${logs}`);
        assert.match(optionText(ack, 67) ?? '', file, `${name}: option 67\n${logs}`);
      }
      // PXE 2.1: the ACK names the boot item the ROM asked for (option 43 sub-option 71).
      const bios = fromAddr(step(r, 'from 68 (BIOS, boot item)'), to)[0] as ProbeReply;
      assert.match(bios.options?.['43'] ?? '', /4704800000/, `the BIOS ACK should echo boot item 0x8000 layer 0 in option 43.71\n${logs}`);
    }));

    test('malformed packets on 67 and 4011 do not crash the agent; it still answers a valid DISCOVER', tracked(c, async () => {
      const { agent, lab } = c();
      const to = agent.address;
      const bad = garbage();
      const steps: ProbeStep[] = [
        ...bad.map((g) => ({ name: `67 broadcast: ${g.name}`, kind: 'raw' as const, hex: g.hex, wait: 0.05 })),
        ...bad.map((g) => ({ name: `67 unicast: ${g.name}`, kind: 'raw' as const, hex: g.hex, to, wait: 0.05 })),
        ...bad.map((g) => ({ name: `4011 from 68: ${g.name}`, kind: 'raw' as const, hex: g.hex, to, dport: 4011, wait: 0.05 })),
        ...bad.map((g) => ({ name: `4011 from 4011: ${g.name}`, kind: 'raw' as const, hex: g.hex, to, dport: 4011, sport: 4011, wait: 0.05 })),
        { name: 'valid DISCOVER afterwards', arch: 0, wait: 1.5 },
        { name: 'valid 4011 REQUEST afterwards', type: 'request', arch: 7, ciaddr: 'self', to, dport: 4011, sport: 4011, wait: 1 },
      ];
      const r = await runProbe(lab, 'probe', steps);
      const logs = c().logs(r);
      assert.ok(alive(agent.pid), `the agent died on malformed input\n${logs}`);
      const offer = fromAddr(step(r, 'valid DISCOVER afterwards'), to);
      assert.equal(offer.length, 1, `no proxy OFFER for a valid DISCOVER after the malformed packets\n${logs}`);
      assertSafe(offer[0] as ProbeReply, to, 'OFFER after garbage', logs);
      const ack = fromAddr(step(r, 'valid 4011 REQUEST afterwards'), to);
      assert.equal(ack.length, 1, `no 4011 ACK after the malformed packets\n${logs}`);
      // Whatever the agent did answer during the garbage must still be safe.
      for (const s of r.steps.slice(0, -2)) for (const reply of fromAddr(s, to)) assertSafe(reply, to, `reply to "${s.name}"`, logs);
      // control: the garbage reached the agent (counted as malformed on both ports)
      const metrics = await lab.exec(agent.host, ['curl', '-sf', `http://${to}:8080/metrics`]);
      for (const port of ['67', '4011']) {
        const m = metrics.stdout.match(new RegExp(`netboot_dhcp_packets_total\\{port="${port}",type="unknown",result="malformed"\\} (\\d+)`));
        assert.ok(m !== null && Number(m[1]) >= 10, `port ${port}: the agent counted ${m?.[1] ?? 'no'} malformed packets; the garbage did not reach it?\n${metrics.stdout.split('\n').filter((l) => l.startsWith('netboot_dhcp')).join('\n')}\n${logs}`);
      }
      const errors = agentErrors(agent.log);
      assert.deepEqual(errors, [], `the agent logged errors handling malformed packets\n${logs}`);
    }));
  });

  // --- proxy-colocated mode ---------------------------------------------------------------

  describe('proxy-colocated mode beside dnsmasq --pxeclient, in the same namespace', () => {
    let ctx: ProbeLab | undefined;
    const c = () => ctx as ProbeLab;
    before(async () => { ctx = await probeLab(COLOCATED_INDEX, 'proxy-colocated'); });
    after(async () => { await closeLab(ctx); });

    test('(e) nothing from us on 67: the agent does not listen there and every OFFER is the site server\'s', tracked(c, async () => {
      const { agent, lab } = c();
      const ss = await lab.exec(agent.host, ['ss', '-Hulnp', 'sport = :67']);
      assert.ok(ss.stdout.includes('dnsmasq') && !ss.stdout.includes('node'), `only dnsmasq may listen on 67:\n${ss.stdout}`);
      const r = await runProbe(lab, 'probe', [
        { name: 'bios', arch: 0 },
        { name: 'efi-x64', arch: 7 },
        { name: 'ipxe', arch: 7, ipxe: true },
        { name: 'request naming the server', type: 'request', serverId: agent.address, requestedIp: `${lab.net}.152` },
        { name: '4011 from 68 (control: the agent is up)', type: 'request', arch: 0, ciaddr: 'self', to: agent.address, dport: 4011, sport: 68 },
      ]);
      const logs = c().logs(r);
      for (const name of ['bios', 'efi-x64', 'ipxe', 'request naming the server']) {
        const s = step(r, name);
        const on67 = s.replies.filter((x) => x.sport === 67);
        // dnsmasq answers each with exactly one address-carrying reply; a proxy OFFER (yiaddr 0) would be ours
        assert.equal(on67.length, 1, `${name}: expected exactly the site server's reply on 67\n${logs}`);
        assert.notEqual(on67[0]?.yiaddr, '0.0.0.0', `${name}: a reply on 67 with yiaddr 0.0.0.0 is a proxy OFFER: ours\n${logs}`);
        assert.ok((on67[0]?.file ?? '') === '', `${name}: a boot file on 67 would be ours (dnsmasq sends none here)\n${logs}`);
      }
      const ack = step(r, '4011 from 68 (control: the agent is up)').replies.filter((x) => x.sport === 4011);
      assert.equal(ack.length, 1, `control failed: no 4011 ACK from the agent\n${logs}`);
      assertSafe(ack[0] as ProbeReply, agent.address, '4011 ACK', logs);
      assert.equal(ack[0]?.dport, 68, `the 4011 ACK must go back to port 68\n${logs}`);
      const metrics = await lab.exec(agent.host, ['curl', '-sf', `http://${agent.address}:8080/metrics`]);
      assert.doesNotMatch(metrics.stdout, /netboot_dhcp_packets_total\{port="67"/, `the agent counted packets on 67 in proxy-colocated mode\n${logs}`);
    }));
  });
});
