/**
 * Two controller processes with leader election against the real API
 * server. The standby keeps warm caches but writes nothing; killing the
 * leader (SIGKILL, no lease release) hands over once the lease expires, and
 * the new leader reconciles a new object within 15 s of the kill; SIGTERM
 * hands over at once (the lease is released). Lease timings are shortened
 * for the test with the controller's flags (6 s / 4 s / 1 s; defaults 15/10/2).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { GROUP, VERSION } from '../../src/api/v1alpha1/index.ts';
import { installCrds, startCluster } from '../support/cluster.ts';
import type { TestCluster } from '../support/cluster.ts';
import { startController } from './support/controller-proc.ts';
import type { ControllerProcess } from './support/controller-proc.ts';
import { getJson, waitForJson } from './support/kube-json.ts';
import type { Json } from './support/kube-json.ts';

let cluster: TestCluster;
const NS = 'failover';
const LEASE_SECONDS = 6;
const TIMINGS = ['--leader-elect-lease-duration', String(LEASE_SECONDS), '--leader-elect-renew-deadline', '4', '--leader-elect-retry-period', '1'];

before(async () => {
  cluster = await startCluster();
  await installCrds(cluster);
  await cluster.kubectl(['create', 'namespace', NS]);
  await cluster.kubectl(['create', 'namespace', 'netboot-system']);
});
after(async () => { await cluster?.stop(); });

const machine = (n: number) => `
apiVersion: ${GROUP}/${VERSION}
kind: BootMachine
metadata: {name: 52-54-00-00-00-0${n}, namespace: ${NS}}
spec: {mac: "52:54:00:00:00:0${n}"}
`;

const setup = `
apiVersion: ${GROUP}/${VERSION}
kind: BootProfile
metadata: {name: linux, namespace: ${NS}}
spec: {ipxe: {chain: "http://boot.example.test/linux.ipxe"}}
---
apiVersion: ${GROUP}/${VERSION}
kind: MachineClass
metadata: {name: all, namespace: ${NS}}
spec: {default: true, profile: linux}
---
${machine(1)}`;

interface LeaseSpec { holderIdentity?: string; leaseTransitions?: number; renewTime?: string; leaseDurationSeconds?: number }
const lease = async () => (await getJson(cluster, 'lease', 'netboot-controller', 'netboot-system'))?.spec as LeaseSpec | undefined;
const resolved = (m: Json) => m.status?.machineClass === 'all' && m.status?.observedGeneration === m.metadata.generation;
const start = (id: string) => startController({ kubeconfig: cluster.kubeconfig, name: id, args: ['--identity', id, ...TIMINGS] });
/** The wall-clock times (ms) a process logged "became leader" / "stopped leading". */
const times = (p: ControllerProcess, msg: string) => p.lines.filter((l) => l.msg === msg).map((l) => Number(l['at']));

