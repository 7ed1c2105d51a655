/**
 * The agent's AMT facts against a real kube-apiserver: the CRD accepts what
 * the kube store writes in status.boot.amt (server-side apply as
 * netboot-agent), AmtNetworkPolicies reach the plan through their informer,
 * and the controller's status.amt.suffixMatch verdict reaches the plan too,
 * without either side's status writes taking the other's fields.
 *
 * No kubelet and no controller run here: the test writes status.amt itself,
 * under the controller's field manager, as the controller would.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { API_VERSION, GROUP, VERSION } from '../../src/api/v1alpha1/index.ts';
import type { AmtFactsPatch } from '../../src/boot/status.ts';
import { kubeStoreApi, kubeStoreSources, openKubeStore } from '../../src/store/kube.ts';
import { captureLogger } from '../unit/store/fake-kube.ts';
import { useKubeCluster } from './support/kube-fixture.ts';
import { until } from './support/kube-json.ts';

const kube = useKubeCluster();

const NS = 'agent-amt';
const MAC = '00:1e:67:aa:bb:cc';
const NAME = '00-1e-67-aa-bb-cc';


type Obj = { metadata: { managedFields?: { manager: string; subresource?: string; fieldsV1: Record<string, unknown> }[] }; status?: { boot?: { amt?: Record<string, unknown>; phase?: string }; amt?: Record<string, unknown> } };
const machine = async () => await kube.api.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: 'bootmachines', name: NAME }) as Obj;

test('status.boot.amt is accepted and owned by netboot-agent; policies and the controller\'s verdict reach the plan', async () => {
  await kube.cluster.kubectl(['create', 'namespace', NS]);
  await kube.cluster.kubectl(['apply', '-n', NS, '-f', '-'], `apiVersion: ${API_VERSION}
kind: BootNetwork
metadata: {name: lab}
spec:
  mode: dhcp
  subnet: 10.99.0.0/24
  unknownMachines: ignore
  ports: {dhcp: 21167, pxe: 21111, tftp: 21169, http: 21180}
  dhcp: {pool: {start: 10.99.0.100, end: 10.99.0.150}, router: 10.99.0.1, domainName: sales.contoso.com, leaseSeconds: 86400}
---
apiVersion: ${API_VERSION}
kind: BootProfile
metadata: {name: hello}
spec:
  ipxe: {script: "#!ipxe\\necho hello\\n"}
---
apiVersion: ${API_VERSION}
kind: MachineClass
metadata: {name: vpro}
spec: {default: true, profile: hello, amtPolicy: fleet}
---
apiVersion: ${API_VERSION}
kind: AmtNetworkPolicy
metadata: {name: fleet}
spec: {dnsSuffix: northwindtraders.com, remediation: {shortenLease: true, shortLeaseSeconds: 300}}
---
apiVersion: ${API_VERSION}
kind: BootMachine
metadata: {name: ${NAME}}
spec: {mac: "${MAC}", network: lab}
`);
  const { log } = captureLogger();
  const stateDir = kube.tempDir('netboot-agent-amt-');
  const store = await openKubeStore({ namespace: NS, network: 'lab', node: 'node-a', stateDir, log, signal: AbortSignal.timeout(30_000) }, { api: kubeStoreApi(kube.kc), sources: kubeStoreSources(kube.kc, NS) });
  try {
    // The policy informer is not waited for at startup; it arrives within moments.
    const remediation = await until('the policy in the plan', () => store.plan().amtRemediation?.get('fleet'));
    assert.deepEqual(remediation, { shortenLease: true, shortLeaseSeconds: 300 });

    const facts: AmtFactsPatch[] = [
      { firstSeenAt: '2026-11-23T10:00:00Z', servedOption15: 'sales.contoso.com', osRequestedDomain: 'sales.contoso.com' },
      { probe: { at: '2026-11-23T10:00:05Z', address: '10.99.0.100', httpServerHeader: '11.8.50.3425', rmcp: '11.8', provisioningState: 'pre', osAnswering: 'os', ttl: 128 } },
      { hello: { retryCount: 0, uuid: '4c4c4544-0042-3510-8052-b4c04f4d3732', rootHashes: ['ab'.repeat(48), 'cd'.repeat(32)] } },
    ];
    for (const amt of facts) store.report({ mac: MAC, network: 'lab', node: 'node-a', time: '2026-11-23T10:00:05Z', amt });
    await store.flush();
    const written = await until('status.boot.amt', async () => (await machine()).status?.boot?.amt);
    assert.deepEqual(written, {
      firstSeenAt: '2026-11-23T10:00:00Z',
      servedOption15: [{ value: 'sales.contoso.com', at: '2026-11-23T10:00:05Z' }],
      osRequestedDomain: 'sales.contoso.com',
      probe: { at: '2026-11-23T10:00:05Z', address: '10.99.0.100', httpServerHeader: '11.8.50.3425', rmcp: '11.8', provisioningState: 'pre', osAnswering: 'os', ttl: 128 },
      hello: { at: '2026-11-23T10:00:05Z', count: 1, retryCount: 0, uuid: '4c4c4544-0042-3510-8052-b4c04f4d3732', rootHashes: ['ab'.repeat(48), 'cd'.repeat(32)] },
    });
    const agentFields = (await machine()).metadata.managedFields?.find((f) => f.manager === 'netboot-agent' && f.subresource === 'status');
    assert.ok(JSON.stringify(agentFields?.fieldsV1).includes('"f:amt"'), 'netboot-agent owns status.boot.amt');

    // The controller's verdict, under its own field manager.
    await kube.api.patchNamespacedCustomObjectStatus({
      group: GROUP, version: VERSION, namespace: NS, plural: 'bootmachines', name: NAME, fieldManager: 'netboot-controller', force: true,
      body: { apiVersion: API_VERSION, kind: 'BootMachine', metadata: { name: NAME, namespace: NS }, status: { amt: { suffixMatch: 'Mismatch', provisioningState: 'pre' } } },
    }, setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply));
    await until('the verdict in the plan', () => store.plan().machines.get(MAC)?.amtSuffixMatch);

    // Another agent write keeps the controller's fields, and the count goes on from what is stored.
    store.report({ mac: MAC, network: 'lab', node: 'node-a', time: '2026-11-23T10:01:05Z', amt: { hello: { retryCount: 1, rootHashes: [] } } });
    await store.flush();
    const after = await until('hello.count 2', async () => { const m = await machine(); return (m.status?.boot?.amt?.['hello'] as { count?: number } | undefined)?.count === 2 ? m : undefined; });
    assert.deepEqual(after.status?.amt, { suffixMatch: 'Mismatch', provisioningState: 'pre' });
    assert.equal(store.plan().machines.get(MAC)?.amtSuffixMatch, 'Mismatch');
  } finally {
    await store.close();
  }
});
