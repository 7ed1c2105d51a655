/**
 * The generated parts of the Helm chart and of the kubectl bundle:
 *   - charts/netboot-operator/templates/crds/*.yaml: the CRDs of src/api, as
 *     templates behind `crds.install`, kept on `helm uninstall`;
 *   - values.schema.json's definitions.BootNetworkSpec: the BootNetwork spec
 *     schema, so a typo in defaultNetwork.spec fails before anything is applied
 *     (the rest of values.schema.json is written by hand and kept as it is);
 *   - dist/install.yaml: `helm template` of the chart with default values, in
 *     namespace netboot-system, after a Namespace object.
 * The bundle is rendered from a copy of the chart with the generated files
 * in place, so it never lags the CRDs even in the run that changes them.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { crdFileName, crdFor } from '../src/api/crd.ts';
import { BootNetworkKind } from '../src/api/v1alpha1/bootnetwork.ts';
import { Kinds } from '../src/api/v1alpha1/index.ts';
import { helmTemplate } from '../test/support/helm.ts';

export const CHART_DIR = 'charts/netboot-operator';
export const INSTALL_YAML = 'dist/install.yaml';
export const INSTALL_NAMESPACE = 'netboot-system';
const VALUES_SCHEMA = `${CHART_DIR}/values.schema.json`;

type Json = { [key: string]: unknown };

/**
 * Go templates treat `{{` as the start of an action, and the CRD
 * descriptions quote iPXE template fields such as `{{ mac }}`: each becomes
 * an action that prints the two braces.
 */
export function escapeForTemplate(text: string): string {
  return text.replaceAll('{{', '{{ "{{" }}');
}

/** The chart's template for one kind's CRD. */
export function chartCrdTemplate(kind: (typeof Kinds)[number]): string {
  const crd = crdFor(kind);
  const metadata = crd['metadata'] as Json;
  metadata['annotations'] = {
    // helm upgrade still updates the CRD; helm uninstall leaves it (and every object of the kind).
    'helm.sh/resource-policy': 'keep',
    // Argo CD: CRDs sync before the controller and any netboot.dev object,
    // and are never pruned (that would delete every object of the kind).
    'argocd.argoproj.io/sync-wave': '-1',
    'argocd.argoproj.io/sync-options': 'Prune=false',
  };
  return [
    '{{- /* Generated from src/api/v1alpha1 by `npm run generate`. Do not edit. */ -}}',
    '{{- if .Values.crds.install }}',
    escapeForTemplate(stringify(crd, { lineWidth: 0 })).trimEnd(),
    '{{- end }}',
    '',
  ].join('\n');
}

/** Path of a kind's CRD template in the repository. */
export function chartCrdPath(kind: (typeof Kinds)[number]): string {
  return `${CHART_DIR}/templates/crds/${crdFileName(kind)}`;
}

/**
 * A structural CRD schema as a plain JSON Schema for Helm: objects with
 * fixed properties reject unknown keys (the API server would prune them
 * silently), `self.matches("...")` CEL rules become `pattern`, and the other
 * Kubernetes extensions are dropped (the API server still applies them).
 */
export function helmSchemaFromCrd(node: Json): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'x-kubernetes-validations') {
      for (const rule of value as { rule: string }[]) {
        const m = /^self\.matches\("((?:[^"\\]|\\.)*)"\)$/.exec(rule.rule);
        if (m?.[1] !== undefined) out['pattern'] = JSON.parse(`"${m[1]}"`) as string;
      }
    } else if (key.startsWith('x-kubernetes-') || key === 'nullable') {
      continue;
    } else if (key === 'properties') {
      out[key] = Object.fromEntries(Object.entries(value as Record<string, Json>).map(([k, v]) => [k, helmSchemaFromCrd(v)]));
    } else if (key === 'items' || (key === 'additionalProperties' && typeof value === 'object')) {
      out[key] = helmSchemaFromCrd(value as Json);
    } else {
      out[key] = value;
    }
  }
  if ('properties' in out && !('additionalProperties' in out)) out['additionalProperties'] = false;
  return out;
}

/** values.schema.json with definitions.BootNetworkSpec regenerated; the hand-written rest is kept. */
export function valuesSchema(root: string): string {
  const schema = JSON.parse(readFileSync(join(root, VALUES_SCHEMA), 'utf8')) as Json;
  const crd = crdFor(BootNetworkKind);
  const version = ((crd['spec'] as Json)['versions'] as Json[])[0] as Json;
  const spec = (((version['schema'] as Json)['openAPIV3Schema'] as Json)['properties'] as Json)['spec'] as Json;
  const definitions = (schema['definitions'] ?? {}) as Json;
  definitions['BootNetworkSpec'] = { ...helmSchemaFromCrd(spec), description: 'A BootNetwork spec (generated from the CRD by `npm run generate`).' };
  schema['definitions'] = definitions;
  return `${JSON.stringify(schema, null, 2)}\n`;
}

/** dist/install.yaml from the chart in `root`, with `generated` (chart-relative paths) written over it first. */
export function installYaml(root: string, generated: ReadonlyMap<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'netboot-chart-'));
  try {
    const chart = join(dir, 'netboot-operator');
    cpSync(join(root, CHART_DIR), chart, { recursive: true });
    for (const [path, content] of generated) {
      if (path.startsWith(`${CHART_DIR}/`)) writeFileSync(join(chart, path.slice(CHART_DIR.length + 1)), content);
    }
    const rendered = helmTemplate(chart, { release: 'netboot-operator', namespace: INSTALL_NAMESPACE });
    // The bundle's agents run in this namespace (host network, a hostPath for
    // DHCP leases), so Pod Security admission must let privileged pods in.
    const namespace = stringify({
      apiVersion: 'v1', kind: 'Namespace',
      metadata: { name: INSTALL_NAMESPACE, labels: { 'app.kubernetes.io/part-of': 'netboot-operator', 'pod-security.kubernetes.io/enforce': 'privileged' } },
    });
    return [
      '# Generated from charts/netboot-operator by `npm run generate` (helm template, default values). Do not edit.',
      `# Install: kubectl apply --server-side -f ${INSTALL_YAML}`,
      '---',
      namespace.trimEnd(),
      rendered.trimEnd(),
      '',
    ].join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every generated chart and bundle file: path -> content. */
export function chartFiles(root: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const kind of Kinds) files.set(chartCrdPath(kind), chartCrdTemplate(kind));
  files.set(VALUES_SCHEMA, valuesSchema(root));
  files.set(INSTALL_YAML, installYaml(root, files));
  return files;
}
