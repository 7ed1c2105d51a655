/**
 * The rendered agent DaemonSet against a real kube-apiserver: apps/v1
 * validation (server-side apply with strict field validation, dry run and
 * for real), and a second apply that changes nothing, so the controller's
 * no-op check (apply-diff) does not rewrite the DaemonSet on every
 * reconcile. There is no kubelet or DaemonSet controller in this test
 * cluster, so no pod is scheduled: what runs on a node is beyond this tier.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { AppsV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { V1DaemonSet } from '@kubernetes/client-node';
import { BootNetwork } from '../../src/api/v1alpha1/bootnetwork.ts';
import { GROUP, VERSION } from '../../src/api/v1alpha1/index.ts';
import { renderAgentDaemonSet } from '../../src/controller/daemonset.ts';
import { applyWouldChange } from '../../src/kube/apply-diff.ts';
import { installCrds, startCluster } from '../support/cluster.ts';
import type { TestCluster } from '../support/cluster.ts';

let cluster: TestCluster;
let apps: AppsV1Api;
let custom: CustomObjectsApi;
const MANAGER = 'netboot-controller';
const AGENT = { image: 'ghcr.io/example/netboot:1.0.0', serviceAccountName: 'netboot-agent', priorityClassName: 'system-node-critical' };

before(async () => {
  cluster = await startCluster();
  await installCrds(cluster);
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  apps = kc.makeApiClient(AppsV1Api);
  custom = kc.makeApiClient(CustomObjectsApi);
});
after(async () => { await cluster?.stop(); });

/** Creates a BootNetwork for real and returns it as the controller's cache would (with uid and generation). */
async function createNetwork(name: string, spec: Record<string, unknown>): Promise<BootNetwork> {
  const body = { apiVersion: `${GROUP}/${VERSION}`, kind: 'BootNetwork', metadata: { name, namespace: 'default' }, spec };
  const created = await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: 'default', plural: 'bootnetworks', body });
  return BootNetwork.parse(created);
}

const apply = (ds: V1DaemonSet, dryRun: boolean) => apps.patchNamespacedDaemonSet({
  name: ds.metadata?.name ?? '', namespace: ds.metadata?.namespace ?? '', body: ds,
  fieldManager: MANAGER, force: true, fieldValidation: 'Strict', ...(dryRun ? { dryRun: 'All' } : {}),
}, setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply));

test('the DaemonSet passes apps/v1 validation with strict field checking (dry run), including a long network name', async () => {
  const lab = await createNetwork('lab', {
    mode: 'proxy', subnet: '192.168.50.0/24', nodeSelector: { 'netboot.dev/pxe': 'true' },
    tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
    ports: { dhcp: 67, pxe: 4011, tftp: 69, http: 9090 },
  });
  const long = await createNetwork(`rack-${'a'.repeat(80)}.example.lab`, { mode: 'dhcp', subnet: '10.0.0.0/24', dhcp: { pool: { start: '10.0.0.100', end: '10.0.0.200' }, router: '10.0.0.1', leaseSeconds: 3600 } });
  for (const net of [lab, long]) {
    const ds = renderAgentDaemonSet(net, AGENT);
    const stored = await apply(ds, true);
    assert.equal(stored.metadata?.name, ds.metadata?.name);
    assert.equal(stored.metadata?.ownerReferences?.[0]?.uid, net.metadata.uid);
    assert.equal(stored.spec?.template.spec?.hostNetwork, true);
    assert.deepEqual({ ...stored.spec?.template.spec?.containers[0]?.securityContext?.capabilities }, { drop: ['ALL'], add: ['NET_BIND_SERVICE'] });
    assert.equal(stored.spec?.template.spec?.containers[0]?.readinessProbe?.httpGet?.port, net.spec.ports.http);
    // A dry run stores nothing.
    await assert.rejects(apps.readNamespacedDaemonSet({ name: ds.metadata?.name ?? '', namespace: 'default' }), /404|not found/i);
  }
});

test('applied for real, a second apply of the same rendering changes nothing (no write per reconcile)', async () => {
  const net = await createNetwork('steady', { mode: 'proxy-colocated', subnet: '192.168.60.0/24' });
  const ds = renderAgentDaemonSet(net, AGENT);
  const first = await apply(ds, false);
  assert.equal(first.metadata?.generation, 1);
  const current = await apps.readNamespacedDaemonSet({ name: ds.metadata?.name ?? '', namespace: 'default' });
  // What the controller's no-op check decides from the cached object: server defaults must not look like drift.
  assert.equal(applyWouldChange(current as never, ds as unknown as Record<string, unknown>, MANAGER), false);
  const second = await apply(ds, false);
  assert.equal(second.metadata?.generation, 1);
  assert.equal(second.metadata?.resourceVersion, first.metadata?.resourceVersion);
  // A real change (the HTTP port) is seen as one.
  const moved = renderAgentDaemonSet({ ...net, spec: { ...net.spec, ports: { ...net.spec.ports, http: 8181 } } }, AGENT);
  assert.equal(applyWouldChange(current as never, moved as unknown as Record<string, unknown>, MANAGER), true);
});

test('an invalid field is refused by the server, so the dry run above could fail', async () => {
  const net = await createNetwork('broken', { mode: 'proxy', subnet: '192.168.70.0/24' });
  const ds = renderAgentDaemonSet(net, AGENT);
  const bad = structuredClone(ds);
  (bad.spec!.template.spec! as unknown as Record<string, unknown>)['dnsPolicy'] = 'ClusterFirstWithHostNetwork';
  await assert.rejects(apply(bad, true), /dnsPolicy|Unsupported value/);
  const unknown = structuredClone(ds) as unknown as { spec: { template: { spec: Record<string, unknown> } } };
  unknown.spec.template.spec['hostNetworking'] = true;
  await assert.rejects(apply(unknown as unknown as V1DaemonSet, true), /hostNetworking: field not declared in schema/);
});
