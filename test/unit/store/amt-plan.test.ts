/**
 * What the plan carries for AMT short leases (the controller's suffix
 * verdict per machine, the shortening policies' remediation), that the two
 * digests agree on it, and that the kube store reads both (AmtNetworkPolicies
 * through their own informer, not waited for) and writes AMT facts in
 * status.boot. Fakes as in kube-store.test.ts; the real API server path of
 * status.boot is in test/kube/agent-store.test.ts.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadResources, requireValid } from '../../../src/api/load.ts';
import type { AmtNetworkPolicy } from '../../../src/api/v1alpha1/amtnetworkpolicy.ts';
import type { BootMachine } from '../../../src/api/v1alpha1/bootmachine.ts';
import type { BootNetwork } from '../../../src/api/v1alpha1/bootnetwork.ts';
import type { BootProfile } from '../../../src/api/v1alpha1/bootprofile.ts';
import type { MachineClass } from '../../../src/api/v1alpha1/machineclass.ts';
import { planDigest } from '../../../src/boot/plan-digest.ts';
import { compilePlan } from '../../../src/boot/plan.ts';
import type { BootPlan } from '../../../src/boot/plan.ts';
import type { ListWatchSource } from '../../../src/kube/informer.ts';
import type { RawObject } from '../../../src/store/kube-api.ts';
import { PlanDigester } from '../../../src/store/kube-digest.ts';
import { parseMachine, samePlanFacts } from '../../../src/store/kube-plan.ts';
import { openKubeStore } from '../../../src/store/kube.ts';
import { FakeClock } from '../../support/fake-clock.ts';
import { amtFleetYaml, labYaml } from '../../support/dhcp.ts';
import { FakeApi, FakeNamespace, captureLogger } from './fake-kube.ts';

const dirs: string[] = [];
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

const MAC = '52:54:00:00:00:01';
const resourcesYaml = (mode: 'proxy' | 'dhcp', shorten = true) => labYaml(mode, `${amtFleetYaml(`{dnsSuffix: contoso.com, remediation: {shortenLease: ${shorten}, shortLeaseSeconds: 120}}`)}---
apiVersion: netboot.dev/v1alpha1
kind: AmtNetworkPolicy
metadata: {name: unused}
spec: {remediation: {shortenLease: true}}
---
apiVersion: netboot.dev/v1alpha1
kind: BootMachine
metadata: {name: 52-54-00-00-00-01}
spec: {mac: "${MAC}"}
`);

function sources(yaml: string) {
  const resources = requireValid(loadResources([{ file: 'lab.yaml', text: yaml }]));
  const of = <T>(kind: string) => resources.filter((r) => r.kind === kind).map((r) => r.object as T);
  return { network: of<BootNetwork>('BootNetwork')[0] as BootNetwork, profiles: of<BootProfile>('BootProfile'), classes: of<MachineClass>('MachineClass'), machines: of<BootMachine>('BootMachine'), amtPolicies: of<AmtNetworkPolicy>('AmtNetworkPolicy') };
}
const withAmt = (m: BootMachine, amt: Record<string, unknown>): BootMachine => ({ ...m, status: { amt } } as BootMachine);

test('the plan carries the mismatch verdict and the shortening policies a class names, in mode dhcp only', () => {
  const s = sources(resourcesYaml('dhcp'));
  const machine = s.machines[0] as BootMachine;
  const cases: { name: string; plan: BootPlan; verdict: 'Mismatch' | undefined; policies: [string, number][] | undefined }[] = [
    { name: 'no verdict yet', plan: compilePlan(s, 1), verdict: undefined, policies: [['fleet', 120]] },
    { name: 'Mismatch', plan: compilePlan({ ...s, machines: [withAmt(machine, { suffixMatch: 'Mismatch', provisioningState: 'pre' })] }, 1), verdict: 'Mismatch', policies: [['fleet', 120]] },
    { name: 'Match', plan: compilePlan({ ...s, machines: [withAmt(machine, { suffixMatch: 'Match' })] }, 1), verdict: undefined, policies: [['fleet', 120]] },
    { name: 'Mismatch but provisioned', plan: compilePlan({ ...s, machines: [withAmt(machine, { suffixMatch: 'Mismatch', provisioningState: 'post' })] }, 1), verdict: undefined, policies: [['fleet', 120]] },
    { name: 'policy does not shorten', plan: compilePlan(sources(resourcesYaml('dhcp', false)), 1), verdict: undefined, policies: undefined },
    { name: 'proxy mode', plan: compilePlan(sources(resourcesYaml('proxy')), 1), verdict: undefined, policies: undefined },
  ];
  for (const c of cases) {
    assert.equal(c.plan.machines.get(MAC)?.amtSuffixMatch, c.verdict, c.name);
    assert.deepEqual(c.plan.amtRemediation === undefined ? undefined : [...c.plan.amtRemediation].map(([n, r]) => [n, r.shortLeaseSeconds]), c.policies, c.name);
  }
});

test('both digests agree on AMT content; a plan without shortening policies keeps the digest it had before them', () => {
  const s = sources(resourcesYaml('dhcp'));
  const machine = s.machines[0] as BootMachine;
  const plain = compilePlan({ ...s, amtPolicies: [] }, 1);
  const withPolicies = compilePlan(s, 1);
  const mismatch = compilePlan({ ...s, machines: [withAmt(machine, { suffixMatch: 'Mismatch' })] }, 1);
  const otherSeconds = compilePlan({ ...s, amtPolicies: s.amtPolicies.map((p) => ({ ...p, spec: { ...p.spec, remediation: { shortenLease: true, shortLeaseSeconds: 90 } } })) }, 1);
  const noField: BootPlan = { ...plain };
  delete (noField as { amtRemediation?: unknown }).amtRemediation;
  assert.equal(planDigest(plain), planDigest(noField));
  const digester = new PlanDigester();
  for (const p of [plain, withPolicies, mismatch, otherSeconds, plain, mismatch, mismatch]) assert.equal(digester.digest(p), planDigest(p));
  const all = new Set([plain, withPolicies, mismatch, otherSeconds].map(planDigest));
  assert.equal(all.size, 4, 'each AMT change moves the digest');
});

test('the kube store keeps the verdict when it reduces a machine, and sees it change', () => {
  const raw = (amt?: Record<string, unknown>): RawObject => ({ apiVersion: 'netboot.dev/v1alpha1', kind: 'BootMachine', metadata: { name: '52-54-00-00-00-01', namespace: 'ns' }, spec: { mac: MAC, netboot: 'allow' }, ...(amt === undefined ? {} : { status: { amt, boot: { phase: 'Offered' } } }) } as RawObject);
  const parse = (r: RawObject) => { const p = parseMachine(r); assert.ok(p.ok); return p.value; };
  const plain = parse(raw());
  const mismatch = parse(raw({ suffixMatch: 'Mismatch', provisioningState: 'in', version: { value: '11.8', source: 'rmcp' } }));
  assert.deepEqual(mismatch.status, { amt: { suffixMatch: 'Mismatch', provisioningState: 'in' } }, 'only the verdict, not the rest of status.amt or status.boot');
  assert.equal(parse(raw({ suffixMatch: 'Match' })).status, undefined);
  assert.equal(samePlanFacts(plain, mismatch), false);
  assert.equal(samePlanFacts(plain, parse(raw({ suffixMatch: 'Unknown' }))), true);
});

/** A fixed list of AmtNetworkPolicies as a source (FakeNamespace knows only the four plan kinds). */
function policySource(items: RawObject[], fail = false): ListWatchSource<RawObject> {
  return {
    resource: 'amtnetworkpolicies.netboot.dev',
    list: async () => { if (fail) throw Object.assign(new Error('HTTP-Code: 403'), { code: 403, body: JSON.stringify({ kind: 'Status', message: 'forbidden' }) }); return { items, resourceVersion: '1' }; },
    watch: (_rv, _onEvent, signal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })),
  };
}
const policyObject = { apiVersion: 'netboot.dev/v1alpha1', kind: 'AmtNetworkPolicy', metadata: { name: 'fleet', namespace: 'ns', resourceVersion: '1' }, spec: { dnsSuffix: 'contoso.com', remediation: { shortenLease: true, shortLeaseSeconds: 120 } } } as RawObject;

