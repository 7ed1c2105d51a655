/**
 * `netboot controller`: the composition root of the control plane. Picks
 * the real pieces (kubeconfig, informer sources, API clients, the Lease, the
 * system clock), serves /metrics, /healthz and /readyz, and runs the
 * manager under leader election (or alone with --leader-elect=false).
 * SIGTERM/SIGINT stop writing, release the lease, and exit 0.
 */
import { hostname } from 'node:os';
import { kubeObjectApplyApi } from '../kube/apply-object.ts';
import { customObjectPatchApi } from '../kube/request.ts';
import { LeaderElector } from '../kube/leader.ts';
import { kubeLeaseStore } from '../kube/lease-store.ts';
import { PooledKubeConfig } from '../kube/pooled-config.ts';
import { Errors, NetbootError, isNetbootError } from '../errors.ts';
import { Manager } from '../controller/manager/manager.ts';
import { kubeSources } from '../controller/manager/caches.ts';
import { kubeSecretReader } from '../controller/amt-certificates.ts';
import { kubeAgentReportsApi } from '../controller/stale-reports.ts';
import { serveMetrics } from '../controller/manager/http.ts';
import { DEFAULT_WRITE_RATE } from '../controller/manager/writes.ts';
import { createControllerMetrics } from '../controller/metrics.ts';
import { createLogger } from '../observability/logger.ts';
import { last, parseArgs } from './args.ts';
import { packageVersion } from './version.ts';
import { FileClock } from './test-clock.ts';

export const CONTROLLER_USAGE = 'usage: netboot controller [--namespace NS] [--kubeconfig FILE] [--metrics-address 0.0.0.0:8081] [--leader-elect=true|false] '
  + '[--lease-namespace NS] [--identity ID] [--agent-image IMAGE] [--agent-service-account NAME] '
  + '[--leader-elect-lease-duration 15] [--leader-elect-renew-deadline 10] [--leader-elect-retry-period 2] [--write-qps 400] [--write-burst 800]\n'
  + '  --test-clock-file PATH  TESTING ONLY: read the controller\'s time from PATH (one RFC 3339 instant, rewritten by the test to move time); off by default: the system clock';

/** The controller's settings, from flags and environment. */
export interface ControllerConfig {
  /** Watch one namespace; undefined = all. */
  readonly namespace?: string;
  readonly kubeconfig?: string;
  readonly metricsAddress: string;
  readonly leaderElect: boolean;
  readonly leaseNamespace: string;
  readonly leaseName: string;
  readonly identity: string;
  readonly agentImage: string;
  readonly agentServiceAccount: string;
  readonly leaseDurationSeconds: number;
  readonly renewDeadlineSeconds: number;
  readonly retryPeriodSeconds: number;
  readonly writeQps: number;
  readonly writeBurst: number;
  /** Testing only: the file the controller's clock reads its time from (FileClock). Undefined: the system clock. */
  readonly testClockFile?: string;
}

const VALUED = {
  '--namespace': 'namespace', '-n': 'namespace', '--kubeconfig': 'kubeconfig', '--metrics-address': 'metrics-address',
  '--leader-elect': 'leader-elect', '--lease-namespace': 'lease-namespace', '--identity': 'identity',
  '--agent-image': 'agent-image', '--agent-service-account': 'agent-service-account',
  '--leader-elect-lease-duration': 'lease-duration', '--leader-elect-renew-deadline': 'renew-deadline', '--leader-elect-retry-period': 'retry-period',
  '--write-qps': 'write-qps', '--write-burst': 'write-burst', '--test-clock-file': 'test-clock-file',
} as const;

function invalid(message: string): NetbootError {
  return new NetbootError(Errors.ControllerConfigInvalid, message);
}

function positive(value: string | undefined, flag: string, fallback: number, integer = true): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!(n > 0) || (integer && !Number.isInteger(n))) throw invalid(`${flag} must be a positive ${integer ? 'integer' : 'number'}, got "${value}"`);
  return n;
}

/** Flags + environment → config. Throws ControllerConfigInvalid (or a parse error) for bad input. */
export function controllerConfig(args: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env): ControllerConfig {
  // A bare --leader-elect means true (the kube convention), not "take the next argument".
  const parsed = parseArgs(args.map((a) => (a === '--leader-elect' ? '--leader-elect=true' : a)), VALUED, []);
  const elect = last(parsed, 'leader-elect') ?? 'true';
  if (elect !== 'true' && elect !== 'false') throw invalid(`--leader-elect must be true or false, got "${elect}"`);
  const leaseDurationSeconds = positive(last(parsed, 'lease-duration'), '--leader-elect-lease-duration', 15);
  const renewDeadlineSeconds = positive(last(parsed, 'renew-deadline'), '--leader-elect-renew-deadline', 10);
  const retryPeriodSeconds = positive(last(parsed, 'retry-period'), '--leader-elect-retry-period', 2, false);
  if (!(retryPeriodSeconds < renewDeadlineSeconds && renewDeadlineSeconds < leaseDurationSeconds)) {
    throw invalid(`leader election needs retry period < renew deadline < lease duration, got ${retryPeriodSeconds} < ${renewDeadlineSeconds} < ${leaseDurationSeconds}`);
  }
  const namespace = last(parsed, 'namespace');
  const kubeconfig = last(parsed, 'kubeconfig');
  const testClockFile = last(parsed, 'test-clock-file');
  return {
    ...(namespace === undefined ? {} : { namespace }),
    ...(kubeconfig === undefined ? {} : { kubeconfig }),
    metricsAddress: last(parsed, 'metrics-address') ?? '0.0.0.0:8081',
    leaderElect: elect === 'true',
    leaseNamespace: last(parsed, 'lease-namespace') ?? env['POD_NAMESPACE'] ?? 'netboot-system',
    leaseName: 'netboot-controller',
    identity: last(parsed, 'identity') ?? `${hostname()}_${process.pid}`,
    agentImage: last(parsed, 'agent-image') ?? env['NETBOOT_AGENT_IMAGE'] ?? `ghcr.io/netboot-operator/netboot:${packageVersion()}`,
    agentServiceAccount: last(parsed, 'agent-service-account') ?? 'netboot-agent',
    leaseDurationSeconds,
    renewDeadlineSeconds,
    retryPeriodSeconds,
    writeQps: positive(last(parsed, 'write-qps'), '--write-qps', DEFAULT_WRITE_RATE.perSecond, false),
    writeBurst: positive(last(parsed, 'write-burst'), '--write-burst', DEFAULT_WRITE_RATE.burst),
    ...(testClockFile === undefined ? {} : { testClockFile }),
  };
}

