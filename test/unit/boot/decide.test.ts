import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classify } from '../../../src/boot/classify.ts';
import { decide, listenersFor } from '../../../src/boot/decide.ts';
import type { DecideContext, Decision } from '../../../src/boot/decide.ts';
import { proxySafetyViolation } from '../../../src/boot/reply.ts';
import type { BootPlan } from '../../../src/boot/plan.ts';
import { MessageType, OptionCode, getOption, pxeVendorOptions } from '../../../src/protocol/dhcp/index.ts';
import type { DhcpPacket } from '../../../src/protocol/dhcp/index.ts';
import { asHttpBoot, asIpxe, labYaml, notPxe, planFrom, request, withArch, withGiaddr, withMac, withRequestedIp, withServerId, withType } from '../../support/dhcp.ts';

const SERVER = '10.9.0.3';
function run(plan: BootPlan, packet: DhcpPacket, listener: 'dhcp' | 'pxe' = 'dhcp', over: Partial<DecideContext> = {}): Decision {
  const c = classify(packet);
  assert.ok(c.ok, c.ok ? '' : c.reason);
  return decide(packet, c.client, { plan, listener, serverAddress: SERVER, source: { address: '0.0.0.0', port: 68 }, leases: [], now: 1_000_000, ...over });
}
const replyOf = (d: Decision) => { assert.equal(d.kind, 'reply', d.kind === 'ignore' ? d.reason : ''); return d as Extract<Decision, { kind: 'reply' }>; };
const proxy = planFrom(labYaml('proxy'));

test('classify tells firmware PXE, iPXE and UEFI HTTP boot apart', () => {
  const table: [DhcpPacket, string, string | undefined][] = [
    [request(), 'pxe', 'bios'],
    [request(withArch(7)), 'pxe', 'uefi-x64'],
    [request(withArch(9)), 'pxe', 'uefi-x64'],
    [request(withArch(11)), 'pxe', 'uefi-arm64'],
    [request(withArch(7), asIpxe()), 'ipxe', 'uefi-x64'],
    [request(asHttpBoot(16)), 'http', 'http-x64'],
  ];
  for (const [p, stage, arch] of table) {
    const c = classify(p);
    assert.ok(c.ok);
    assert.equal(c.client.stage, stage);
    assert.equal(c.client.arch, arch);
  }
});

test('proxy OFFER: yiaddr 0.0.0.0, option 60 PXEClient, option 54, the loader per architecture, broadcast to 68', () => {
  const cases: [DhcpPacket, string, boolean][] = [
    [request(), 'undionly.kpxe', true],
    [request(withArch(7)), 'ipxe.efi', false],
    [request(withArch(11)), 'snp.efi', false],
  ];
  for (const [p, file, option43] of cases) {
    const r = replyOf(run(proxy, p));
    assert.equal(r.packet.yiaddr, '0.0.0.0');
    assert.equal(r.packet.siaddr, SERVER);
    assert.equal(r.packet.file, file);
    assert.equal(getOption(r.packet.options, OptionCode.MessageType), MessageType.Offer);
    assert.equal(getOption(r.packet.options, OptionCode.VendorClassId), 'PXEClient');
    assert.equal(getOption(r.packet.options, OptionCode.ServerIdentifier), SERVER);
    assert.equal(r.packet.options.has(OptionCode.VendorSpecific), option43, `option 43 for ${file}`);
    assert.deepEqual(r.to, { address: '255.255.255.255', port: 68 });
    assert.equal(proxySafetyViolation(r.packet), undefined);
    assert.equal(r.note.phase, 'Offered');
  }
});

test('iPXE gets its script URL, never a loader again; UEFI HTTP boot gets an http URL', () => {
  const ipxe = replyOf(run(proxy, request(withArch(7), asIpxe())));
  assert.equal(ipxe.packet.file, `http://${SERVER}:8080/ipxe/52:54:00:12:34:56?arch=uefi-x64`);
  const http = replyOf(run(proxy, request(asHttpBoot(16))));
  assert.equal(getOption(http.packet.options, OptionCode.BootFileName), `http://${SERVER}:8080/boot/ipxe.efi`);
  assert.equal(getOption(http.packet.options, OptionCode.VendorClassId), 'HTTPClient');
});

