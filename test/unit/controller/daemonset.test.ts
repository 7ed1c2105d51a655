import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agentDaemonSetName, renderAgentDaemonSet, shortenName } from '../../../src/controller/daemonset.ts';
import { AGENT, network, withSpec } from './builders.ts';

const net = network('lab',
  withSpec({
    nodeSelector: { 'netboot.dev/pxe': 'true' },
    tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
    ports: { dhcp: 67, pxe: 4011, tftp: 69, http: 9090 },
  }));
const ds = renderAgentDaemonSet(net, AGENT);
const pod = ds.spec?.template.spec;
const agent = pod?.containers.find((c) => c.name === 'agent');

test('identity: apps/v1 DaemonSet named after the network, in its namespace, owned by it', () => {
  assert.equal(ds.apiVersion, 'apps/v1');
  assert.equal(ds.kind, 'DaemonSet');
  assert.equal(ds.metadata?.name, 'netboot-agent-lab');
  assert.equal(ds.metadata?.namespace, 'lab');
  assert.deepEqual(ds.metadata?.ownerReferences, [{ apiVersion: 'netboot.dev/v1alpha1', kind: 'BootNetwork', name: 'lab', uid: 'uid-lab', controller: true, blockOwnerDeletion: true }]);
});

test('labels on the DaemonSet and pods; the selector uses only name and instance', () => {
  const labels = {
    'app.kubernetes.io/name': 'netboot-agent', 'app.kubernetes.io/instance': 'lab', 'app.kubernetes.io/managed-by': 'netboot-operator',
    'app.kubernetes.io/component': 'agent', 'netboot.dev/network': 'lab',
  };
  assert.deepEqual(ds.metadata?.labels, labels);
  assert.deepEqual(ds.spec?.template.metadata?.labels, labels);
  assert.deepEqual(ds.spec?.selector.matchLabels, { 'app.kubernetes.io/name': 'netboot-agent', 'app.kubernetes.io/instance': 'lab' });
});

test('host network with cluster DNS, rolling one node at a time', () => {
  assert.equal(pod?.hostNetwork, true);
  assert.equal(pod?.dnsPolicy, 'ClusterFirstWithHostNet');
  assert.deepEqual(ds.spec?.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } });
  assert.equal(pod?.terminationGracePeriodSeconds, 30);
  assert.equal(pod?.serviceAccountName, 'netboot-agent');
  assert.equal(pod?.automountServiceAccountToken, true);
  assert.equal(pod?.priorityClassName, undefined);
});

test('the network\'s nodeSelector and tolerations are copied', () => {
  assert.deepEqual(pod?.nodeSelector, { 'kubernetes.io/os': 'linux', 'netboot.dev/pxe': 'true' });
  assert.deepEqual(pod?.tolerations, [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }]);
  const plain = renderAgentDaemonSet(network('plain'), AGENT).spec?.template.spec;
  assert.deepEqual(plain?.nodeSelector, { 'kubernetes.io/os': 'linux' });
  assert.equal(plain?.tolerations, undefined);
});

test('least privilege: NET_BIND_SERVICE only, no NET_RAW, read-only root, seccomp, non-root 65532', () => {
  const sc = agent?.securityContext;
  assert.deepEqual(sc?.capabilities, { drop: ['ALL'], add: ['NET_BIND_SERVICE'] });
  assert.equal(sc?.readOnlyRootFilesystem, true);
  assert.deepEqual(sc?.seccompProfile, { type: 'RuntimeDefault' });
  assert.equal(sc?.runAsNonRoot, true);
  assert.equal(sc?.runAsUser, 65532);
  assert.equal(sc?.runAsGroup, 65532);
  // File capabilities need execve without no_new_privs (see the comment in daemonset.ts).
  assert.equal(sc?.allowPrivilegeEscalation, true);
  assert.deepEqual(pod?.securityContext?.seccompProfile, { type: 'RuntimeDefault' });
  for (const c of [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])]) {
    assert.ok(!(c.securityContext?.capabilities?.add ?? []).includes('NET_RAW'), `${c.name} must not get NET_RAW`);
    assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL'], c.name);
  }
});

test('the state-owner init container may chown and nothing else, and escalates nothing', () => {
  const init = pod?.initContainers?.[0];
  assert.equal(pod?.initContainers?.length, 1);
  assert.equal(init?.image, AGENT.image);
  assert.deepEqual(init?.command, ['chown', '65532:65532', '/var/lib/netboot']);
  assert.deepEqual(init?.securityContext?.capabilities, { drop: ['ALL'], add: ['CHOWN'] });
  assert.equal(init?.securityContext?.allowPrivilegeEscalation, false);
  assert.equal(init?.securityContext?.readOnlyRootFilesystem, true);
});