test('leader failover: the standby takes over within 15 s of a kill -9 and only one replica leads at a time', async (t) => {
  const procs: ControllerProcess[] = [];
  try {
    // The lease namespace defaults to POD_NAMESPACE, then netboot-system.
    const a = await start('ctl-a');
    procs.push(a);
    await a.waitForLog('initial reconcile done');
    const b = await start('ctl-b');
    procs.push(b);
    await b.waitForLog((l) => l.msg === 'leader observed' && l['holder'] === 'ctl-a');
    assert.equal(await b.probe('/readyz'), 200, 'a synced standby is ready');
    assert.equal(await b.metric('netboot_controller_leader'), 0);
    assert.equal(await a.metric('netboot_controller_leader'), 1);

    await cluster.kubectl(['apply', '-f', '-'], setup);
    await waitForJson('machine 1 resolved by the leader', () => getJson(cluster, 'bootmachine', '52-54-00-00-00-01', NS), resolved);
    assert.ok(await a.metric('netboot_controller_api_writes_total') > 0);
    assert.equal(await b.metric('netboot_controller_api_writes_total'), 0, 'the standby wrote nothing');
    assert.equal(await b.metric('netboot_controller_writes_refused_total'), 0, 'the standby did not even try');
    const held = await lease();
    assert.equal(held?.holderIdentity, 'ctl-a');
    assert.equal(held?.leaseDurationSeconds, LEASE_SECONDS);

    // kill -9: no release, so b waits for the lease to expire.
    const killedAt = Date.now();
    a.child.kill('SIGKILL');
    await a.exited;
    await cluster.kubectl(['apply', '-f', '-'], machine(2));
    await waitForJson('machine 2 resolved by the new leader', () => getJson(cluster, 'bootmachine', '52-54-00-00-00-02', NS), resolved, 30_000);
    const actedAfter = Date.now() - killedAt;
    const [bLeads] = times(b, 'became leader');
    assert.ok(bLeads !== undefined);
    t.diagnostic(`kill -9 → b leads after ${bLeads - killedAt} ms, reconciled a new machine after ${actedAfter} ms`);
    assert.ok(actedAfter <= 15_000, `the new leader acted ${actedAfter} ms after the kill`);
    // a's last renewal was at most at the kill; b may not lead before that lease expired.
    const renewedAt = Date.parse(held?.renewTime ?? '');
    assert.ok(bLeads >= renewedAt + LEASE_SECONDS * 1000, `b led ${renewedAt + LEASE_SECONDS * 1000 - bLeads} ms before a's lease could expire`);
    const taken = await lease();
    assert.equal(taken?.holderIdentity, 'ctl-b');
    assert.equal(taken?.leaseTransitions, (held?.leaseTransitions ?? 0) + 1);

    // SIGTERM hands over at once: b stops writing, releases the lease, exits 0; c takes it within a retry period or two.
    const c = await start('ctl-c');
    procs.push(c);
    await c.waitForLog((l) => l.msg === 'leader observed' && l['holder'] === 'ctl-b');
    const termAt = Date.now();
    assert.equal(await b.stop('SIGTERM'), 0, b.output().slice(-2000));
    const cLine = await c.waitForLog('became leader', 10_000);
    const handover = Number(cLine['at']) - termAt;
    t.diagnostic(`SIGTERM → c leads after ${handover} ms`);
    assert.ok(handover <= 3_000, `c led ${handover} ms after b's SIGTERM`);
    const [bStopped] = times(b, 'stopped leading');
    assert.ok(bStopped !== undefined && bStopped <= Number(cLine['at']), 'b stopped leading before c started');
    await cluster.kubectl(['apply', '-f', '-'], machine(3));
    await waitForJson('machine 3 resolved by c', () => getJson(cluster, 'bootmachine', '52-54-00-00-00-03', NS), resolved);

    // The whole timeline: every "became leader" comes after the previous leader stopped or died.
    const timeline = [
      ...procs.flatMap((p) => times(p, 'became leader').map((at) => ({ at, what: 'lead', who: p.name }))),
      ...procs.flatMap((p) => times(p, 'stopped leading').map((at) => ({ at, what: 'stop', who: p.name }))),
      { at: killedAt, what: 'stop', who: 'ctl-a' },
    ].sort((x, y) => x.at - y.at || (x.what === 'stop' ? -1 : 1));
    const leading = new Set<string>();
    for (const e of timeline) {
      if (e.what === 'lead') {
        assert.equal(leading.size, 0, `${e.who} leads while ${[...leading].join(',')} still leads: ${JSON.stringify(timeline)}`);
        leading.add(e.who);
      } else {
        leading.delete(e.who);
      }
    }
    assert.deepEqual(timeline.filter((e) => e.what === 'lead').map((e) => e.who), ['ctl-a', 'ctl-b', 'ctl-c']);
    assert.equal((await lease())?.holderIdentity, 'ctl-c');
  } finally {
    for (const p of procs) await p.stop('SIGKILL');
  }
});
