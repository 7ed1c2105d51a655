/**
 * A real Helm release lifecycle against a real kube-apiserver: install,
 * upgrade (turning the default BootNetwork on, then changing it), uninstall.
 * Proves what values.yaml and NOTES.txt promise: the CRDs survive
 * `helm uninstall` (helm.sh/resource-policy: keep), the default BootNetwork
 * belongs to the release, and the first install cannot create it because
 * Helm maps every object to an API before it creates the CRDs.
 *
 * The test kube-apiserver is built from Go modules without version stamping
 * (it reports v0.0.0-master), so the chart copy used here drops Chart.yaml's
 * kubeVersion constraint; chart.test.ts tests that constraint with
 * `helm template --kube-version`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster } from '../support/cluster.ts';
import type { TestCluster } from '../support/cluster.ts';
import { helm } from '../support/helm.ts';
import type { HelmResult } from '../support/helm.ts';
import { CHART, NAMESPACE } from './chart-support.ts';

let cluster: TestCluster;
let dir: string;
let chart: string;

const network = (subnet: string) => `defaultNetwork=${JSON.stringify({ enabled: true, name: 'lab', spec: { mode: 'proxy', subnet } })}`;

function run(args: readonly string[]): HelmResult {
  return helm([...args, '--kubeconfig', cluster.kubeconfig, '--namespace', NAMESPACE]);
}

before(async () => {
  cluster = await startCluster();
  dir = mkdtempSync(join(tmpdir(), 'netboot-helm-release-'));
  chart = join(dir, 'netboot-operator');
  cpSync(CHART, chart, { recursive: true });
  const meta = readFileSync(join(chart, 'Chart.yaml'), 'utf8');
  assert.match(meta, /^kubeVersion: /m);
  writeFileSync(join(chart, 'Chart.yaml'), meta.replace(/^kubeVersion: .*\n/m, ''));
});
after(async () => {
  await cluster?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

test('a first install cannot create the default BootNetwork: its CRD is not there yet', () => {
  const r = run(['install', 'netboot-operator', chart, '--create-namespace', '--set-json', network('192.168.10.0/24')]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /no matches for kind "BootNetwork" in version "netboot\.dev\/v1alpha1"/);
});

test('install, then upgrade with the default BootNetwork, then change it in place', async () => {
  const install = run(['install', 'netboot-operator', chart, '--create-namespace']);
  assert.equal(install.code, 0, install.stderr);
  assert.match(install.stdout, /STATUS: deployed/);
  assert.match(install.stdout, /kubectl get bootnetworks -n netboot-system/);

  const on = run(['upgrade', 'netboot-operator', chart, '--reuse-values', '--set-json', network('192.168.10.0/24')]);
  assert.equal(on.code, 0, on.stderr);
  const first = await cluster.kubectl(['get', 'bootnetwork', 'lab', '-n', NAMESPACE, '-o', 'jsonpath={.metadata.uid} {.spec.subnet} {.metadata.annotations.meta\\.helm\\.sh/release-name}']);
  const [uid, subnet, release] = first.stdout.split(' ');
  assert.equal(subnet, '192.168.10.0/24');
  assert.equal(release, 'netboot-operator');

  const changed = run(['upgrade', 'netboot-operator', chart, '--reuse-values', '--set-json', network('192.168.20.0/24')]);
  assert.equal(changed.code, 0, changed.stderr);
  const second = await cluster.kubectl(['get', 'bootnetwork', 'lab', '-n', NAMESPACE, '-o', 'jsonpath={.metadata.uid} {.spec.subnet}']);
  assert.equal(second.stdout, `${uid} 192.168.20.0/24`, 'updated in place, not recreated (which would restart its agents)');
});

test('uninstall removes the release but keeps the CRDs', async () => {
  const r = run(['uninstall', 'netboot-operator']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /kept due to the resource policy/);
  const crds = await cluster.kubectl(['get', 'crd', '-o', 'name']);
  assert.equal(crds.stdout.trim().split('\n').filter((l) => l.endsWith('.netboot.dev')).length, 5);
  const left = await cluster.kubectl(['get', 'bootnetworks,deployments,serviceaccounts', '-n', NAMESPACE, '-o', 'name']);
  assert.deepEqual(left.stdout.trim().split('\n').filter((l) => l !== '' && !l.endsWith('/default')), []);
  const roles = await cluster.kubectl(['get', 'clusterroles', '-o', 'name']);
  assert.ok(!roles.stdout.includes('netboot-operator'), roles.stdout);
});
