/**
 * Every generated file of the repository: path (relative to the root) ->
 * content. Sources of truth: the zod schemas in src/api/v1alpha1 (CRDs, the
 * chart's CRD templates and its BootNetwork values schema), the chart
 * (dist/install.yaml, rendered with the helm binary of the dev dependencies)
 * and scripts/gen-argocd.ts (Argo CD health checks and their tests).
 */
import { resolve } from 'node:path';
import { crdFileName, crdYaml } from '../src/api/crd.ts';
import { Kinds } from '../src/api/v1alpha1/index.ts';
import { argocdFiles } from './gen-argocd.ts';
import { chartFiles } from './gen-chart.ts';
import { docsFiles } from './gen-docs.ts';

const ROOT = resolve(import.meta.dirname, '..');

export function generatedFiles(root = ROOT): Map<string, string> {
  const files = new Map<string, string>();
  for (const kind of Kinds) files.set(`crds/${crdFileName(kind)}`, crdYaml(kind));
  for (const [path, content] of chartFiles(root)) files.set(path, content);
  for (const [path, content] of argocdFiles(Kinds.map((k) => k.kind))) files.set(path, content);
  for (const [path, content] of docsFiles(root)) files.set(path, content);
  return files;
}
