/** Every generated file of the repository: path (relative to the root) -> content. */
import { crdFileName, crdYaml } from '../src/api/crd.ts';
import { Kinds } from '../src/api/v1alpha1/index.ts';

export function generatedFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const kind of Kinds) files.set(`crds/${crdFileName(kind)}`, crdYaml(kind));
  return files;
}
