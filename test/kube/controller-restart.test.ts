/**
 * The controller through a kube-apiserver restart (etcd keeps its data):
 * the process survives the outage, a change made just before the restart is
 * not lost, and a change made after it is reconciled. The controller runs
 * with leader election at the default timings, so an outage longer than the
 * renew deadline also takes it through losing and retaking the lease.
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
const NS = 'restart';

before(async () => {
  cluster = await startCluster();
  await installCrds(cluster);
  await cluster.kubectl(['create', 'namespace', NS]);
});
after(async () => { await cluster?.stop(); });

const machine = (mac: string, labels = '{}') => `
apiVersion: ${GROUP}/${VERSION}
kind: BootMachine
metadata: {name: ${mac.replaceAll(':', '-')}, namespace: ${NS}, labels: ${labels}}
spec: {mac: "${mac}"}
`;

const setup = `
apiVersion: ${GROUP}/${VERSION}
kind: BootProfile
metadata: {name: linux, namespace: ${NS}}
spec: {ipxe: {chain: "http://boot.example.test/linux.ipxe"}}
---
apiVersion: ${GROUP}/${VERSION}
kind: MachineClass
metadata: {name: fallback, namespace: ${NS}}
spec: {default: true, profile: linux}
---
apiVersion: ${GROUP}/${VERSION}
kind: MachineClass
metadata: {name: rack-a, namespace: ${NS}}
spec: {priority: 5, selector: {machineLabels: {matchLabels: {rack: a}}}, profile: linux}
---
apiVersion: ${GROUP}/${VERSION}
kind: BootNetwork
metadata: {name: net, namespace: ${NS}}
spec: {mode: proxy, subnet: 10.20.0.0/16}
---
${machine('52:54:00:00:00:01')}`;

const get = (kind: string, name: string) => getJson(cluster, kind, name, NS);
const ready = (m: Json) => m.status?.observedGeneration === m.metadata.generation
  && (m.status?.conditions as { type: string; status: string }[] | undefined)?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

test('an API server restart: nothing crashes, the change made just before it is kept, the change after it is reconciled', async (t) => {
  let ctl: ControllerProcess | undefined;
  let code: number | null | undefined;
  try {
    ctl = await startController({ kubeconfig: cluster.kubeconfig, args: ['--lease-namespace', 'default', '--identity', 'restart-test'], readyLine: 'initial reconcile done' });
    await cluster.kubectl(['apply', '-f', '-'], setup);
    await waitForJson('machine 01 in the default class', () => get('bootmachine', '52-54-00-00-00-01'), (m) => ready(m) && m.status?.machineClass === 'fallback');

    // Just before the restart: a label that moves machine 01 to rack-a, and a new machine 02.
    await cluster.kubectl(['label', 'bootmachine', '52-54-00-00-00-01', '-n', NS, 'rack=a']);
    await cluster.kubectl(['apply', '-f', '-'], machine('52:54:00:00:00:02', '{rack: a}'));
    const logFrom = ctl.lines.length;
    const outage = Date.now();
    await cluster.restartApiServer();
    t.diagnostic(`API server back after ${Date.now() - outage} ms`);
    assert.equal(ctl.child.exitCode, null, 'the controller survived the outage');
    assert.equal(ctl.child.signalCode, null);

    // After the restart: a third machine.
    await cluster.kubectl(['apply', '-f', '-'], machine('52:54:00:00:00:03', '{rack: a}'));
    for (const name of ['52-54-00-00-00-01', '52-54-00-00-00-02', '52-54-00-00-00-03']) {
      await waitForJson(`${name} in rack-a`, () => get('bootmachine', name), (m) => ready(m) && m.status?.machineClass === 'rack-a', 60_000);
    }
    await waitForJson('rack-a matching 3', () => get('machineclass', 'rack-a'), (c) => c.status?.matchedMachines === 3, 60_000);
    await waitForJson('fallback matching 0', () => get('machineclass', 'fallback'), (c) => c.status?.matchedMachines === 0, 60_000);

    // The outage was seen (informers restarted) and survived; the process still serves its endpoints.
    const restarts = await ctl.metric('netboot_controller_informer_restarts_total');
    assert.ok(restarts > 0, 'the informers noticed the outage');
    assert.equal(await ctl.probe('/healthz'), 200);
    assert.equal(await ctl.probe('/readyz'), 200);
    const errors = ctl.lines.slice(logFrom).filter((l) => l.level >= 40).map((l) => `${String(l['code'])} ${l.msg}`);
    t.diagnostic(`warnings during the outage: ${errors.length}; first: ${errors[0] ?? '-'}; informer restarts: ${restarts}`);
    assert.ok(errors.every((e) => /^NB40\d\d /.test(e)), `every warning carries a catalogue code:\n${errors.join('\n')}`);
    assert.equal(ctl.lines.filter((l) => l.level >= 50).length, 0, 'no error-level lines');
  } finally {
    code = await ctl?.stop('SIGTERM');
  }
  assert.equal(code, 0, `controller exit: ${ctl?.output().slice(-3000)}`);
});
