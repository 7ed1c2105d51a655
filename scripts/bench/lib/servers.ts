/**
 * The boot servers under test, each started in a lab host namespace: our
 * agent (`netboot serve`, mode proxy), the baseline, dnsmasq's ProxyDHCP +
 * TFTP, and the Node floor (scripts/bench/node-floor.ts: the runtime's own
 * per-datagram cost, with no protocol logic). All are configured to do the
 * same job (answer PXE BIOS clients with one boot file) and to log only
 * warnings, and all are stopped by pid (the lab teardown is the backstop).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, nsExec } from './lab.ts';
import type { Lab } from './lab.ts';

/** Node 24 from the project's devDependencies (the system node is too old). */
export const NODE = join(REPO, 'node_modules/.bin/node');

/** The boot file both servers hand to BIOS PXE clients. */
export const BOOT_FILE = 'bench-1m.bin';

/** Every server the benchmarks know, in the order their tables list them. */
export const SERVER_KINDS = ['agent', 'node-floor', 'dnsmasq'] as const;
export type ServerKind = (typeof SERVER_KINDS)[number];

/** The kinds named in a --servers list, in its order (unknown names are an error, not a silent omission). */
export function serverKinds(list: string): ServerKind[] {
  return list.split(',').filter((k) => k !== '').map((k) => {
    const kind = SERVER_KINDS.find((known) => known === k);
    if (kind === undefined) throw new Error(`unknown server "${k}" (${SERVER_KINDS.join(', ')})`);
    return kind;
  });
}

export interface RunningServer {
  readonly kind: ServerKind;
  readonly pid: number;
  readonly address: string;
  readonly log: string;
  /** Prometheus text from the agent's /metrics (empty for the others). */
  metrics(): string;
  stop(): Promise<void>;
}

export interface ServerOptions {
  readonly lab: Lab;
  /** Lab host the server runs on (created by the caller). */
  readonly host: string;
  /** TFTP root served first (agent: --files, dnsmasq: --tftp-root). */
  readonly files: string;
  /** Fresh directory for config, state and logs. */
  readonly workDir: string;
  /** Log file name prefix inside workDir. */
  readonly label: string;
  /** Extra BootNetwork spec lines (YAML, indented two spaces), e.g. a discovery block. */
  readonly agentSpecExtra?: string;
  /** Node flags for the agent, e.g. --cpu-prof --cpu-prof-dir=DIR (profile written when it stops). */
  readonly nodeFlags?: readonly string[];
  /** Another checkout of the agent to run (its bin/netboot.js), to compare a patched tree; default this one. */
  readonly agentDir?: string;
}

const HTTP_PORT = 8080;

/** BootNetwork + BootProfile + default MachineClass, as in examples/quickstart, with the bench boot file for BIOS. */
export function agentConfig(subnet: string, specExtra = ''): string {
  return `apiVersion: netboot.dev/v1alpha1
kind: BootNetwork
metadata:
  name: bench
spec:
  mode: proxy
  subnet: ${subnet}
  unknownMachines: boot
  defaultProfile: bench
${specExtra}---
apiVersion: netboot.dev/v1alpha1
kind: BootProfile
metadata:
  name: bench
spec:
  firstStage:
    bios: ${BOOT_FILE}
  ipxe:
    script: |
      #!ipxe
      echo bench
---
apiVersion: netboot.dev/v1alpha1
kind: MachineClass
metadata:
  name: everything-else
spec:
  default: true
  priority: -100
  profile: bench
`;
}

function launch(ns: string, argv: readonly string[], log: string, env: NodeJS.ProcessEnv, cwd = REPO): ChildProcess {
  const fd = openSync(log, 'a');
  try {
    // `ip netns exec` execs the command, so the child's pid is the server's.
    return spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', fd, fd], env, cwd });
  } finally {
    closeSync(fd);
  }
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () => new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => { clearTimeout(kill); resolve(); });
    child.kill('SIGTERM');
  });
}

