/**
 * The controller benchmark's own arithmetic (scripts/bench/lib/kube-*.ts):
 * it judges the controller, so it must itself be right. Its inventory is
 * valid for the CRD schemas and splits the machines between the classes as
 * the report says; writes are attributed by resource with Leases, the API
 * server's own housekeeping and the benchmark's one class write kept apart;
 * the busiest second is found, and a late /metrics answer cannot inflate it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BootMachine } from '../../../src/api/v1alpha1/bootmachine.ts';
import { BootNetwork } from '../../../src/api/v1alpha1/bootnetwork.ts';
import { BootProfile } from '../../../src/api/v1alpha1/bootprofile.ts';
import { MachineClass } from '../../../src/api/v1alpha1/machineclass.ts';
import { resolveClass } from '../../../src/boot/match.ts';
import { CLASSES, DEFAULT_CLASS, PROFILES, bootMachine, bootNetwork, bootProfile, className, classSpec, machineClass, machineMac } from '../../../scripts/bench/lib/kube-fixtures.ts';
import { requestCounts, writesBetween, writesByKey } from '../../../scripts/bench/lib/kube-metrics.ts';
import { WriteTimeline, peakPerSecond } from '../../../scripts/bench/lib/kube-sampling.ts';
import type { KubeHttp } from '../../../scripts/bench/lib/kube.ts';

const PER_GROUP = 200;
const MACHINES = CLASSES * PER_GROUP;

test('the inventory passes the schemas the CRDs are generated from', () => {
  assert.equal(BootNetwork.safeParse(bootNetwork('ns', { dhcp: 10067, pxe: 14011, tftp: 10069, http: 18080 })).success, true);
  for (const p of PROFILES) assert.equal(BootProfile.safeParse(bootProfile('ns', p)).success, true, p);
  for (let i = 0; i < CLASSES; i++) {
    const r = MachineClass.safeParse(machineClass('ns', className(i), classSpec(i)));
    assert.equal(r.success, true, `${className(i)}: ${r.success ? '' : r.error.message}`);
  }
  for (const i of [0, 1, 199, 200, 5_001, MACHINES - 1]) {
    const r = BootMachine.safeParse(bootMachine('ns', i, PER_GROUP));
    assert.equal(r.success, true, `machine ${i}: ${r.success ? '' : r.error.message}`);
  }
});

test('MACs are distinct and every class resolves exactly its group of 200 machines; the default class takes group 0', () => {
  const classes = Array.from({ length: CLASSES }, (_, i) => ({ name: className(i), spec: classSpec(i) }));
  const macs = new Set<string>();
  const count = new Map<string, number>();
  for (let i = 0; i < MACHINES; i++) {
    const m = bootMachine('ns', i, PER_GROUP);
    const spec = m.spec as { mac: string; network: string; netboot: 'allow' };
    macs.add(spec.mac);
    const r = resolveClass({ mac: spec.mac }, { name: m.metadata.name, spec, labels: m.metadata.labels ?? {} }, classes, undefined);
    assert.equal(r.kind, 'resolved');
    if (r.kind !== 'resolved') continue;
    assert.equal(r.className, className(Math.floor(i / PER_GROUP)), `machine ${i} (${spec.mac})`);
    count.set(r.className ?? '', (count.get(r.className ?? '') ?? 0) + 1);
  }
  assert.equal(macs.size, MACHINES);
  assert.equal(count.get(DEFAULT_CLASS), PER_GROUP);
  assert.deepEqual(new Set(count.values()), new Set([PER_GROUP]));
  assert.equal(machineMac(201, PER_GROUP), '02:00:01:00:01:00');
});

const METRICS = (n: number) => `# HELP apiserver_request_total Counter of apiserver requests
# TYPE apiserver_request_total counter
apiserver_request_total{code="200",component="apiserver",dry_run="",group="netboot.dev",resource="bootmachines",scope="resource",subresource="status",verb="APPLY",version="v1alpha1"} ${100 + n}
apiserver_request_total{code="200",component="apiserver",dry_run="",group="netboot.dev",resource="bootmachines",scope="namespace",subresource="",verb="LIST",version="v1alpha1"} ${5 + n}
apiserver_request_total{code="200",component="apiserver",dry_run="",group="coordination.k8s.io",resource="leases",scope="resource",subresource="",verb="PUT",version="v1"} ${7 + n}
apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="events",scope="resource",subresource="",verb="APPLY",version="v1"} ${n * 2}
apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="endpoints",scope="resource",subresource="",verb="POST",version="v1"} ${n}
apiserver_request_total{code="200",component="apiserver",dry_run="",group="netboot.dev",resource="machineclasses",scope="resource",subresource="",verb="APPLY",version="v1alpha1"} ${n}
`;

test('writes are counted by resource, reads ignored, Leases, the API server\'s own and the benchmark\'s class write kept apart', () => {
  const a = { writes: writesByKey(requestCounts(METRICS(0))) };
  const z = { writes: writesByKey(requestCounts(METRICS(3))) };
  assert.equal(a.writes.get('APPLY netboot.dev/bootmachines/status'), 100);
  assert.equal(a.writes.has('LIST netboot.dev/bootmachines'), false);
  const w = writesBetween(a, z);
  assert.deepEqual(Object.fromEntries(w.byKey), { 'APPLY netboot.dev/bootmachines/status': 3, 'APPLY core/events': 6 });
  assert.equal(w.total, 9);
  assert.equal(w.leases, 3);
  assert.deepEqual(Object.fromEntries(w.server), { 'POST core/endpoints': 3 });
  assert.equal(writesBetween(z, z).total, 0);
});

test('the busiest second is a sliding one-second window over event times', () => {
  assert.equal(peakPerSecond([]), 0);
  assert.equal(peakPerSecond([0, 100, 999, 1000, 1500, 5000]), 3);
  assert.equal(peakPerSecond([1999, 0, 400, 800, 1200, 1600]), 3); // any 3 consecutive span < 1 s, 4 do not
  assert.equal(peakPerSecond([0, 10, 20, 30, 5000]), 4);
  assert.equal(peakPerSecond([0, 10, 20, 30, 5000], 15), 2);
});

test('the peak write rate is never inflated by /metrics reads that queued up behind a slow one', () => {
  const timeline = new WriteTimeline({} as KubeHttp);
  const at = (sent: number, t: number, n: number) => timeline.samples.push({ sent, t, writes: new Map([['APPLY netboot.dev/bootmachines/status', n], ['PUT coordination.k8s.io/leases', n]]) });
  at(0, 40, 0);
  at(1000, 1040, 100);
  at(2000, 5000, 1000); // the API server took 3 s to answer
  at(5000, 5010, 1010); // queued behind it: 10 ms later, but counting since ~1 s
  const peak = timeline.peakRate(0, 10_000, (k) => !k.endsWith('/leases'));
  assert.ok(Math.abs(peak.perSecond - 910 / 4.01) < 0.01, `got ${peak.perSecond}`);
  assert.equal(timeline.peakRate(0, 1040, () => true).perSecond, 200 / 1.04);
});

test('a burst just after one sample is still counted in the peak write rate', () => {
  const timeline = new WriteTimeline({} as KubeHttp);
  const at = (sent: number, t: number, n: number) => timeline.samples.push({ sent, t, writes: new Map([['APPLY netboot.dev/bootmachines/status', n]]) });
  at(0, 5, 0);
  at(300, 305, 24); // all 24 writes landed in the first 0.3 s, too short a span on its own
  at(1300, 1305, 24);
  assert.equal(timeline.peakRate(0, 9999, () => true).perSecond, 24 / 1.305);
});
