/**
 * The generated CRDs on a real kube-apiserver: they establish, the examples
 * apply, every invalid fixture is rejected with its rule's message,
 * `kubectl explain` is useful, and status is its own subresource under SSA.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../../src/api/v1alpha1/index.ts';
import { installCrds, startCluster } from '../support/cluster.ts';
import type { TestCluster } from '../support/cluster.ts';
import { REPO_ROOT, exampleFiles, invalidFixtures } from '../support/fixtures.ts';

let cluster: TestCluster;

before(async () => {
  cluster = await startCluster();
  await installCrds(cluster);
});
after(async () => { await cluster?.stop(); });

test('every CRD is Established and listed in the netboot category', async () => {
  const { stdout } = await cluster.kubectl(['get', 'crd', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Established")].status}{"\\n"}{end}']);
  assert.deepEqual(stdout.trim().split('\n').sort(), [
    'amtnetworkpolicies.netboot.dev=True', 'bootmachines.netboot.dev=True', 'bootnetworks.netboot.dev=True',
    'bootprofiles.netboot.dev=True', 'machineclasses.netboot.dev=True',
  ]);
  const { stdout: resources } = await cluster.kubectl(['api-resources', '--categories=netboot', '-o', 'name']);
  assert.equal(resources.trim().split('\n').length, 5);
});

test('every example applies with server-side apply', async () => {
  for (const { file } of exampleFiles()) {
    await cluster.kubectl(['apply', '--server-side', '--field-manager=netboot-tests', '-f', join(REPO_ROOT, file)]);
  }
  const { stdout } = await cluster.kubectl(['get', 'netboot', '-o', 'name']);
  assert.ok(stdout.includes('bootnetwork.netboot.dev/lab'), stdout);
  assert.ok(stdout.includes('bootmachine.netboot.dev/52-54-00-12-34-56'), stdout);
  const { stdout: ports } = await cluster.kubectl(['get', 'bootnetwork', 'lab', '-o', 'jsonpath={.spec.ports.tftp} {.spec.ports.http} {.spec.discovery.maxMachines}']);
  assert.equal(ports, '69 8080 1000', 'schema defaults are applied by the API server');
});

for (const fixture of invalidFixtures()) {
  test(`the API server rejects ${fixture.name}`, async () => {
    const r = await cluster.kubectlResult(['apply', '--server-side', '--dry-run=server', '--field-manager=netboot-tests', '-f', fixture.path]);
    assert.notEqual(r.code, 0, `accepted:\n${r.stdout}`);
    assert.ok(r.stderr.includes(fixture.expect), `expected "${fixture.expect}" in:\n${r.stderr}`);
  });
}

test('kubectl explain shows the field descriptions', async () => {
  const { stdout } = await cluster.kubectl(['explain', 'bootnetwork.spec']);
  const text = stdout.replace(/\s+/g, ' ');
  assert.match(text, /ProxyDHCP on UDP 67 and 4011 beside an existing DHCP server/);
  assert.match(text, /subnet <string> -required- The IPv4 prefix of the segment/);
  const { stdout: amt } = await cluster.kubectl(['explain', 'bootmachine.status.amt.window']);
  assert.match(amt, /closesAt/);
});

test('a server-side-apply status patch by netboot-controller changes status, not spec', async () => {
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  const api = kc.makeApiClient(CustomObjectsApi);
  const ref = { group: GROUP, version: VERSION, namespace: 'default', plural: 'bootnetworks', name: 'lab' };
  const before = await api.getNamespacedCustomObject(ref) as { spec: unknown; metadata: { generation: number } };
  const body = {
    apiVersion: `${GROUP}/${VERSION}`, kind: 'BootNetwork', metadata: { name: 'lab' },
    spec: { mode: 'dhcp' },
    status: { observedGeneration: before.metadata.generation, agentsReady: '0/0', conditions: [{ type: 'Ready', status: 'False', reason: 'NoAgents', message: 'no node matches', lastTransitionTime: '2026-11-23T10:00:00Z', observedGeneration: before.metadata.generation }] },
  };
  const patched = await api.patchNamespacedCustomObjectStatus({ ...ref, body, fieldManager: 'netboot-controller', force: true },
    setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply)) as { spec: unknown; status: { agentsReady: string }; metadata: { generation: number; managedFields: { manager: string; subresource?: string }[] } };
  assert.equal(patched.status.agentsReady, '0/0');
  assert.deepEqual(patched.spec, before.spec, 'the status subresource ignores spec');
  assert.equal(patched.metadata.generation, before.metadata.generation, 'a status write does not bump generation');
  assert.ok(patched.metadata.managedFields.some((m) => m.manager === 'netboot-controller' && m.subresource === 'status'));
  const { stdout } = await cluster.kubectl(['get', 'bootnetwork', 'lab']);
  assert.match(stdout, /lab\s+proxy\s+192\.168\.100\.0\/24\s+0\/0\s+False/);
});