test('probes on the network\'s HTTP port: /readyz and /healthz', () => {
  assert.equal(agent?.readinessProbe?.httpGet?.path, '/readyz');
  assert.equal(agent?.readinessProbe?.httpGet?.port, 9090);
  assert.equal(agent?.livenessProbe?.httpGet?.path, '/healthz');
  assert.equal(agent?.livenessProbe?.httpGet?.port, 9090);
  assert.deepEqual(agent?.ports, [{ name: 'http', containerPort: 9090, protocol: 'TCP' }]);
});

test('command line, downward-API env, image', () => {
  assert.equal(agent?.image, 'ghcr.io/example/netboot:1.0.0');
  assert.equal(agent?.imagePullPolicy, undefined);
  assert.deepEqual(agent?.args, ['agent', '--network', 'lab', '--namespace', 'lab', '--node', '$(NODE_NAME)', '--state', '/var/lib/netboot']);
  assert.deepEqual(agent?.env, [
    { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'NODE_OPTIONS', value: '--max-old-space-size=320 --max-semi-space-size=16' },
  ]);
});

test('volumes: per-network hostPath state at /var/lib/netboot, emptyDir /tmp', () => {
  assert.deepEqual(pod?.volumes, [
    { name: 'state', hostPath: { path: '/var/lib/netboot/lab_lab', type: 'DirectoryOrCreate' } },
    { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
  ]);
  assert.deepEqual(agent?.volumeMounts, [{ name: 'state', mountPath: '/var/lib/netboot' }, { name: 'tmp', mountPath: '/tmp' }]);
  const custom = renderAgentDaemonSet(net, { ...AGENT, stateHostPath: '/srv/netboot/' }).spec?.template.spec?.volumes?.[0];
  assert.deepEqual(custom?.hostPath, { path: '/srv/netboot/lab_lab', type: 'DirectoryOrCreate' });
});

test('resources: defaults, or the options\' as a whole; pull policy and priority class from options', () => {
  assert.deepEqual(agent?.resources, { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } });
  const resources = { requests: { cpu: '200m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } };
  const custom = renderAgentDaemonSet(net, { ...AGENT, resources, imagePullPolicy: 'Always', priorityClassName: 'system-node-critical' }).spec?.template.spec;
  assert.deepEqual(custom?.containers[0]?.resources, resources);
  assert.equal(custom?.containers[0]?.imagePullPolicy, 'Always');
  assert.equal(custom?.initContainers?.[0]?.imagePullPolicy, 'Always');
  assert.equal(custom?.priorityClassName, 'system-node-critical');
});

test('a long network name: the DaemonSet name and label values are cut to 63 with a hash, distinct per name', () => {
  const long = `rack-${'a'.repeat(80)}.example.lab`;
  const other = `rack-${'a'.repeat(80)}.example.lab2`;
  const name = agentDaemonSetName(long);
  assert.ok(name.length <= 63, name);
  assert.match(name, /^netboot-agent-rack-a+-[0-9a-f]{8}$/);
  assert.notEqual(name, agentDaemonSetName(other));
  assert.equal(agentDaemonSetName(long), name, 'stable');
  const rendered = renderAgentDaemonSet(network(long), AGENT);
  assert.equal(rendered.metadata?.name, name);
  for (const v of Object.values(rendered.metadata?.labels ?? {})) assert.ok(v.length <= 63 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(v), v);
  // The agent still gets the full name: it looks the network up by it.
  assert.equal(rendered.spec?.template.spec?.containers[0]?.args?.[2], long);
  assert.equal(rendered.metadata?.ownerReferences?.[0]?.name, long);
});

test('shortenName trims a trailing dash or dot before the hash', () => {
  const v = `${'x'.repeat(53)}-${'y'.repeat(20)}`;
  assert.match(shortenName(v), /^x{53}-[0-9a-f]{8}$/);
  assert.equal(shortenName('short'), 'short');
  assert.equal(agentDaemonSetName('a'.repeat(49)).length, 63);
  assert.equal(agentDaemonSetName('a'.repeat(49)), `netboot-agent-${'a'.repeat(49)}`);
});

test('a network without a uid (standalone YAML) gets no owner reference rather than an invalid one', () => {
  const n = network('lab');
  const { uid: _uid, ...metadata } = n.metadata;
  assert.equal(renderAgentDaemonSet({ ...n, metadata }, AGENT).metadata?.ownerReferences, undefined);
});
