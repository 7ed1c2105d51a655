/**
 * The AMT facts the agent records from DHCP, through handleDatagram and the
 * FileStore (the bytes and the status file are real; no sockets except the
 * passive UDP 68 listener's, on loopback): the option 15 of an ACK we served,
 * the domain the OS asked for, the first sighting, the short lease of a
 * mismatched machine, and option 15 overheard from a site server's OFFER.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { loadResources, requireValid } from '../../../src/api/load.ts';
import { handleDatagram } from '../../../src/agent/dhcp.ts';
import type { DhcpDeps } from '../../../src/agent/dhcp.ts';
import { handleSiteDatagram, startSiteDhcpListener } from '../../../src/agent/site-dhcp.ts';
import type { SiteDhcpDeps } from '../../../src/agent/site-dhcp.ts';
import { createAgentMetrics } from '../../../src/observability/metrics.ts';
import { MessageType, OptionCode, decodePacket, encodePacket, getOption, replyFrom, setOption } from '../../../src/protocol/dhcp/index.ts';
import type { DhcpPacket } from '../../../src/protocol/dhcp/index.ts';
import { FileStore, MACHINES_FILE, readMachinesFile } from '../../../src/store/file.ts';
import { amtFleetYaml, labYaml, notPxe, request, withRequestedIp, withServerId, withType } from '../../support/dhcp.ts';

const MAC = '52:54:00:12:34:56';
const NOW = Date.parse('2026-11-23T10:00:00Z');
const machineYaml = (extra = '') => `---
apiVersion: netboot.dev/v1alpha1
kind: BootMachine
metadata: {name: 52-54-00-12-34-56}
spec: {mac: "${MAC}"${extra}}
`;
const amtClass = amtFleetYaml('{dnsSuffix: contoso.com, remediation: {shortenLease: true, shortLeaseSeconds: 300}}');

function setup(yaml: string, state?: string) {
  const dir = mkdtempSync(join(tmpdir(), 'netboot-amt-dhcp-'));
  if (state !== undefined) writeFileSync(join(dir, MACHINES_FILE), state);
  const store = new FileStore(requireValid(loadResources([{ file: 'lab.yaml', text: yaml }])), dir);
  let now = NOW;
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (l: string) => { lines.push(JSON.parse(l) as Record<string, unknown>); } });
  const deps: DhcpDeps = { store, iface: { name: 'eth0', address: '10.9.0.3', serverAddress: '10.9.0.3' }, ports: { dhcp: 67, pxe: 4011 }, node: 'n1', log, metrics: createAgentMetrics(new Registry()), now: () => now };
  return {
    dir, store, deps, lines,
    advance: (ms: number) => { now += ms; },
    amt: async () => { await store.flush(); return readMachinesFile(dir).find((m) => m.spec.mac === MAC)?.status?.boot?.amt; },
    done: async () => { await store.close(); rmSync(dir, { recursive: true }); },
  };
}
const from0 = { address: '0.0.0.0', port: 68 };

test('mode dhcp: each ACK records the option 15 served, a repeat within the hour is folded, and firstSeenAt stays', async () => {
  const t = setup(labYaml('dhcp', machineYaml()));
  try {
    const r = await handleDatagram(t.deps, 'dhcp', encodePacket(request(withType(MessageType.Request), withRequestedIp('10.9.0.100'))), from0);
    assert.ok(r.reply !== undefined, r.reason);
    const ack = decodePacket(r.reply);
    assert.equal(getOption(ack.options, OptionCode.MessageType), MessageType.Ack);
    assert.equal(getOption(ack.options, OptionCode.DomainName), 'lab.example.com');
    assert.deepEqual(await t.amt(), { firstSeenAt: '2026-11-23T10:00:00Z', servedOption15: [{ value: 'lab.example.com', at: '2026-11-23T10:00:00Z' }] });
    t.advance(300_000);
    await handleDatagram(t.deps, 'dhcp', encodePacket(request(withType(MessageType.Request), withRequestedIp('10.9.0.100'))), from0);
    t.advance(3_600_000);
    await handleDatagram(t.deps, 'dhcp', encodePacket(request(withType(MessageType.Request), withRequestedIp('10.9.0.100'))), from0);
    assert.deepEqual(await t.amt(), {
      firstSeenAt: '2026-11-23T10:00:00Z',
      servedOption15: [{ value: 'lab.example.com', at: '2026-11-23T10:00:00Z' }, { value: 'lab.example.com', at: '2026-11-23T11:05:00Z' }],
    });
  } finally { await t.done(); }
});

test('an OFFER, a DISCOVER, or a machine without a BootMachine records no option 15', async () => {
  const t = setup(labYaml('dhcp', machineYaml()).replace('unknownMachines: boot', 'unknownMachines: ignore'));
  try {
    const r = await handleDatagram(t.deps, 'dhcp', encodePacket(request()), from0);
    assert.equal(getOption(decodePacket(r.reply ?? new Uint8Array()).options, OptionCode.MessageType), MessageType.Offer);
    assert.deepEqual(await t.amt(), { firstSeenAt: '2026-11-23T10:00:00Z' });
    const other = request(withType(MessageType.Request), withRequestedIp('10.9.0.101'));
    other.chaddr = Uint8Array.of(0x52, 0x54, 0, 0, 0, 9);
    await handleDatagram(t.deps, 'dhcp', encodePacket(other), from0);
    await t.store.flush();
    assert.deepEqual(readMachinesFile(t.dir).map((m) => m.spec.mac), [MAC], 'no record for an unknown MAC');
  } finally { await t.done(); }
});

test('proxy mode: the OS\'s DHCPREQUEST is not answered, but its option 81 domain is recorded without touching the boot history', async () => {
  const t = setup(labYaml('proxy', machineYaml()));
  try {
    await handleDatagram(t.deps, 'dhcp', encodePacket(request()), from0);
    const osRequest = request(notPxe(), withType(MessageType.Request), withServerId('10.9.0.1'), (p: DhcpPacket) => setOption(p.options, OptionCode.ClientFqdn, { flags: 0x05, rcode1: 0, rcode2: 0, name: 'ws01.Sales.Contoso.com.' }));
    t.advance(60_000);
    const r = await handleDatagram(t.deps, 'dhcp', encodePacket(osRequest), from0);
    assert.equal(r.reply, undefined);
    await t.store.flush();
    const boot = readMachinesFile(t.dir)[0]?.status?.boot;
    assert.equal(boot?.amt?.osRequestedDomain, 'sales.contoso.com');
    assert.equal(boot?.amt?.firstSeenAt, '2026-11-23T10:00:00Z');
    assert.deepEqual(boot?.history?.map((h) => h.event), ['Discover', 'ProxyOffer']);
    assert.equal(boot?.lastSeen, '2026-11-23T10:00:00Z');
  } finally { await t.done(); }
});

/** A state file whose machine carries the controller's verdict, as a cluster would show it. */
const mismatchState = (suffixMatch: string, provisioningState = 'pre') => `apiVersion: netboot.dev/v1alpha1
kind: BootMachine
metadata: {name: 52-54-00-12-34-56}
spec: {mac: "${MAC}"}
status: {amt: {suffixMatch: ${suffixMatch}, provisioningState: ${provisioningState}}}
`;

