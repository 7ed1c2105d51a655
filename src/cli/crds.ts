/** `netboot crds`: prints every CRD, ready for `kubectl apply -f -`. */
import { crdsYaml } from '../api/crd.ts';

export function runCrds(out: NodeJS.WritableStream = process.stdout): number {
  out.write(crdsYaml());
  return 0;
}