/** Resolves on the first SIGTERM or SIGINT. */
function stopSignal(): AbortSignal {
  const stop = new AbortController();
  const done = () => stop.abort();
  process.once('SIGTERM', done);
  process.once('SIGINT', done);
  return stop.signal;
}

export async function runController(args: string[]): Promise<number> {
  const log = createLogger('netboot-controller');
  let config: ControllerConfig;
  try {
    config = controllerConfig(args);
  } catch (err) {
    process.stderr.write(`netboot controller: ${isNetbootError(err) ? String(err) : err instanceof Error ? err.message : String(err)}\n${CONTROLLER_USAGE}\n`);
    return 2;
  }
  const stop = stopSignal();
  // One keep-alive connection pool for every request (client-node opens a connection per request otherwise).
  const kc = new PooledKubeConfig();
  try {
    if (config.kubeconfig === undefined) kc.loadFromDefault();
    else kc.loadFromFile(config.kubeconfig);
  } catch (err) {
    log.error({ code: Errors.ControllerConfigInvalid.code }, `cannot load the kubeconfig${config.kubeconfig === undefined ? '' : ` ${config.kubeconfig}`}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
  let testClock: FileClock | undefined;
  if (config.testClockFile !== undefined) {
    try {
      testClock = new FileClock(config.testClockFile, { onError: (message) => log.warn({ code: Errors.ControllerConfigInvalid.code }, message) });
    } catch (err) {
      log.error({ code: isNetbootError(err) ? err.code : undefined }, err instanceof Error ? err.message : String(err));
      return 1;
    }
    log.warn({ testClockFile: config.testClockFile, now: new Date(testClock.now()).toISOString() },
      'TEST CLOCK IN USE: the controller reads its time from --test-clock-file, not the system clock. This is for tests only; never run a real cluster like this.');
  }
  const metrics = createControllerMetrics();
  const manager = new Manager({
    sources: kubeSources(kc, config.namespace),
    // Status applies go out by the thousand: the lean path (src/kube/request.ts), same auth and pool.
    applyApi: customObjectPatchApi(kc),
    objectApi: kubeObjectApplyApi(kc),
    agent: { image: config.agentImage, serviceAccountName: config.agentServiceAccount },
    identity: config.identity,
    logger: log,
    metrics,
    writeRate: { perSecond: config.writeQps, burst: config.writeBurst },
    // `get` on the Secrets AmtNetworkPolicies name (their provisioning certificates); no list or watch.
    secrets: kubeSecretReader(kc),
    agentReports: kubeAgentReportsApi(kc),
    ...(testClock === undefined ? {} : { clock: testClock }),
  });
  let http;
  try {
    http = await serveMetrics(config.metricsAddress, metrics.registry, {
      ready: () => manager.isSynced(),
      state: () => (!manager.isSynced() ? 'syncing' : manager.isLeading() ? 'leader' : 'standby'),
    });
  } catch (err) {
    log.error({ code: isNetbootError(err) ? err.code : undefined }, err instanceof Error ? err.message : String(err));
    return 1;
  }
  log.info({
    identity: config.identity, namespace: config.namespace ?? '(all)', metricsAddress: http.address, leaderElect: config.leaderElect,
    lease: config.leaderElect ? `${config.leaseNamespace}/${config.leaseName}` : undefined, agentImage: config.agentImage,
    writeQps: config.writeQps, writeBurst: config.writeBurst,
  }, 'controller starting');
  manager.start();

  if (config.leaderElect) {
    const elector = new LeaderElector({
      identity: config.identity,
      store: kubeLeaseStore(kc, { namespace: config.leaseNamespace, name: config.leaseName }),
      leaseDurationSeconds: config.leaseDurationSeconds,
      renewDeadlineSeconds: config.renewDeadlineSeconds,
      retryPeriodSeconds: config.retryPeriodSeconds,
      onStartedLeading: (leading) => {
        log.info({ identity: config.identity, at: Date.now() }, 'became leader');
        return manager.lead(leading);
      },
      onStoppedLeading: () => log.info({ identity: config.identity, at: Date.now() }, 'stopped leading'),
      onNewLeader: (holder) => { if (holder !== config.identity) log.info({ holder }, 'leader observed'); },
      onError: (err) => log.warn({ code: err.code }, err.message),
    });
    await elector.run(stop);
  } else {
    log.info({ identity: config.identity, at: Date.now() }, 'leader election disabled: running alone');
    await manager.lead(stop);
  }
  await manager.stop();
  const closed = new Promise<void>((resolve) => http.server.close(() => resolve()));
  http.server.closeAllConnections();
  await closed;
  testClock?.close();
  log.info('controller stopped');
  return 0;
}