test('mode dhcp: a mismatched machine of a class whose policy shortens leases gets the short lease; others the network\'s', async () => {
  const cases: { name: string; yaml: string; state?: string; want: number }[] = [
    { name: 'Mismatch + shortenLease', yaml: labYaml('dhcp', machineYaml() + amtClass), state: mismatchState('Mismatch'), want: 300 },
    { name: 'Match', yaml: labYaml('dhcp', machineYaml() + amtClass), state: mismatchState('Match'), want: 600 },
    { name: 'already provisioned', yaml: labYaml('dhcp', machineYaml() + amtClass), state: mismatchState('Mismatch', 'post'), want: 600 },
    { name: 'policy without shortenLease', yaml: labYaml('dhcp', machineYaml() + amtClass.replace('shortenLease: true', 'shortenLease: false')), state: mismatchState('Mismatch'), want: 600 },
    { name: 'class without amtPolicy', yaml: labYaml('dhcp', machineYaml() + amtClass.replace(', amtPolicy: fleet', '')), state: mismatchState('Mismatch'), want: 600 },
  ];
  for (const c of cases) {
    const t = setup(c.yaml, c.state);
    try {
      const r = await handleDatagram(t.deps, 'dhcp', encodePacket(request(withType(MessageType.Request), withRequestedIp('10.9.0.100'))), from0);
      assert.ok(r.reply !== undefined, `${c.name}: ${r.reason ?? ''}`);
      assert.equal(getOption(decodePacket(r.reply).options, OptionCode.LeaseTime), c.want, c.name);
      assert.equal(t.store.leases()[0]?.expiresAt, NOW + c.want * 1000, `${c.name}: the lease table agrees`);
      if (c.want === 300) assert.match(r.decision?.note?.detail ?? '', /short lease 300 s/);
    } finally { await t.done(); }
  }
});

