/**
 * The status file writer of FileStore: after any sequence of changes the file
 * holds exactly what a full emission of the current state gives, a flush
 * re-emits only the machines that changed (counted with a spy on the
 * emitter, never by time), and flushes during a write are coalesced.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadResources, requireValid } from '../../../src/api/load.ts';
import { statusRows } from '../../../src/cli/status.ts';
import { emitYaml } from '../../../src/store/emit.ts';
import { emitMachinesFile, FileStore, MACHINES_FILE, readMachinesFile } from '../../../src/store/file.ts';
import type { BootObservation } from '../../../src/boot/status.ts';
import { labYaml } from '../../support/dhcp.ts';

const CLASS_AND_MACHINE = `---
apiVersion: netboot.dev/v1alpha1
kind: MachineClass
metadata: {name: uefi}
spec: {priority: 10, selector: {architectures: [uefi-x64]}, profile: hello}
---
apiVersion: netboot.dev/v1alpha1
kind: BootMachine
metadata: {name: 52-54-00-00-00-99}
spec: {mac: "52:54:00:00:00:99"}
`;

/** A store whose document emitter counts what it emitted, by machine name. */
function spiedStore(dir: string) {
  const emitted: string[] = [];
  const emitDocument = (doc: Record<string, unknown>) => {
    emitted.push((doc.metadata as { name: string }).name);
    return emitYaml(doc);
  };
  const resources = requireValid(loadResources([{ file: 'lab.yaml', text: labYaml('proxy', CLASS_AND_MACHINE, '\n  discovery: {maxMachines: 100, perMinute: 1000}') }]));
  const store = new FileStore(resources, dir, undefined, { emitDocument });
  /** Names emitted since the last call. */
  const take = () => emitted.splice(0).sort();
  return { store, take };
}

const seen = (mac: string, i: number, extra: Partial<BootObservation> = {}): BootObservation => ({
  mac, network: 'lab', node: 'n1', time: `2026-11-23T10:00:${String(i % 60).padStart(2, '0')}Z`, event: 'Discover', phase: 'Discovered', detail: `try ${i}`,
  firmware: { stage: 'pxe', arch: i % 2 === 0 ? 'bios' : 'uefi-x64' }, ...extra,
});

function assertFileIsFullEmission(dir: string, store: FileStore): void {
  assert.equal(readFileSync(join(dir, MACHINES_FILE), 'utf8'), emitMachinesFile(store.machines(), store.plan()));
}

test('a flush re-emits only the machines that changed, and the file always equals a full emission', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netboot-status-'));
  try {
    const { store, take } = spiedStore(dir);
    const [a, b, c] = ['52:54:00:00:00:03', '52:54:00:00:00:01', '52:54:00:00:00:02'];
    for (const mac of [a, b, c]) store.discover(mac, 0);
    await store.flush();
    assert.deepEqual(take(), ['52-54-00-00-00-01', '52-54-00-00-00-02', '52-54-00-00-00-03', '52-54-00-00-00-99'], 'the first flush emits everything');
    assertFileIsFullEmission(dir, store);

    store.report(seen(b, 1));
    store.report(seen(b, 2));
    await store.flush();
    assert.deepEqual(take(), ['52-54-00-00-00-01'], 'one machine changed (twice): one document re-emitted');
    assertFileIsFullEmission(dir, store);

    await store.flush();
    assert.deepEqual(take(), [], 'nothing changed: nothing emitted');

    // A new machine sorts between existing ones; a firmware change moves a machine to another class
    // (withResolution); a completed once-boot publishes a new plan. Only the touched machines are emitted.
    store.discover('52:54:00:00:00:05', 1);
    store.report(seen(a, 3));
    store.report(seen(c, 4, { event: 'ScriptFetched', phase: 'ScriptServed', completes: true }));
    await store.flush();
    assert.deepEqual(take(), ['52-54-00-00-00-02', '52-54-00-00-00-03', '52-54-00-00-00-05']);
    assertFileIsFullEmission(dir, store);
    assert.equal(readMachinesFile(dir).find((m) => m.spec.mac === a)?.status?.machineClass, 'uefi', 'resolution re-done for the changed machine');

    const rows = statusRows(readMachinesFile(dir));
    assert.deepEqual(rows.map((r) => r[0]), ['52:54:00:00:00:01', '52:54:00:00:00:02', '52:54:00:00:00:03', '52:54:00:00:00:05', '52:54:00:00:00:99'], '`netboot status` reads every machine, in name order');
    assert.equal(rows[0]?.[2], 'Discovered');
    await store.close();
  } finally { rmSync(dir, { recursive: true }); }
});

test('flushes during a write share one queued write, which writes the state current when it starts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netboot-status-'));
  try {
    const { store, take } = spiedStore(dir);
    const mac = '52:54:00:00:00:01';
    store.discover(mac, 0);
    const first = store.flush();
    take();
    store.report(seen(mac, 1));
    const second = store.flush();
    store.report(seen(mac, 2));
    const third = store.flush();
    store.report(seen(mac, 3));
    const fourth = store.flush();
    assert.equal(third, second, 'a flush while one is queued joins it');
    assert.equal(fourth, second);
    assert.notEqual(second, first);
    assert.deepEqual(take(), [], 'nothing is emitted while the first write is in flight');
    await Promise.all([first, second, third, fourth]);
    assert.deepEqual(take(), ['52-54-00-00-00-01'], 'three changes, one re-emission in the queued write');
    assertFileIsFullEmission(dir, store);
    assert.equal(readMachinesFile(dir)[0]?.status?.boot?.history?.at(-1)?.detail, 'try 3');
    await store.close();
  } finally { rmSync(dir, { recursive: true }); }
});

test('a failed write leaves the store dirty and the next flush writes it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netboot-status-'));
  try {
    const { store } = spiedStore(join(dir, 'state'));
    store.discover('52:54:00:00:00:01', 0);
    rmSync(join(dir, 'state'), { recursive: true });
    await assert.rejects(store.flush(), { code: 'ENOENT' });
    mkdirSync(join(dir, 'state'));
    await store.flush();
    assert.equal(readMachinesFile(join(dir, 'state')).length, 2);
    await store.close();
  } finally { rmSync(dir, { recursive: true }); }
});
