/**
 * The chart and the bundle against a real kube-apiserver: every render of
 * every value combination passes a server-side dry run (CRDs applied first),
 * dist/install.yaml applies for real, NOTES.txt's example applies, and the
 * RBAC does what values.yaml says, checked by impersonating the agent and
 * controller ServiceAccounts.
 *
 * The ServiceMonitor kind comes from the Prometheus Operator, which is not
 * here: the test installs a minimal CRD for monitoring.coreos.com/v1
 * ServiceMonitor (schema open) so that object is dry-run applied like the
 * others, not skipped. There is no kube-controller-manager or kubelet, so
 * the Deployment is stored but never runs.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { BootNetwork } from '../../src/api/v1alpha1/bootnetwork.ts';
import { renderAgentDaemonSet } from '../../src/controller/daemonset.ts';
import { startCluster } from '../support/cluster.ts';
import type { TestCluster } from '../support/cluster.ts';
import { REPO_ROOT } from '../support/fixtures.ts';
import { helm } from '../support/helm.ts';
import { CHART, NAMESPACE, VALUE_CASES, parseManifests, render } from './chart-support.ts';
import type { Manifest } from './chart-support.ts';

const SERVICE_MONITOR_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'servicemonitors.monitoring.coreos.com' },
  spec: {
    group: 'monitoring.coreos.com',
    names: { kind: 'ServiceMonitor', listKind: 'ServiceMonitorList', plural: 'servicemonitors', singular: 'servicemonitor' },
    scope: 'Namespaced',
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
};

const AGENT = `system:serviceaccount:${NAMESPACE}:netboot-agent`;
const CONTROLLER = `system:serviceaccount:${NAMESPACE}:netboot-operator-controller`;

let cluster: TestCluster;

const yamlStream = (objects: readonly unknown[]) => objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');

async function ensureNamespaces(manifests: readonly Manifest[]): Promise<void> {
  const wanted = new Set(manifests.flatMap((m) => (m.metadata.namespace === undefined ? [] : [m.metadata.namespace])));
  const { stdout } = await cluster.kubectl(['get', 'namespaces', '-o', 'jsonpath={.items[*].metadata.name}']);
  const have = new Set(stdout.split(' '));
  for (const ns of wanted) if (!have.has(ns)) await cluster.kubectl(['create', 'namespace', ns]);
}

/** `kubectl auth can-i` as `user`: true for "yes". */
async function canI(user: string, verb: string, resource: string, namespace: string, subresource?: string): Promise<boolean> {
  const args = ['auth', 'can-i', verb, resource, '-n', namespace, `--as=${user}`, ...(subresource === undefined ? [] : [`--subresource=${subresource}`])];
  const r = await cluster.kubectlResult(args);
  const answer = r.stdout.trim();
  assert.ok(answer === 'yes' || answer === 'no', `kubectl ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return answer === 'yes';
}

before(async () => {
  cluster = await startCluster();
  // CRDs first, as Argo CD's sync wave -1 and helm's install order do.
  const crds = render().filter((m) => m.kind === 'CustomResourceDefinition');
  assert.equal(crds.length, 5);
  await cluster.kubectl(['apply', '--server-side', '--field-manager=netboot-tests', '-f', '-'], yamlStream([...crds, SERVICE_MONITOR_CRD]));
  await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
});
after(async () => { await cluster?.stop(); });

test('every value combination renders objects the API server accepts (server-side dry run)', async () => {
  for (const c of VALUE_CASES) {
    const manifests = render(c.set);
    await ensureNamespaces(manifests);
    const r = await cluster.kubectlResult(['apply', '--server-side', '--dry-run=server', '--field-manager=helm', '-f', '-'], yamlStream(manifests));
    assert.equal(r.code, 0, `${c.name}: ${r.stderr}`);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, manifests.length, `${c.name}: one line per object:\n${r.stdout}`);
    assert.ok(lines.every((l) => l.endsWith('(server dry run)')), r.stdout);
    if (c.name === 'serviceMonitor on') assert.ok(lines.some((l) => l.startsWith('servicemonitor.monitoring.coreos.com/')), r.stdout);
    if (c.name === 'defaultNetwork on') assert.ok(lines.some((l) => l.startsWith('bootnetwork.netboot.dev/lab')), r.stdout);
  }
});

test('dist/install.yaml applies for real with kubectl apply --server-side', async () => {
  await cluster.kubectl(['apply', '--server-side', '--field-manager=kubectl', '-f', join(REPO_ROOT, 'dist/install.yaml')]);
  const { stdout } = await cluster.kubectl(['get', 'deployment,serviceaccount,pdb,service', '-n', NAMESPACE, '-o', 'name']);
  for (const name of ['deployment.apps/netboot-operator-controller', 'serviceaccount/netboot-agent', 'serviceaccount/netboot-operator-controller',
    'poddisruptionbudget.policy/netboot-operator-controller', 'service/netboot-operator-metrics']) assert.ok(stdout.includes(name), `${name} missing:\n${stdout}`);
});

test("NOTES.txt's example applies and `kubectl get bootnetworks` lists it", async () => {
  const r = helm(['install', 'netboot-operator', CHART, '--namespace', NAMESPACE, '--dry-run=client']);
  assert.equal(r.code, 0, r.stderr);
  const notes = r.stdout.slice(r.stdout.indexOf('NOTES:'));
  const example = /<<'YAML'\n([\s\S]*?)\n\s*YAML\n/.exec(notes)?.[1];
  assert.ok(example !== undefined, `no example in NOTES:\n${notes}`);
  const yaml = example.split('\n').map((l) => l.replace(/^ {2}/, '')).join('\n');
  assert.equal(parseManifests(yaml).length, 3);
  await cluster.kubectl(['apply', '--server-side', '--field-manager=netboot-tests', '-f', '-'], yaml);
  const { stdout } = await cluster.kubectl(['get', 'bootnetworks', '-n', NAMESPACE, '-o', 'name']);
  assert.match(stdout, /bootnetwork\.netboot\.dev\/lab/);
  assert.match(notes, new RegExp(`kubectl get bootnetworks -n ${NAMESPACE}`));
});

test('the agent ServiceAccount cannot read Secrets but can report boots (impersonated)', async () => {
  await cluster.kubectl(['create', 'secret', 'generic', 'provisioning', '-n', NAMESPACE, '--from-literal=pfxPassword=hunter2']);
  for (const verb of ['get', 'list', 'watch']) assert.equal(await canI(AGENT, verb, 'secrets', NAMESPACE), false, `agent can ${verb} secrets`);
  const read = await cluster.kubectlResult(['get', 'secret', 'provisioning', '-n', NAMESPACE, `--as=${AGENT}`, '-o', 'yaml']);
  assert.notEqual(read.code, 0);
  assert.match(read.stderr, /Forbidden.*cannot get resource "secrets"/);
  assert.ok(!read.stdout.includes('aHVudGVyMg'), 'the Secret value leaked');

  assert.equal(await canI(AGENT, 'patch', 'bootmachines', NAMESPACE, 'status'), true);
  assert.equal(await canI(AGENT, 'patch', 'bootnetworks', NAMESPACE, 'status'), true);
  assert.equal(await canI(AGENT, 'create', 'bootmachines', NAMESPACE), true);
  for (const kind of ['bootnetworks', 'bootprofiles', 'machineclasses', 'bootmachines', 'amtnetworkpolicies']) assert.equal(await canI(AGENT, 'watch', kind, NAMESPACE), true, kind);
  assert.equal(await canI(AGENT, 'patch', 'bootmachines', NAMESPACE), false, 'agents must not edit a machine spec');
  assert.equal(await canI(AGENT, 'delete', 'bootmachines', NAMESPACE), false);
  assert.equal(await canI(AGENT, 'patch', 'amtnetworkpolicies', NAMESPACE, 'status'), false, 'AMT policy status is the controller\'s');
  assert.equal(await canI(AGENT, 'list', 'bootmachines', 'default'), false, 'no RoleBinding in default');

  // The real requests an agent makes: create a discovered machine, then write its status.boot.
  const machine = { apiVersion: 'netboot.dev/v1alpha1', kind: 'BootMachine', metadata: { name: '52-54-00-aa-bb-cc', namespace: NAMESPACE, labels: { 'netboot.dev/discovered': 'true' } }, spec: { mac: '52:54:00:aa:bb:cc', network: 'lab', netboot: 'deny' } };
  await cluster.kubectl(['create', '-f', '-', `--as=${AGENT}`], yamlStream([machine]));
  // Server-side apply of status.boot, as the agent's kube store does it (no GET first).
  const boot = { apiVersion: 'netboot.dev/v1alpha1', kind: 'BootMachine', metadata: { name: '52-54-00-aa-bb-cc', namespace: NAMESPACE }, status: { boot: { lastSeen: '2026-01-10T12:00:00Z', network: 'lab' } } };
  await cluster.kubectl(['apply', '--server-side', '--subresource=status', '--field-manager=netboot-agent', '-f', '-', `--as=${AGENT}`], yamlStream([boot]));
  const seen = await cluster.kubectl(['get', 'bootmachine', '52-54-00-aa-bb-cc', '-n', NAMESPACE, '-o', 'jsonpath={.status.boot.lastSeen}']);
  assert.equal(seen.stdout, '2026-01-10T12:00:00Z');
  // Its own entry of BootNetwork status.agentReports (the documented departure from the list).
  const report = { apiVersion: 'netboot.dev/v1alpha1', kind: 'BootNetwork', metadata: { name: 'lab', namespace: NAMESPACE }, status: { agentReports: [{ node: 'node-1', planDigest: 'abc123', ready: true, updatedAt: '2026-01-10T12:00:00Z' }] } };
  await cluster.kubectl(['apply', '--server-side', '--subresource=status', '--field-manager=netboot-agent-node-1', '-f', '-', `--as=${AGENT}`], yamlStream([report]));
  const reports = await cluster.kubectl(['get', 'bootnetwork', 'lab', '-n', NAMESPACE, '-o', 'jsonpath={.status.agentReports[*].node}']);
  assert.equal(reports.stdout, 'node-1');
  const spec = await cluster.kubectlResult(['patch', 'bootmachine', '52-54-00-aa-bb-cc', '-n', NAMESPACE, '--type=merge', '-p', '{"spec":{"netboot":"allow"}}', `--as=${AGENT}`]);
  assert.match(spec.stderr, /Forbidden/);
});

test('the controller ServiceAccount can manage agent DaemonSets, its Lease and status, and reads no Secret by default', async () => {
  assert.equal(await canI(CONTROLLER, 'patch', 'daemonsets', NAMESPACE), true);
  assert.equal(await canI(CONTROLLER, 'delete', 'daemonsets', 'default'), true, 'DaemonSets live in each BootNetwork namespace');
  assert.equal(await canI(CONTROLLER, 'create', 'leases', NAMESPACE), true);
  assert.equal(await canI(CONTROLLER, 'update', 'leases/netboot-controller', NAMESPACE), true);
  assert.equal(await canI(CONTROLLER, 'update', 'leases/kube-scheduler', NAMESPACE), false, 'only its own Lease');
  assert.equal(await canI(CONTROLLER, 'update', 'leases', 'default'), false, 'the Lease Role is namespaced');
  assert.equal(await canI(CONTROLLER, 'patch', 'bootnetworks', 'default', 'status'), true);
  assert.equal(await canI(CONTROLLER, 'create', 'events', 'default'), true);
  assert.equal(await canI(CONTROLLER, 'get', 'secrets', NAMESPACE), false);
  assert.equal(await canI(CONTROLLER, 'list', 'configmaps', NAMESPACE), false);
  // Agent pods: listed to find stale agentReports entries, never read one by one, changed or deleted.
  assert.equal(await canI(CONTROLLER, 'list', 'pods', 'default'), true);
  for (const verb of ['get', 'watch', 'patch', 'delete']) assert.equal(await canI(CONTROLLER, verb, 'pods', NAMESPACE), false, `controller can ${verb} pods`);

  // The DaemonSet the controller really renders for the NOTES example network, applied as the controller.
  const { stdout } = await cluster.kubectl(['get', 'bootnetwork', 'lab', '-n', NAMESPACE, '-o', 'json']);
  const network = BootNetwork.parse(JSON.parse(stdout));
  const ds = renderAgentDaemonSet(network, { image: 'ghcr.io/netboot-operator/netboot:0.1.0', serviceAccountName: 'netboot-agent' });
  await cluster.kubectl(['apply', '--server-side', '--field-manager=netboot-controller', '-f', '-', `--as=${CONTROLLER}`], yamlStream([ds]));
  const sa = await cluster.kubectl(['get', 'daemonset', ds.metadata?.name ?? '', '-n', NAMESPACE, '-o', 'jsonpath={.spec.template.spec.serviceAccountName}']);
  assert.equal(sa.stdout, 'netboot-agent');
  await cluster.kubectl(['get', 'serviceaccount', 'netboot-agent', '-n', NAMESPACE]);
});

test('amtSecrets: resourceNames limit the controller to the named Secrets; a listed namespace opens all of its Secrets', async () => {
  const set = VALUE_CASES[4]?.set ?? {};
  const manifests = render(set);
  await ensureNamespaces(manifests);
  // The same field manager as the first install: an upgrade of the bundle with more values.
  await cluster.kubectl(['apply', '--server-side', '--field-manager=kubectl', '-f', '-'], yamlStream(manifests));
  assert.equal(await canI(CONTROLLER, 'get', 'secrets/amt-cert', 'lab-a'), true);
  assert.equal(await canI(CONTROLLER, 'get', 'secrets/amt-pfx', 'lab-a'), true);
  assert.equal(await canI(CONTROLLER, 'get', 'secrets/other', 'lab-a'), false);
  assert.equal(await canI(CONTROLLER, 'list', 'secrets', 'lab-a'), false);
  assert.equal(await canI(CONTROLLER, 'get', 'secrets/anything', 'amt-certs'), true);
  assert.equal(await canI(CONTROLLER, 'get', 'secrets/anything', 'lab-b'), false);
  // Agents of the extra namespaces are bound there, and read no Secret there either.
  const labAgent = 'system:serviceaccount:lab-b:netboot-agent';
  assert.equal(await canI(labAgent, 'list', 'bootnetworks', 'lab-b'), true);
  assert.equal(await canI(labAgent, 'get', 'secrets', 'lab-b'), false);
  assert.equal(await canI(labAgent, 'list', 'bootnetworks', NAMESPACE), false, 'an agent reaches only its own namespace');
});

test('deploy/argocd/argocd-cm.yaml merges into argocd-cm and installs one health check per kind', async () => {
  await cluster.kubectl(['create', 'namespace', 'argocd']);
  await cluster.kubectl(['create', 'configmap', 'argocd-cm', '-n', 'argocd', '--from-literal=url=https://argocd.example']);
  await cluster.kubectl(['patch', 'configmap', 'argocd-cm', '-n', 'argocd', '--type', 'merge', '--patch-file', join(REPO_ROOT, 'deploy/argocd/argocd-cm.yaml')]);
  const { stdout } = await cluster.kubectl(['get', 'configmap', 'argocd-cm', '-n', 'argocd', '-o', 'json']);
  const data = (JSON.parse(stdout) as { data: Record<string, string> }).data;
  assert.equal(data['url'], 'https://argocd.example', 'the patch must not replace existing settings');
  for (const kind of ['BootNetwork', 'BootProfile', 'MachineClass', 'BootMachine', 'AmtNetworkPolicy']) {
    assert.equal(data[`resource.customizations.health.netboot.dev_${kind}`], readFileSync(join(REPO_ROOT, 'deploy/argocd', kind, 'health.lua'), 'utf8'), kind);
  }
});
