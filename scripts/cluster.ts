/**
 * `npm run cluster`: the tests' real kube-apiserver and etcd, for a person to
 * poke at with kubectl. Installs the CRDs (and, with --examples, the
 * examples), prints how to reach it, and stops both on Ctrl-C.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { installCrds, startCluster } from '../test/support/cluster.ts';

const root = resolve(import.meta.dirname, '..');
const cluster = await startCluster();
const stop = async () => { await cluster.stop(); process.exit(0); };
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
await installCrds(cluster);
if (process.argv.includes('--examples')) {
  await cluster.kubectl(['apply', '--server-side', '-R', '-f', join(root, 'examples')]);
}
mkdirSync(join(root, '.cache'), { recursive: true });
const kubeconfig = join(root, '.cache', 'kubeconfig');
copyFileSync(cluster.kubeconfig, kubeconfig);
console.log(`kube-apiserver ${cluster.server} is ready with the netboot CRDs.

  export KUBECONFIG=${kubeconfig}
  export PATH=${cluster.binDir}:$PATH
  kubectl get netboot
  kubectl explain bootnetwork.spec

Ctrl-C stops it and deletes its data.`);
setInterval(() => {}, 1 << 30);
