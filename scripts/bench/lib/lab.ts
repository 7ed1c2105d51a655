/**
 * The benchmarks' use of the network lab (test/e2e/lab/lab.sh, CLI form): one
 * throwaway L2 segment per server under test, so the agent and the baseline
 * never share a bridge. Every lab is registered for teardown the moment it
 * exists, and `installCleanup` tears all of them down on exit, on a signal and
 * on a crash: no namespace or process outlives the benchmark.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '../../..');
const LAB_SH = join(REPO, 'test/e2e/lab/lab.sh');

const open = new Set<Lab>();

/** One lab segment: `up` creates the bridge namespace, `host` adds host namespaces on it. */
export class Lab {
  readonly index: number;
  readonly dir: string;
  readonly net: string;
  #env: NodeJS.ProcessEnv;
  #down = false;

  constructor(index: number) {
    if (!Number.isInteger(index) || index < 0 || index > 254) throw new Error(`lab index ${index} is not 0..254`);
    this.index = index;
    this.dir = mkdtempSync(join(tmpdir(), `netboot-bench-lab${index}-`));
    this.net = `10.213.${index}`;
    this.#env = { ...process.env, LAB_DIR: this.dir, LAB_OWNER_PID: String(process.pid) };
    open.add(this);
    this.#lab('up', String(index), this.dir);
  }

  #lab(...args: string[]): string {
    return execFileSync(LAB_SH, args, { env: this.#env, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** Adds host NAME with eth0 = NET.N/24; returns its namespace. */
  host(name: string, n: number): string {
    this.#lab('host', name, String(n));
    return this.ns(name);
  }

  ns(name: string): string {
    return this.#lab('ns', name).trim();
  }

  ip(name: string): string {
    return this.#lab('ip', name).trim();
  }

  /** Waits (bounded) until something listens on PROTO PORT in host NAME. */
  waitPort(name: string, proto: 'udp' | 'tcp', port: number, timeoutS = 20): void {
    this.#lab('wait-port', name, proto, String(port), String(timeoutS));
  }

  /** Kills every process in the lab's namespaces and deletes them; idempotent. */
  down(): void {
    if (this.#down) return;
    this.#down = true;
    open.delete(this);
    try {
      execFileSync(LAB_SH, ['down', '--purge'], { env: this.#env, stdio: 'ignore', timeout: 60_000 });
    } catch (err) {
      process.stderr.write(`bench: lab ${this.index} teardown failed: ${String(err)}\n`);
    }
  }
}

/** Runs `argv` in namespace `ns` and returns stdout (bounded by `timeoutMs`). */
export function nsExec(ns: string, argv: readonly string[], timeoutMs = 10_000): string {
  return execFileSync('ip', ['netns', 'exec', ns, ...argv], { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
}

let installed = false;

/**
 * Tears every open lab down when the process ends, however it ends. Signals
 * exit with 128+n after the teardown; `extra` runs first (stop child processes).
 */
export function installCleanup(extra?: () => void): void {
  if (installed) return;
  installed = true;
  const teardown = () => {
    try { extra?.(); } catch { /* teardown must go on */ }
    for (const lab of [...open]) lab.down();
  };
  process.on('exit', teardown);
  for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
    process.on(sig, () => { process.stderr.write(`bench: ${sig}, cleaning up\n`); teardown(); process.exit(code); });
  }
  process.on('uncaughtException', (err) => { process.stderr.write(`bench: ${err.stack ?? String(err)}\n`); teardown(); process.exit(1); });
  process.on('unhandledRejection', (err) => { process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`); teardown(); process.exit(1); });
}

/** Fails early with a clear message when the lab cannot be built. */
export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    process.stderr.write('bench: must run as root (the lab builds network namespaces)\n');
    process.exit(2);
  }
}