test('4011 ACK goes back to the source port it came from (iPXE 68, EDK2 4011) or to the relay', () => {
  for (const port of [68, 4011]) {
    const r = replyOf(run(proxy, request(withArch(7), withType(MessageType.Request)), 'pxe', { source: { address: '10.9.0.150', port } }));
    assert.equal(getOption(r.packet.options, OptionCode.MessageType), MessageType.Ack);
    assert.deepEqual(r.to, { address: '10.9.0.150', port });
    assert.equal(r.packet.file, 'ipxe.efi');
    assert.equal(proxySafetyViolation(r.packet), undefined);
  }
  const relayed = replyOf(run(proxy, request(withGiaddr('10.20.0.1')), 'dhcp'));
  assert.deepEqual(relayed.to, { address: '10.20.0.1', port: 67 });
});

test('do no harm: proxy modes stay silent for non-PXE clients, REQUESTs, and machines they must not boot', () => {
  const silent: [string, BootPlan, DhcpPacket, 'dhcp' | 'pxe', RegExp][] = [
    ['non-PXE DISCOVER', proxy, request(notPxe()), 'dhcp', /option 60 missing/],
    ['REQUEST for another server on 67', proxy, request(withType(MessageType.Request), withServerId('10.9.0.1')), 'dhcp', /answers only DISCOVER/],
    ['DISCOVER on 4011', proxy, request(), 'pxe', /answers REQUEST or INFORM/],
    ['colocated mode on 67', planFrom(labYaml('proxy-colocated')), request(), 'dhcp', /does not serve port 67/],
    ['unknown machine, discover', planFrom(labYaml('proxy', '', '\n  unknownMachines: discover').replace('  unknownMachines: boot\n', '')), request(), 'dhcp', /unknownMachines: discover/],
    ['denied machine', planFrom(labYaml('proxy', '---\napiVersion: netboot.dev/v1alpha1\nkind: BootMachine\nmetadata: {name: 52-54-00-12-34-56}\nspec: {mac: "52:54:00:12:34:56", netboot: deny}\n')), request(), 'dhcp', /netboot: deny/],
    ['no loader for ia32', proxy, request(withArch(6)), 'dhcp', /no first-stage loader for uefi-ia32/],
  ];
  for (const [name, plan, p, listener, reason] of silent) {
    const d = run(plan, p, listener);
    assert.equal(d.kind, 'ignore', name);
    assert.match((d as { reason: string }).reason, reason, name);
  }
  assert.deepEqual(listenersFor('proxy'), ['dhcp', 'pxe']);
  assert.deepEqual(listenersFor('proxy-colocated'), ['pxe']);
});

test('dhcp mode: OFFER from the pool with mask, router, DNS, domain, lease; ACK binds; NAK on a wrong address', () => {
  const plan = planFrom(labYaml('dhcp'));
  const offer = replyOf(run(plan, request(withArch(7))));
  assert.equal(offer.packet.yiaddr, '10.9.0.100');
  assert.equal(getOption(offer.packet.options, OptionCode.SubnetMask), '255.255.255.0');
  assert.deepEqual(getOption(offer.packet.options, OptionCode.Routers), ['10.9.0.1']);
  assert.equal(getOption(offer.packet.options, OptionCode.DomainName), 'lab.example.com');
  assert.equal(getOption(offer.packet.options, OptionCode.LeaseTime), 600);
  assert.equal(offer.packet.file, 'ipxe.efi');
  const held = offer.leases ?? [];
  const other = replyOf(run(plan, request(withMac('52:54:00:00:00:02'), notPxe()), 'dhcp', { leases: held }));
  assert.equal(other.packet.yiaddr, '10.9.0.101', 'an offered address is held for its client');
  assert.equal(other.packet.file, '', 'non-PXE clients get an address only');
  const ack = replyOf(run(plan, request(withArch(7), withType(MessageType.Request), withServerId(SERVER), withRequestedIp('10.9.0.100')), 'dhcp', { leases: held }));
  assert.equal(getOption(ack.packet.options, OptionCode.MessageType), MessageType.Ack);
  assert.equal(ack.leases?.find((l) => l.mac === '52:54:00:12:34:56')?.expiresAt, 1_000_000 + 600_000);
  const nak = replyOf(run(plan, request(withType(MessageType.Request), withServerId(SERVER), withRequestedIp('10.9.0.101')), 'dhcp', { leases: other.leases ?? [] }));
  assert.equal(getOption(nak.packet.options, OptionCode.MessageType), MessageType.Nak);
  const elsewhere = run(plan, request(withType(MessageType.Request), withServerId('10.9.0.250')));
  assert.equal(elsewhere.kind, 'ignore');
  const full = run(plan, request(withMac('52:54:00:00:00:03')), 'dhcp', { leases: other.leases ?? [] });
  assert.match((full as { reason: string }).reason, /pool 10\.9\.0\.100-10\.9\.0\.101 is exhausted/);
});

