/**
 * One leader-election candidate as its own process, for the two-process test
 * in test/kube/kube-runtime.test.ts. Prints one line per transition,
 * with the wall-clock time in milliseconds:
 *
 *   READY <id> <ms>      the elector is campaigning
 *   LEADING <id> <ms>    onStartedLeading ran
 *   STOPPED <id> <ms>    the leading signal aborted (lost, or SIGTERM)
 *   EXITED <id> <ms>     run() returned after SIGTERM (the lease is released)
 *
 * Usage: node test/kube/support/leader-proc.ts <kubeconfig> <id> [namespace] [lease]
 */
import { KubeConfig } from '@kubernetes/client-node';
import { LeaderElector } from '../../../src/kube/leader.ts';
import { kubeLeaseStore } from '../../../src/kube/lease-store.ts';

const [kubeconfig, id, namespace = 'default', lease = 'netboot-controller'] = process.argv.slice(2);
if (kubeconfig === undefined || id === undefined) {
  console.error('usage: leader-proc.ts <kubeconfig> <id> [namespace] [lease]');
  process.exit(2);
}
const say = (what: string): void => { process.stdout.write(`${what} ${id} ${Date.now()}\n`); };

const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const elector = new LeaderElector({
  identity: id,
  store: kubeLeaseStore(kc, { namespace, name: lease }),
  onStartedLeading: () => say('LEADING'),
  onStoppedLeading: () => say('STOPPED'),
  onError: (err) => process.stderr.write(`${id}: ${String(err)}\n`),
});
const stop = new AbortController();
process.once('SIGTERM', () => stop.abort());
say('READY');
await elector.run(stop.signal);
say('EXITED');