/** A site DHCP server's reply to the machine, as bytes. */
function siteOffer(opts: { type?: number; server?: string; yiaddr?: string; domain?: string } = {}): Uint8Array {
  const r = replyFrom(request());
  r.yiaddr = opts.yiaddr ?? '10.9.0.77';
  setOption(r.options, OptionCode.MessageType, opts.type ?? MessageType.Offer);
  setOption(r.options, OptionCode.ServerIdentifier, opts.server ?? '10.9.0.1');
  if (opts.domain !== undefined) setOption(r.options, OptionCode.DomainName, opts.domain);
  return encodePacket(r);
}

test('proxy mode: the passive listener on the DHCP client port records option 15 from a site OFFER and drops what is not a site lease (loopback)', async () => {
  const t = setup(labYaml('proxy', machineYaml()));
  const addresses: [string, string][] = [];
  const deps: SiteDhcpDeps = { store: t.store, iface: { name: 'lo', address: '127.0.0.1', serverAddress: '127.0.0.1' }, port: 0, node: 'n1', log: t.deps.log, now: t.deps.now, onClientAddress: (a, m) => addresses.push([a, m]) };
  const listener = await startSiteDhcpListener(deps);
  assert.ok(listener !== undefined);
  const sender = createSocket('udp4');
  try {
    await new Promise<void>((r) => sender.bind(0, '127.0.0.1', r));
    const send = (bytes: Uint8Array) => new Promise<void>((r) => sender.send(bytes, listener.port, '127.0.0.1', () => r()));
    await send(Uint8Array.of(1, 2, 3));
    await send(siteOffer({ server: '127.0.0.1', domain: 'ours.example' }));
    await send(siteOffer({ yiaddr: '0.0.0.0' }));
    await send(siteOffer({ domain: 'contoso.com' }));
    const deadline = Date.now() + 3000;
    let amt;
    while (Date.now() < deadline) {
      amt = await t.amt();
      if (amt !== undefined) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(amt, { siteOption15: [{ value: 'contoso.com', at: '2026-11-23T10:00:00Z' }] });
    const drops = t.lines.filter((l) => l['code'] === 'NB5021').map((l) => String(l['reason']));
    assert.equal(drops.length, 3, drops.join('\n'));
    assert.match(drops[0] ?? '', /^malformed/);
    assert.match(drops[1] ?? '', /our own reply/);
    assert.match(drops[2] ?? '', /yiaddr 0\.0\.0\.0/);
    assert.deepEqual(addresses, [], 'an OFFER binds no address yet');
    // The ACK: its address becomes one the agent has seen on the segment.
    const r = handleSiteDatagram(deps, siteOffer({ type: MessageType.Ack, domain: 'contoso.com' }), { address: '10.9.0.1', port: 67 });
    assert.equal(r.lease?.type, 'ack');
    assert.deepEqual(addresses, [['10.9.0.77', MAC]]);
    const unknown = replyFrom(request());
    unknown.chaddr = Uint8Array.of(0x52, 0x54, 0, 0, 0, 9);
    unknown.yiaddr = '10.9.0.78';
    setOption(unknown.options, OptionCode.MessageType, MessageType.Ack);
    assert.match(handleSiteDatagram(deps, encodePacket(unknown), { address: '10.9.0.1', port: 67 }).reason ?? '', /has no BootMachine/);
  } finally {
    sender.close();
    await listener.close();
    await t.done();
  }
});

test('the passive listener never binds what another socket holds exclusively: it logs NB5020 and the agent goes on', async () => {
  const t = setup(labYaml('proxy', machineYaml()));
  const holder = createSocket({ type: 'udp4', reuseAddr: false });
  try {
    await new Promise<void>((r) => holder.bind({ port: 0, address: '127.0.0.1', exclusive: true }, r));
    const deps: SiteDhcpDeps = { store: t.store, iface: { name: 'lo', address: '127.0.0.1', serverAddress: '127.0.0.1' }, port: holder.address().port, node: 'n1', log: t.deps.log, now: t.deps.now };
    assert.equal(await startSiteDhcpListener(deps), undefined);
    assert.ok(t.lines.some((l) => l['code'] === 'NB5020'));
  } finally {
    holder.close();
    await t.done();
  }
});
