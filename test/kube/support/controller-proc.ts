/**
 * `netboot controller` as a child process for the tests against the real
 * API server: start it, wait for a log line (pino JSON on stderr), read its
 * /metrics, stop it with a signal. Reusable by the joint lifecycle test
 * (controller + agent processes).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { CustomObjectsApi, KubeConfig, KubernetesObjectApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';

const NETBOOT = resolve(import.meta.dirname, '../../../bin/netboot.js');

/** One pino line of the controller's log. */
export interface LogLine {
  readonly msg: string;
  readonly level: number;
  readonly time: number;
  readonly [k: string]: unknown;
}

export interface ControllerProcess {
  readonly child: ChildProcess;
  readonly name: string;
  /** Every JSON line so far. */
  readonly lines: LogLine[];
  /** "127.0.0.1:PORT", once the controller logged it. */
  readonly metricsAddress: string;
  /** Resolves with the first line (seen so far or later) that `match` accepts. */
  waitForLog(match: string | ((line: LogLine) => boolean), timeoutMs?: number, from?: number): Promise<LogLine>;
  /** The /metrics text. */
  metrics(): Promise<string>;
  /** The sum of every sample of `name` whose labels include `labels`. */
  metric(name: string, labels?: Readonly<Record<string, string>>): Promise<number>;
  /** GET path on the metrics port; resolves with the status. */
  probe(path: string): Promise<number>;
  /** Sends `signal` and resolves with the exit code (null when killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The raw output, for failure messages. */
  output(): string;
}

export interface StartOptions {
  readonly kubeconfig: string;
  /** Extra flags; --kubeconfig and --metrics-address 127.0.0.1:0 are added unless given. */
  readonly args?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly name?: string;
  /** Wait until this log line before resolving (default "caches synced"). */
  readonly readyLine?: string;
  readonly timeoutMs?: number;
}

/** Parses a pino line; undefined for anything else. */
function parse(line: string): LogLine | undefined {
  if (!line.startsWith('{')) return undefined;
  try { return JSON.parse(line) as LogLine; } catch { return undefined; }
}

/** Starts `netboot controller` and waits for its ready line. */
export async function startController(options: StartOptions): Promise<ControllerProcess> {
  const args = ['controller', '--kubeconfig', options.kubeconfig, ...(options.args ?? [])];
  if (!args.includes('--metrics-address')) args.push('--metrics-address', '127.0.0.1:0');
  const child = spawn(process.execPath, [NETBOOT, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NETBOOT_LOG_LEVEL: 'info', ...options.env },
  });
  // A test process that dies (or is interrupted) must not leave a controller
  // retrying against a dead apiserver: kill it synchronously on exit.
  const killOnExit = () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); };
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  const name = options.name ?? 'controller';
  const lines: LogLine[] = [];
  let raw = '';
  const waiters = new Set<() => void>();
  const keep = (text: string) => { raw = (raw + text).slice(-200_000); };
  child.stdout?.on('data', (d: Buffer) => keep(d.toString()));
  createInterface({ input: child.stderr! }).on('line', (line) => {
    keep(`${line}\n`);
    const parsed = parse(line);
    if (parsed === undefined) return;
    lines.push(parsed);
    for (const wake of waiters) wake();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => {
    r({ code, signal });
    for (const wake of waiters) wake();
  }));
  const output = () => raw;

  const waitForLog = (match: string | ((line: LogLine) => boolean), timeoutMs = 30_000, from = 0) => new Promise<LogLine>((res, rej) => {
    const accept = typeof match === 'string' ? (l: LogLine) => l.msg === match : match;
    const check = () => {
      const hit = lines.slice(from).find(accept);
      if (hit !== undefined) { done(); res(hit); return; }
      if (child.exitCode !== null || child.signalCode !== null) { done(); rej(new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before logging ${String(match)}:\n${raw.slice(-4000)}`)); }
    };
    const timer = setTimeout(() => { done(); rej(new Error(`${name}: no log line ${String(match)} within ${timeoutMs} ms:\n${raw.slice(-4000)}`)); }, timeoutMs);
    const done = () => { clearTimeout(timer); waiters.delete(check); };
    waiters.add(check);
    check();
  });

  const starting = await waitForLog('controller starting', options.timeoutMs ?? 30_000);
  const metricsAddress = String(starting['metricsAddress']);
  const get = async (path: string) => fetch(`http://${metricsAddress}${path}`);
  const proc: ControllerProcess = {
    child, name, lines, metricsAddress, waitForLog, exited, output,
    async metrics() { return (await get('/metrics')).text(); },
    async metric(metricName, labels = {}) {
      const text = await proc.metrics();
      let sum = 0;
      for (const line of text.split('\n')) {
        const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
        if (m === null || m[1] !== metricName) continue;
        const have = new Map([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]] as const));
        if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) sum += Number(m[3]);
      }
      return sum;
    },
    async probe(path) { return (await get(path)).status; },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const { code } = await exited;
      clearTimeout(timer);
      return code;
    },
  };
  await waitForLog(options.readyLine ?? 'caches synced', options.timeoutMs ?? 30_000);
  return proc;
}

/**
 * Plays kube-controller-manager's DaemonSet controller, which does not run
 * here: writes the DaemonSet's status (desired/ready/updated counts and the
 * observed generation) through the status subresource.
 */
export async function setDaemonSetStatus(kubeconfig: string, namespace: string, name: string, nodes: number, ready = nodes): Promise<void> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const api = KubernetesObjectApi.makeApiClient(kc);
  const current = await api.read({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name, namespace } });
  const generation = current.metadata?.generation ?? 1;
  const body = {
    apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name, namespace },
    status: { currentNumberScheduled: nodes, desiredNumberScheduled: nodes, numberMisscheduled: 0, numberReady: ready, updatedNumberScheduled: nodes, numberAvailable: ready, observedGeneration: generation },
  };
  // The custom-objects client reaches any group's status subresource by path (apps/v1 daemonsets).
  await kc.makeApiClient(CustomObjectsApi).patchNamespacedCustomObjectStatus(
    { group: 'apps', version: 'v1', namespace, plural: 'daemonsets', name, body, fieldManager: 'kube-controller-manager-standin', force: true },
    setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
  );
}