async function kubeSetup(policies: ListWatchSource<RawObject>) {
  const clock = new FakeClock();
  const ns = new FakeNamespace('ns');
  ns.put('bootnetworks', 'lab', { mode: 'dhcp', subnet: '10.9.0.0/24', unknownMachines: 'boot', defaultProfile: 'hello', dhcp: { pool: { start: '10.9.0.100', end: '10.9.0.101' }, router: '10.9.0.1', leaseSeconds: 600 } });
  ns.put('bootprofiles', 'hello', { ipxe: { script: '#!ipxe\necho hello\n' } });
  ns.put('machineclasses', 'vpro', { default: true, profile: 'hello', amtPolicy: 'fleet' });
  ns.put('bootmachines', '52-54-00-00-00-01', { mac: MAC, network: 'lab' });
  const api = new FakeApi(ns);
  const { log, lines } = captureLogger();
  const stateDir = mkdtempSync(join(tmpdir(), 'netboot-amt-plan-'));
  dirs.push(stateDir);
  const store = await openKubeStore({ namespace: 'ns', network: 'lab', node: 'n1', stateDir, log, clock, informer: { watchdogMs: 1e9 } }, { api, sources: { ...ns.sources(), amtPolicies: policies } });
  return { clock, ns, api, store, lines };
}

