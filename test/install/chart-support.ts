/**
 * Rendering the chart for the install tests: the value combinations every
 * test walks, and the rendered stream split into objects.
 */
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../support/fixtures.ts';
import { helmTemplate } from '../support/helm.ts';

export const CHART = join(REPO_ROOT, 'charts/netboot-operator');
export const NAMESPACE = 'netboot-system';

/** A rendered Kubernetes object. */
export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  readonly [key: string]: unknown;
}

/** A named set of --set-json values. */
export interface ValueCase {
  readonly name: string;
  readonly set: Readonly<Record<string, unknown>>;
}

/** The combinations the chart is rendered, linted and dry-run applied with. */
export const VALUE_CASES: readonly ValueCase[] = [
  { name: 'defaults', set: {} },
  { name: 'crds.install=false', set: { 'crds.install': false } },
  { name: 'serviceMonitor on', set: { 'metrics.serviceMonitor.enabled': true, 'metrics.serviceMonitor.labels': { release: 'prometheus' } } },
  {
    name: 'defaultNetwork on',
    set: { defaultNetwork: { enabled: true, name: 'lab', spec: { mode: 'proxy', subnet: '192.168.10.0/24', unknownMachines: 'discover' } } },
  },
  {
    name: 'agent namespaces, AMT secrets, pull secrets',
    set: {
      'agent.namespaces': ['lab-a', 'lab-b'],
      'controller.amtSecrets': { names: [{ namespace: 'lab-a', name: 'amt-cert' }, { namespace: 'lab-a', name: 'amt-pfx' }], namespaces: ['amt-certs'] },
      'image.pullSecrets': ['registry-cred'],
    },
  },
];

/** The objects of a rendered stream (empty documents dropped). */
export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text).map((d) => d.toJS() as Manifest | null).filter((m): m is Manifest => m !== null && typeof m === 'object');
}

/** `helm template` of the chart with `set`, parsed. */
export function render(set: Readonly<Record<string, unknown>> = {}): Manifest[] {
  return parseManifests(helmTemplate(CHART, { release: 'netboot-operator', namespace: NAMESPACE, set }));
}

/** The one object of `kind` (and `name`, when given); throws when there is not exactly one. */
export function only(manifests: readonly Manifest[], kind: string, name?: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name === undefined ? '' : ` ${name}`}, found ${found.length}`);
  return found[0] as Manifest;
}
