/**
 * `netboot agent`: one boot agent in a cluster, as the BootNetwork's
 * DaemonSet runs it on each node. Reads its plan through the kube store
 * (informers on the network's namespace), serves the network's ports on the
 * interface holding an address in spec.subnet (or --interface), writes boot
 * observations to BootMachine status.boot and its own entry in BootNetwork
 * status.agentReports, and removes that entry when stopped (SIGTERM/SIGINT).
 *
 * Classes, profiles, machines and most network settings apply live: the
 * agent reads store.plan() per packet and per request. The listeners do not:
 * when the network's mode, ports or serving interface change, the agent
 * exits with code 1 (NB4015) and the DaemonSet's pod restarts it with the
 * new settings, which is simpler and safer than rebinding sockets in place.
 */
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { PooledKubeConfig } from '../kube/pooled-config.ts';
import { startAgent } from '../agent/agent.ts';
import type { RunningAgent } from '../agent/agent.ts';
import type { ServingInterface } from '../agent/interfaces.ts';
import type { BootPlan, NetworkSpec } from '../boot/plan.ts';
import { canonical } from '../boot/plan-digest.ts';
import { Errors, NetbootError, isNetbootError } from '../errors.ts';
import { createLogger } from '../observability/logger.ts';
import type { Logger } from '../observability/logger.ts';
import { agentCounters, createAgentMetrics, setServedPlan } from '../observability/metrics.ts';
import type { AgentMetrics } from '../observability/metrics.ts';
import { kubeStoreApi, kubeStoreSources, openKubeStore } from '../store/kube.ts';
import type { KubeStore } from '../store/kube.ts';
import { last, parseArgs } from './args.ts';
import { UsageError, aborted, exitCodeFor, interfaceFor, stopSignal } from './run.ts';

export const AGENT_USAGE = 'usage: netboot agent --network NAME --namespace NS [--node NAME] [--state DIR] [--kubeconfig FILE] [--interface IF] [--files DIR] '
  + '[--status-qps 20] [--status-burst 50]';

/** The agent's settings, from flags and environment. */
export interface AgentConfig {
  readonly network: string;
  readonly namespace: string;
  readonly node: string;
  readonly stateDir: string;
  readonly kubeconfig?: string;
  readonly interface?: string;
  readonly files?: string;
  /** BootMachine status writes per second and burst, summed over machines. */
  readonly statusRate: { readonly perSecond: number; readonly burst: number };
}

const VALUED = {
  '--network': 'network', '--namespace': 'namespace', '-n': 'namespace', '--node': 'node', '--state': 'state', '--kubeconfig': 'kubeconfig',
  '--interface': 'interface', '--files': 'files', '--status-qps': 'status-qps', '--status-burst': 'status-burst',
} as const;

function usageError(message: string): UsageError {
  return new UsageError(message);
}

function positive(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!(n > 0)) throw usageError(`${flag} must be a positive number, got "${value}"`);
  return n;
}

/** Flags + environment → config; throws a usage error for missing or bad flags. */
export function agentConfig(args: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env): AgentConfig {
  const parsed = parseArgs(args, VALUED, []);
  const network = last(parsed, 'network');
  if (network === undefined) throw usageError('--network is required');
  const namespace = last(parsed, 'namespace') ?? env['POD_NAMESPACE'];
  if (namespace === undefined) throw usageError('--namespace is required (or set POD_NAMESPACE)');
  const kubeconfig = last(parsed, 'kubeconfig');
  const iface = last(parsed, 'interface');
  const files = last(parsed, 'files');
  return {
    network, namespace,
    node: last(parsed, 'node') ?? env['NODE_NAME'] ?? hostname(),
    stateDir: last(parsed, 'state') ?? '/var/lib/netboot',
    ...(kubeconfig === undefined ? {} : { kubeconfig }),
    ...(iface === undefined ? {} : { interface: iface }),
    ...(files === undefined ? {} : { files }),
    statusRate: { perSecond: positive(last(parsed, 'status-qps'), '--status-qps', 20), burst: Math.ceil(positive(last(parsed, 'status-burst'), '--status-burst', 50)) },
  };
}