test('the 4011 ACK echoes the boot item the client asked for', () => {
  const p = request(withType(MessageType.Request), (q) => q.options.set(OptionCode.VendorSpecific, Uint8Array.of(71, 4, 0x80, 0x00, 0x00, 0x00, 255)));
  const r = replyOf(run(proxy, p, 'pxe', { source: { address: '10.9.0.150', port: 4011 } }));
  assert.deepEqual(pxeVendorOptions(r.packet)?.bootItem, { type: 0x8000, layer: 0 });
});

test('proxySafetyViolation catches an address or address options', () => {
  const p = replyOf(run(proxy, request())).packet;
  assert.equal(proxySafetyViolation({ ...p, yiaddr: '10.9.0.5' }), 'yiaddr 10.9.0.5 is not 0.0.0.0');
  const withRouter = { ...p, options: new Map(p.options).set(3, Uint8Array.of(10, 9, 0, 1)) };
  assert.equal(proxySafetyViolation(withRouter), 'option 3 is an address-assignment option');
});

test('a malformed option 43 on 4011 does not throw: the ACK simply names no boot item (found by the fuzzer)', () => {
  const p = request(withType(MessageType.Request), (q) => q.options.set(OptionCode.VendorSpecific, Uint8Array.of(71, 4, 0x80, 0x02, 0x00, 0x00, 0xa2, 0xff, 0x6d)));
  const r = replyOf(run(proxy, p, 'pxe', { source: { address: '10.9.0.150', port: 4011 } }));
  assert.equal(r.packet.options.has(OptionCode.VendorSpecific), false);
});

test('a profile menu goes to BIOS PXE ROMs as option 43 (items, prompt, us as boot server) with no boot file; EFI never sees it', () => {
  const menuPlan = planFrom(labYaml('proxy').replace('  ipxe: {script:', '  menu: {prompt: "Boot menu", timeoutSeconds: 5, items: [{label: "Install", bootServerType: 32770}, {label: "Rescue", bootServerType: 32771}]}\n  ipxe: {script:'));
  const bios = replyOf(run(menuPlan, request()));
  assert.equal(bios.packet.file, '');
  const o43 = pxeVendorOptions(bios.packet);
  assert.equal(o43?.discoveryControl, 3);
  assert.deepEqual(o43?.bootMenu, [{ type: 32770, description: 'Install' }, { type: 32771, description: 'Rescue' }]);
  assert.deepEqual(o43?.menuPrompt, { timeout: 5, prompt: 'Boot menu' });
  assert.deepEqual(o43?.bootServers, [{ type: 32770, addresses: [SERVER] }, { type: 32771, addresses: [SERVER] }]);
  const efi = replyOf(run(menuPlan, request(withArch(7))));
  assert.equal(efi.packet.options.has(OptionCode.VendorSpecific), false);
  const chosen = replyOf(run(menuPlan, request(withType(MessageType.Request), (q) => q.options.set(OptionCode.VendorSpecific, Uint8Array.of(71, 4, 0x80, 0x03, 0, 0, 255))), 'pxe', { source: { address: '10.9.0.150', port: 68 } }));
  assert.equal(chosen.packet.file, 'undionly.kpxe');
  assert.deepEqual(pxeVendorOptions(chosen.packet)?.bootItem, { type: 0x8003, layer: 0 });
});

test('a menu too big for option 43 is left out with the reason, and the boot file is sent instead', () => {
  const items = Array.from({ length: 8 }, (_, i) => `{label: "${'x'.repeat(60)}${i}", bootServerType: ${100 + i}}`).join(', ');
  const big = planFrom(labYaml('proxy').replace('  ipxe: {script:', `  menu: {prompt: "p", items: [${items}]}\n  ipxe: {script:`));
  const r = replyOf(run(big, request()));
  assert.equal(r.packet.file, 'undionly.kpxe');
  assert.equal(pxeVendorOptions(r.packet)?.discoveryControl, 8);
  assert.match(r.note.detail ?? '', /menu left out: the PXE menu does not fit in option 43/);
});