function ready(opts: ServerOptions, child: ChildProcess, log: string, ports: ReadonlyArray<['udp' | 'tcp', number]>): void {
  try {
    for (const [proto, port] of ports) opts.lab.waitPort(opts.host, proto, port, 30);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${opts.label} did not start: ${String(err)}\n--- ${log}\n${readFileSync(log, 'utf8').slice(-2000)}`);
  }
  if (child.exitCode !== null) throw new Error(`${opts.label} exited at start; see ${log}`);
}

/** Starts `netboot serve` (proxy mode, NETBOOT_LOG_LEVEL=warn) and waits until 67, 4011, 69 and HTTP listen. */
export function startAgent(opts: ServerOptions): RunningServer {
  const address = opts.lab.ip(opts.host);
  const cfgDir = join(opts.workDir, `${opts.label}-config`);
  mkdirSync(cfgDir, { recursive: true });
  writeFileSync(join(cfgDir, 'bench.yaml'), agentConfig(`${opts.lab.net}.0/24`, opts.agentSpecExtra));
  const log = join(opts.workDir, `${opts.label}.log`);
  const child = launch(opts.lab.ns(opts.host), [NODE, ...(opts.nodeFlags ?? []), 'bin/netboot.js', 'serve', '-f', cfgDir, '--interface', 'eth0',
    '--state', join(opts.workDir, `${opts.label}-state`), '--files', opts.files], log, { ...process.env, NETBOOT_LOG_LEVEL: 'warn' }, opts.agentDir ?? REPO);
  ready(opts, child, log, [['udp', 67], ['udp', 4011], ['udp', 69], ['tcp', HTTP_PORT]]);
  const ns = opts.lab.ns(opts.host);
  return {
    kind: 'agent', pid: child.pid ?? -1, address, log,
    metrics: () => { try { return nsExec(ns, ['curl', '-s', '--max-time', '5', `http://${address}:${HTTP_PORT}/metrics`]); } catch { return ''; } },
    stop: stopper(child),
  };
}

/**
 * Starts dnsmasq as ProxyDHCP (67 + 4011) and TFTP server: one x86PC boot
 * service, routine DHCP/TFTP logging off (as the agent's info lines are), and
 * the same concurrent-transfer cap as the agent (64; dnsmasq's default is 50).
 */
export function startDnsmasq(opts: ServerOptions): RunningServer {
  const address = opts.lab.ip(opts.host);
  const log = join(opts.workDir, `${opts.label}.log`);
  const child = launch(opts.lab.ns(opts.host), ['dnsmasq', '-k', '--conf-file=/dev/null', '--port=0', '--interface=eth0', '--bind-interfaces',
    '--user=root', '--no-resolv', '--no-hosts', '--log-facility=-', '--quiet-dhcp', '--quiet-tftp',
    `--pid-file=${join(opts.workDir, `${opts.label}.pid`)}`, `--dhcp-leasefile=${join(opts.workDir, `${opts.label}.leases`)}`,
    `--dhcp-range=${opts.lab.net}.0,proxy,255.255.255.0`, `--pxe-service=x86PC,bench,${BOOT_FILE}`,
    '--enable-tftp', `--tftp-root=${opts.files}`, '--tftp-max=64'], log, process.env);
  ready(opts, child, log, [['udp', 67], ['udp', 4011], ['udp', 69]]);
  return { kind: 'dnsmasq', pid: child.pid ?? -1, address, log, metrics: () => '', stop: stopper(child) };
}

/** Starts the Node floor (scripts/bench/node-floor.ts) on the host's address, serving BOOT_FILE from `files`. */
export function startNodeFloor(opts: ServerOptions): RunningServer {
  const address = opts.lab.ip(opts.host);
  const log = join(opts.workDir, `${opts.label}.log`);
  const child = launch(opts.lab.ns(opts.host), [NODE, join(REPO, 'scripts/bench/node-floor.ts'), '--address', address, '--files', opts.files, '--file', BOOT_FILE], log, process.env);
  ready(opts, child, log, [['udp', 67], ['udp', 4011], ['udp', 69]]);
  return { kind: 'node-floor', pid: child.pid ?? -1, address, log, metrics: () => '', stop: stopper(child) };
}

export function startServer(kind: ServerKind, opts: ServerOptions): RunningServer {
  if (kind === 'agent') return startAgent(opts);
  return kind === 'dnsmasq' ? startDnsmasq(opts) : startNodeFloor(opts);
}

/** Sum of a Prometheus counter's samples whose labels include every `match` pair. */
export function counter(metrics: string, name: string, match: Readonly<Record<string, string>> = {}): number {
  let sum = 0;
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(match).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