/** --kubeconfig, else in-cluster (KUBERNETES_SERVICE_HOST), else $KUBECONFIG or ~/.kube/config. */
export function loadKubeConfig(file: string | undefined, env: Readonly<Record<string, string | undefined>> = process.env): KubeConfig {
  // One keep-alive connection pool (client-node opens a connection per request otherwise).
  const kc = new PooledKubeConfig();
  try {
    if (file !== undefined) kc.loadFromFile(file);
    else if (env['KUBERNETES_SERVICE_HOST'] !== undefined) kc.loadFromCluster();
    else kc.loadFromDefault();
  } catch (err) {
    throw new NetbootError(Errors.KubeApiUnavailable, `cannot load the kubeconfig${file === undefined ? '' : ` ${file}`}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (kc.getCurrentCluster() === null) throw new NetbootError(Errors.KubeApiUnavailable, 'no Kubernetes cluster configured: pass --kubeconfig, set $KUBECONFIG, or run in a pod');
  return kc;
}

/** The network settings the listeners were opened with; a change needs a restart. */
function listenerSettings(net: NetworkSpec, override: string | undefined): string {
  return canonical({ mode: net.mode, ports: net.ports, advertiseAddress: net.advertiseAddress, ...(override === undefined ? { interface: net.interface, subnet: net.subnet } : {}) });
}

/** Feeds the plan's generation and digest to /metrics, and watches for listener changes. */
function followPlans(store: KubeStore, metrics: AgentMetrics, log: Logger, started: string, iface: string | undefined, restart: (why: string) => void): void {
  setServedPlan(metrics, store.plan().generation, store.planDigest());
  store.onPlan((plan: BootPlan) => {
    setServedPlan(metrics, plan.generation, store.planDigest());
    if (listenerSettings(plan.network, iface) !== started) {
      restart(`BootNetwork ${plan.namespace}/${plan.networkName} changed its mode, ports or interface; exiting so the DaemonSet restarts this agent with the new listeners`);
    }
    log.debug({ generation: plan.generation }, 'serving a new plan');
  });
}

export async function runAgent(args: readonly string[]): Promise<number> {
  const log = createLogger('netboot-agent');
  const stop = stopSignal();
  let store: KubeStore | undefined;
  let agent: RunningAgent | undefined;
  let counters: NodeJS.Timeout | undefined;
  try {
    const config = agentConfig(args);
    const kc = loadKubeConfig(config.kubeconfig);
    const restart = new AbortController();
    let exitCode = 0;
    log.info({ network: config.network, namespace: config.namespace, node: config.node, server: kc.getCurrentCluster()?.server }, 'agent starting');
    try {
      store = await openKubeStore({
        namespace: config.namespace, network: config.network, node: config.node, stateDir: config.stateDir, log, signal: stop,
        status: { rate: config.statusRate },
      }, { api: kubeStoreApi(kc), sources: kubeStoreSources(kc, config.namespace) });
    } catch (err) {
      // Stopped while still waiting for the BootNetwork: a normal shutdown.
      if (stop.aborted && isNetbootError(err, Errors.NetworkNotFound)) return 0;
      throw err;
    }
    const net = store.plan().network;
    const iface: ServingInterface = interfaceFor(net, config.interface);
    const metrics = createAgentMetrics();
    const started = listenerSettings(net, config.interface);
    followPlans(store, metrics, log, started, config.interface, (why) => {
      if (restart.signal.aborted) return;
      log.error({ code: Errors.AgentRestartRequired.code }, why);
      exitCode = 1;
      restart.abort();
    });
    agent = await startAgent({
      store, iface, ports: net.ports, node: config.node, log, metrics, now: Date.now,
      ...(config.files === undefined ? {} : { fileRoot: config.files }),
    });
    const running = store;
    const feed = () => { agentCounters(metrics).then((c) => running.setCounters(c), (err: unknown) => log.debug({ err }, 'reading counters failed')); };
    // The first entry carries the counters; afterwards the store writes them at most once per 60 s
    // and only when they changed, so sampling every 10 s costs no writes.
    running.setCounters(await agentCounters(metrics));
    store.setReady(agent.ready(), `serving ${net.mode} on ${iface.name} ${iface.address}: DHCP ${net.mode === 'proxy-colocated' ? '-' : net.ports.dhcp}, PXE ${net.ports.pxe}, TFTP ${net.ports.tftp}, HTTP ${net.ports.http}`);
    counters = setInterval(feed, 10_000).unref();
    await Promise.race([aborted(stop), aborted(restart.signal)]);
    log.info({ reason: restart.signal.aborted ? 'restart' : 'signal' }, 'agent stopping');
    return exitCode;
  } catch (err) {
    return exitCodeFor('agent', AGENT_USAGE, err, 'Ports below 1024 need CAP_NET_BIND_SERVICE (the DaemonSet adds it); for a test on loopback give the BootNetwork unprivileged ports.');
  } finally {
    clearInterval(counters);
    await agent?.stop();
    // Flushes pending statuses and removes this node's entry from status.agentReports.
    await store?.close();
  }
}
