import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadResources, requireValid } from '../../../src/api/load.ts';
import { handleDatagram } from '../../../src/agent/dhcp.ts';
import type { DhcpDeps } from '../../../src/agent/dhcp.ts';
import { createAgentMetrics } from '../../../src/observability/metrics.ts';
import { encodePacket, decodePacket, MessageType } from '../../../src/protocol/dhcp/index.ts';
import { FileStore, readMachinesFile } from '../../../src/store/file.ts';
import { labYaml, notPxe, request, withArch, withType } from '../../support/dhcp.ts';
import { Registry } from 'prom-client';

function setup(yaml = labYaml('proxy')) {
  const dir = mkdtempSync(join(tmpdir(), 'netboot-agent-'));
  const store = new FileStore(requireValid(loadResources([{ file: 'lab.yaml', text: yaml }])), dir);
  const metrics = createAgentMetrics(new Registry());
  const deps: DhcpDeps = { store, iface: { name: 'eth0', address: '10.9.0.3', serverAddress: '10.9.0.3' }, ports: { dhcp: 67, pxe: 4011 }, node: 'n1', log: pino({ level: 'silent' }), metrics, now: () => Date.parse('2026-11-23T10:00:00Z') };
  return { dir, store, deps, metrics, done: async () => { await store.close(); rmSync(dir, { recursive: true }); } };
}
const from = { address: '0.0.0.0', port: 68 };

test('malformed and truncated packets are dropped with a reason, counted, and never throw', async () => {
  const t = setup();
  try {
    const good = encodePacket(request());
    const inputs = [new Uint8Array(0), good.subarray(0, 100), Uint8Array.from(good, (b, i) => (i === 236 ? 0 : b)), Uint8Array.from(good, (b, i) => (i === 241 ? 200 : b))];
    for (const bytes of inputs) {
      const r = await handleDatagram(t.deps, 'dhcp', bytes, from);
      assert.equal(r.reply, undefined);
      assert.equal(typeof r.reason, 'string');
    }
    const metric = await t.metrics.dhcpPackets.get();
    assert.equal(metric.values.find((v) => v.labels.result === 'malformed')?.value, 4);
  } finally { await t.done(); }
});

test('a PXE DISCOVER from an unknown machine (unknownMachines: boot) is discovered, answered and recorded', async () => {
  const t = setup();
  try {
    const r = await handleDatagram(t.deps, 'dhcp', encodePacket(request(withArch(7))), from);
    assert.ok(r.reply !== undefined, r.reason);
    const offer = decodePacket(r.reply);
    assert.equal(offer.yiaddr, '0.0.0.0');
    assert.equal(offer.file, 'ipxe.efi');
    await t.store.flush();
    const [m] = readMachinesFile(t.dir);
    assert.equal(m?.spec.mac, '52:54:00:12:34:56');
    assert.equal(m?.status?.boot?.phase, 'Offered');
    assert.deepEqual(m?.status?.boot?.history?.map((h) => h.event), ['Discover', 'ProxyOffer']);
    assert.equal(m?.status?.boot?.firmware?.arch, 'uefi-x64');
  } finally { await t.done(); }
});

test('a non-PXE DISCOVER is not answered and creates nothing', async () => {
  const t = setup();
  try {
    const r = await handleDatagram(t.deps, 'dhcp', encodePacket(request(notPxe())), from);
    assert.equal(r.reply, undefined);
    assert.match(r.reason ?? '', /not a PXE client/);
    assert.equal(t.store.plan().machines.size, 0);
  } finally { await t.done(); }
});

test('dhcp mode persists the lease before answering', async () => {
  const t = setup(labYaml('dhcp'));
  try {
    const r = await handleDatagram(t.deps, 'dhcp', encodePacket(request(withType(MessageType.Discover))), from);
    assert.ok(r.reply !== undefined, r.reason);
    assert.equal(decodePacket(r.reply).yiaddr, '10.9.0.100');
    assert.deepEqual(t.store.leases().map((l) => l.ip), ['10.9.0.100']);
    const reopened = new FileStore(requireValid(loadResources([{ file: 'lab.yaml', text: labYaml('dhcp') }])), t.dir);
    assert.deepEqual(reopened.leases().map((l) => l.ip), ['10.9.0.100'], 'the lease is on disk');
  } finally { await t.done(); }
});

test('dhcp mode: an agent standing by (another agent serves the network) does not answer on port 67, and counts why', async () => {
  const t = setup(labYaml('dhcp'));
  try {
    let standby: string | undefined = 'standby: the agent on node n0 answers DHCP for this network';
    const deps = { ...t.deps, store: Object.assign(t.store, { dhcpStandby: () => standby }) };
    const r = await handleDatagram(deps, 'dhcp', encodePacket(request(withType(MessageType.Discover))), from);
    assert.equal(r.reply, undefined);
    assert.equal(r.reason, standby);
    assert.deepEqual(t.store.leases(), [], 'no address was leased');
    const counted = (await t.metrics.dhcpPackets.get()).values.find((v) => v.labels['result'] === 'standby');
    assert.equal(counted?.value, 1);
    standby = undefined;
    const served = await handleDatagram(deps, 'dhcp', encodePacket(request(withType(MessageType.Discover))), from);
    assert.ok(served.reply !== undefined, served.reason);
  } finally { await t.done(); }
});

test('proxy modes never stand by: dhcpStandby is only asked in mode dhcp', async () => {
  const t = setup(labYaml('proxy'));
  try {
    const store = Object.assign(t.store, { dhcpStandby: (): string | undefined => { throw new Error('asked in proxy mode'); } });
    const r = await handleDatagram({ ...t.deps, store }, 'dhcp', encodePacket(request()), from);
    assert.ok(r.reply !== undefined, r.reason);
  } finally { await t.done(); }
});
