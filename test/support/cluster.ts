/**
 * A real control plane for tests: etcd and kube-apiserver on loopback, started
 * with envtest-style flags (token auth, RBAC, service-account keys), plus the
 * matching kubectl. The binaries are built from Go modules by
 * test/kube-tools/build.sh and cached outside the repository.
 *
 * Nothing here is faked: CRDs, CEL rules, server-side apply and the status
 * subresource are the API server's own.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BUILD_SCRIPT = resolve(import.meta.dirname, '../kube-tools/build.sh');

/** A running test cluster. `stop()` is idempotent and always safe to call. */
export interface TestCluster {
  readonly server: string;
  readonly token: string;
  readonly kubeconfig: string;
  readonly binDir: string;
  /** Runs kubectl against this cluster; rejects with stderr on a non-zero exit. */
  kubectl(args: readonly string[], input?: string): Promise<{ stdout: string; stderr: string }>;
  /** Runs kubectl and returns the exit code and both streams, never rejecting. */
  kubectlResult(args: readonly string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Restarts kube-apiserver on the same port and etcd data (etcd keeps running). */
  restartApiServer(): Promise<void>;
  stop(): Promise<void>;
}

/** Builds (when missing) and returns the directory holding etcd, kube-apiserver and kubectl. */
export function ensureKubeBinaries(): string {
  const result = spawnSync('bash', [BUILD_SCRIPT], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`building the test control plane failed (exit ${result.status}); see the messages above from ${BUILD_SCRIPT}`);
  }
  return result.stdout.trim().split('\n').at(-1) ?? '';
}

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export async function freeTcpPort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr !== null ? res(addr.port) : rej(new Error('no port'))));
    });
  });
}

function readyz(server: string, token: string): Promise<boolean> {
  return new Promise((res) => {
    const req = request(`${server}/readyz`, { headers: { authorization: `Bearer ${token}` }, rejectUnauthorized: false, timeout: 2000 }, (r) => {
      r.resume();
      res(r.statusCode === 200);
    });
    req.on('error', () => res(false));
    req.on('timeout', () => { req.destroy(); res(false); });
    req.end();
  });
}

async function waitFor(what: string, check: () => Promise<boolean>, child: ChildProcess, log: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}:\n${log().slice(-4000)}`);
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms:\n${log().slice(-4000)}`);
}

function start(bin: string, args: string[]): { child: ChildProcess; log: () => string } {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => { out = (out + d.toString()).slice(-64_000); };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return { child, log: () => out };
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Clusters not stopped yet. An 'exit' handler cannot await stop(), so at exit
 * their etcd and kube-apiserver are killed synchronously (SIGKILL; neither is
 * spawned detached, so the pid is the whole process) and their directory removed.
 */
const live = new Map<TestCluster, { readonly children: () => readonly ChildProcess[]; readonly dir: string }>();
function killLive(): void {
  for (const { children, dir } of live.values()) {
    for (const child of children()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    try { rmSync(dir, { recursive: true, force: true }); } catch { /* best effort at exit */ }
  }
  live.clear();
}
process.once('exit', killLive);
// A signal's default action ends the process without 'exit' handlers: exit instead, so they run.
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
  process.once(signal, () => process.exit(code));
}

/** Starts etcd and kube-apiserver; resolves once /readyz answers 200. */
export async function startCluster(): Promise<TestCluster> {
  const binDir = ensureKubeBinaries();
  const dir = mkdtempSync(join(tmpdir(), 'netboot-kube-'));
  const token = randomBytes(24).toString('hex');
  writeFileSync(join(dir, 'tokens.csv'), `${token},admin,admin-uid,system:masters\n`);
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  writeFileSync(join(dir, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(join(dir, 'sa.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const [etcdClient, etcdPeer, apiPort] = [await freeTcpPort(), await freeTcpPort(), await freeTcpPort()];
  const server = `https://127.0.0.1:${apiPort}`;
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, [
    'apiVersion: v1', 'kind: Config', 'current-context: test',
    'clusters:', `- name: test`, `  cluster: {server: "${server}", insecure-skip-tls-verify: true}`,
    'users:', `- name: admin`, `  user: {token: "${token}"}`,
    'contexts:', `- name: test`, `  context: {cluster: test, user: admin, namespace: default}`, '',
  ].join('\n'));

  const etcd = start(join(binDir, 'etcd'), [
    `--data-dir=${join(dir, 'etcd')}`, `--listen-client-urls=http://127.0.0.1:${etcdClient}`, `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
    `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`, `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
    `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`, '--unsafe-no-fsync', '--log-level=warn',
  ]);
  const apiArgs = [
    `--etcd-servers=http://127.0.0.1:${etcdClient}`, `--cert-dir=${join(dir, 'certs')}`,
    `--secure-port=${apiPort}`, '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1',
    '--service-cluster-ip-range=10.0.0.0/24', '--allow-privileged=true', '--authorization-mode=RBAC',
    `--token-auth-file=${join(dir, 'tokens.csv')}`, `--service-account-issuer=${server}`,
    `--service-account-key-file=${join(dir, 'sa.pub')}`, `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
    '--disable-admission-plugins=ServiceAccount', '--enable-priority-and-fairness=false', '--v=0',
  ];
  let api = start(join(binDir, 'kube-apiserver'), apiArgs);
  let stopped = false;

  const kubectlResult = (args: readonly string[], input?: string) => new Promise<{ code: number; stdout: string; stderr: string }>((res) => {
    const child = execFile(join(binDir, 'kubectl'), [`--kubeconfig=${kubeconfig}`, ...args], { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      res({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
    // kubectl get never reads stdin and may exit before the write: EPIPE then, not a failure (the exit code says).
    child.stdin?.on('error', () => {});
    child.stdin?.end(input ?? '');
  });

  const cluster: TestCluster = {
    server, token, kubeconfig, binDir, kubectlResult,
    async kubectl(args, input) {
      const r = await kubectlResult(args, input);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
      return r;
    },
    async restartApiServer() {
      await stopChild(api.child);
      api = start(join(binDir, 'kube-apiserver'), apiArgs);
      await waitFor('kube-apiserver', () => readyz(server, token), api.child, api.log, 90_000);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopChild(api.child);
      await stopChild(etcd.child);
      rmSync(dir, { recursive: true, force: true });
      live.delete(cluster);
    },
  };
  live.set(cluster, { children: () => [api.child, etcd.child], dir });
  try {
    await waitFor('kube-apiserver', () => readyz(server, token), api.child, () => `${api.log()}\n--- etcd ---\n${etcd.log()}`, 90_000);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

/** Applies every CRD from crds/ and waits until all are Established. */
export async function installCrds(cluster: TestCluster, crdDir = resolve(import.meta.dirname, '../../crds')): Promise<void> {
  await cluster.kubectl(['apply', '--server-side', '--field-manager=netboot-tests', '-f', crdDir]);
  await cluster.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '-l', 'app.kubernetes.io/part-of=netboot-operator']);
}
