/**
 * Running the real TFTP peers (tftp-hpa, atftp, curl, in.tftpd, dnsmasq) and
 * the namespace tools. A missing tool or missing root fails the test with the
 * package to install: these tests exist to talk to real peers, so a silent
 * skip would hide exactly what they check.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

/** Debian package of each tool the protocol tests and the benchmark run. */
export const PACKAGES: Readonly<Record<string, string>> = {
  tftp: 'tftp-hpa', atftp: 'atftp', curl: 'curl', 'in.tftpd': 'tftpd-hpa', dnsmasq: 'dnsmasq-base',
  ip: 'iproute2', tc: 'iproute2', nft: 'nftables',
};

/** Absolute path of `tool` on PATH (plus the sbin directories), or undefined. */
export function findTool(tool: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(':'), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const dir of dirs) {
    try {
      accessSync(`${dir}/${tool}`, constants.X_OK);
      return `${dir}/${tool}`;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Throws, naming the Debian packages, when any tool is missing. */
export function requireTools(...tools: string[]): void {
  const missing = tools.filter((t) => findTool(t) === undefined);
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map((t) => PACKAGES[t] ?? t))].join(' ');
    throw new Error(`NB9001 required tool(s) missing: ${missing.join(', ')}. Install with: apt-get install -y --no-install-recommends ${pkgs}`);
  }
}

/** Throws unless running as root (network namespaces and qdiscs need CAP_NET_ADMIN). */
export function requireRoot(why: string): void {
  if (process.getuid?.() !== 0) throw new Error(`this test must run as root: ${why}`);
}

/** Outcome of {@link run}. */
export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Options of {@link run}. */
export interface RunOptions {
  /** Run inside this network namespace (`ip netns exec`). */
  readonly netns?: string;
  /** Killed (SIGKILL) after this long; default 30 s. */
  readonly timeoutMs?: number;
  readonly stdin?: string;
  readonly cwd?: string;
}

/** Runs a command to completion; never rejects on a non-zero exit (the caller asserts). */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [file, argv] = opts.netns === undefined ? [cmd, args] : ['ip', ['netns', 'exec', opts.netns, cmd, ...args]];
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { cwd: opts.cwd, stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
    // A command that exits before reading its input must not fail the run with EPIPE.
    child.stdin?.on('error', () => {});
    child.stdin?.end(opts.stdin);
  });
}

/** Like {@link run} but throws with the output when the exit code is not 0. */
export async function runOk(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code ?? r.signal}:\n${r.stdout}${r.stderr}`);
  return r;
}