test('kube store: policies come from their informer, verdicts from the machines, AMT facts go to status.boot', async () => {
  const { clock, ns, api, store } = await kubeSetup(policySource([policyObject]));
  await clock.advance(100);
  assert.deepEqual([...(store.plan().amtRemediation ?? [])], [['fleet', { shortenLease: true, shortLeaseSeconds: 120 }]]);
  assert.equal(store.plan().machines.get(MAC)?.amtSuffixMatch, undefined);
  ns.setStatus('bootmachines', '52-54-00-00-00-01', { amt: { suffixMatch: 'Mismatch', provisioningState: 'pre' } });
  await clock.advance(100);
  assert.equal(store.plan().machines.get(MAC)?.amtSuffixMatch, 'Mismatch', 'the controller\'s verdict reaches the plan');

  const hello = { retryCount: 2, rootHashes: ['aa'.repeat(32)] };
  store.report({ mac: MAC, network: 'lab', node: 'n1', time: '2026-11-23T10:00:00Z', amt: { firstSeenAt: '2026-11-23T10:00:00Z' } });
  store.report({ mac: MAC, network: 'lab', node: 'n1', time: '2026-11-23T10:00:00Z', amt: { hello } });
  await clock.advance(1500);
  store.report({ mac: MAC, network: 'lab', node: 'n1', time: '2026-11-23T10:01:00Z', amt: { hello } });
  await clock.advance(1500);
  assert.equal(api.statusWrites.length, 2);
  assert.deepEqual(api.statusWrites[1]?.boot.amt, { firstSeenAt: '2026-11-23T10:00:00Z', hello: { at: '2026-11-23T10:01:00Z', count: 2, retryCount: 2, rootHashes: ['aa'.repeat(32)] } });
  // Written status comes back as a machine update; the verdict the controller wrote is kept beside it.
  assert.equal(store.plan().machines.get(MAC)?.amtSuffixMatch, 'Mismatch');
  // A first-seen time already recorded is no change: no write.
  store.report({ mac: MAC, network: 'lab', node: 'n1', time: '2026-11-23T10:02:00Z', amt: { firstSeenAt: '2026-11-23T10:02:00Z' } });
  await clock.advance(3000);
  assert.equal(api.statusWrites.length, 2);
  await store.close();
});

test('kube store: an agent that may not read AmtNetworkPolicies still opens and serves, without short leases', async () => {
  const { clock, store, lines } = await kubeSetup(policySource([], true));
  await clock.advance(100);
  assert.equal(store.plan().machines.size, 1);
  assert.equal(store.plan().amtRemediation, undefined);
  assert.ok(lines.some((l) => /amtnetworkpolicies/.test(JSON.stringify(l))), 'the refusal is logged');
  await store.close();
});
