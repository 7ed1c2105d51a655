import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadResources, requireValid } from '../../../src/api/load.ts';
import { FileStore, readMachinesFile } from '../../../src/store/file.ts';
import { HISTORY_LIMIT } from '../../../src/boot/status.ts';
import { labYaml } from '../../support/dhcp.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'netboot-store-'));
const resources = (yaml: string) => requireValid(loadResources([{ file: 'lab.yaml', text: yaml }]));
const obs = (mac: string, i: number) => ({ mac, network: 'lab', node: 'n1', time: `2026-11-23T10:00:${String(i % 60).padStart(2, '0')}Z`, event: 'Discover' as const, phase: 'Discovered' as const, detail: `try ${i}`, firmware: { stage: 'pxe' as const, arch: 'bios' as const } });

test('discovery creates a machine, capped and rate-limited per network', async () => {
  const dir = tmp();
  try {
    const store = new FileStore(resources(labYaml('proxy', '', '\n  discovery: {maxMachines: 2, perMinute: 1}')), dir);
    assert.equal(store.discover('52:54:00:00:00:01', 0), 'create');
    assert.equal(store.discover('52:54:00:00:00:01', 0), 'exists');
    assert.equal(store.discover('52:54:00:00:00:02', 1000), 'rate-limited');
    assert.equal(store.discover('52:54:00:00:00:02', 61_000), 'create');
    assert.equal(store.discover('52:54:00:00:00:03', 200_000), 'capped');
    assert.deepEqual(store.discoveryCounts, { created: 2, refused: 2 });
    assert.equal(store.plan().machines.get('52:54:00:00:00:01')?.spec.netboot, 'allow', 'unknownMachines: boot creates bootable machines');
    assert.ok(store.plan().generation > 1, 'a discovery publishes a new plan');
    await store.close();
  } finally { rmSync(dir, { recursive: true }); }
});

test('unknownMachines: discover records machines with netboot: deny', async () => {
  const dir = tmp();
  try {
    const store = new FileStore(resources(labYaml('proxy').replace('unknownMachines: boot', 'unknownMachines: discover')), dir);
    store.discover('52:54:00:00:00:01', 0);
    assert.equal(store.plan().machines.get('52:54:00:00:00:01')?.spec.netboot, 'deny');
    await store.close();
  } finally { rmSync(dir, { recursive: true }); }
});

test('status is written as BootMachine YAML, bounded, resolved, and survives a restart', async () => {
  const dir = tmp();
  try {
    const store = new FileStore(resources(labYaml('proxy')), dir);
    store.discover('52:54:00:00:00:01', 0);
    for (let i = 0; i < 50; i++) store.report(obs('52:54:00:00:00:01', i));
    await store.close();
    const [m] = readMachinesFile(dir);
    assert.equal(m?.metadata.name, '52-54-00-00-00-01');
    assert.equal(m?.status?.boot?.history?.length, HISTORY_LIMIT);
    assert.equal(m?.status?.boot?.history?.at(-1)?.detail, 'try 49');
    assert.equal(m?.status?.profile, 'hello', 'standalone resolves the profile like the controller would');
    assert.match(readFileSync(join(dir, 'bootmachines.yaml'), 'utf8'), /^kind: "BootMachine"$/m);
    const again = new FileStore(resources(labYaml('proxy')), dir);
    assert.equal(again.plan().machines.has('52:54:00:00:00:01'), true, 'discovered machines are reloaded');
    await again.saveLeases([{ mac: '52:54:00:00:00:01', ip: '10.9.0.100', expiresAt: 5 }]);
    assert.deepEqual(new FileStore(resources(labYaml('proxy')), dir).leases(), [{ mac: '52:54:00:00:00:01', ip: '10.9.0.100', expiresAt: 5 }]);
  } finally { rmSync(dir, { recursive: true }); }
});

test('the store refuses files without exactly one chosen BootNetwork', () => {
  const dir = tmp();
  try {
    assert.throws(() => new FileStore(resources(labYaml('proxy')), dir, 'other'), /BootNetwork "other" is not in the files \(found: lab\)/);
  } finally { rmSync(dir, { recursive: true }); }
});
