/**
 * The network-namespace lab (test/e2e/lab/lab.sh) from node:test: one `Lab`
 * per L2 segment, driven through lab.sh's CLI with async calls so several
 * labs boot at once in one test process, plus our agent (`netboot serve`)
 * started in a lab host. Everything runs inside namespaces the lab creates;
 * `down()` kills what is in them and deletes them, and labs still up when the
 * process exits (or is interrupted) are torn down then.
 *
 * Root only. `requireLabPrerequisites()` throws, naming everything missing:
 * these tests fail, they never skip.
 */
import { execFile, execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readMachinesFile } from '../../../src/store/file.ts';
import type { BootMachine } from '../../../src/api/v1alpha1/bootmachine.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '../../..');
export const LAB_SH = join(REPO_ROOT, 'test/e2e/lab/lab.sh');
/** The Node 24 the agent runs on (the system node is older). */
export const NODE_BIN = join(REPO_ROOT, 'node_modules/.bin/node');
export const NETBOOT_JS = join(REPO_ROOT, 'bin/netboot.js');
export const PROBE_PY = join(REPO_ROOT, 'test/protocol/support/dhcp-probe.py');
/** The MAC lab.sh gives guests by default. */
export const GUEST_MAC = '52:54:00:12:34:56';

export type Firmware = 'bios' | 'uefi' | 'uefi-edk2';
export type Mode = 'proxy' | 'proxy-colocated' | 'dhcp';

/** Keep lab directories (logs, serials, pcaps) even when a test passed. */
const KEEP = process.env['NETBOOT_E2E_KEEP'] === '1';

function onPath(cmd: string): boolean {
  for (const dir of (process.env['PATH'] ?? '').split(':').concat(['/usr/sbin', '/sbin'])) {
    try { accessSync(join(dir, cmd), constants.X_OK); return true; } catch { /* next */ }
  }
  return false;
}

/** What is missing for the lab tests; empty when they can run. */
export function labPrerequisites(opts: { qemu?: boolean; scapy?: boolean } = {}): string[] {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) problems.push('must run as root (network namespaces, bridges, taps)');
  const tools = ['ip', 'ss', 'dnsmasq', 'tcpdump', 'tshark', 'curl', 'bash', 'awk'];
  if (opts.qemu !== false) tools.push(process.env['LAB_QEMU'] ?? 'qemu-system-x86_64');
  for (const t of tools) if (!onPath(t)) problems.push(`${t} not found on PATH (scripts/install-deps.sh installs it)`);
  const files = ['/usr/lib/ipxe/undionly.kpxe', '/usr/lib/ipxe/ipxe.efi', '/usr/lib/ipxe/snponly.efi', LAB_SH, NODE_BIN];
  if (opts.qemu !== false) files.push(process.env['LAB_OVMF'] ?? '/usr/share/ovmf/OVMF.fd', '/usr/lib/ipxe/qemu/efi-virtio.rom');
  for (const f of files) if (!existsSync(f)) problems.push(`${f} is missing`);
  if (existsSync(NODE_BIN)) {
    const v = execFileSync(NODE_BIN, ['--version'], { encoding: 'utf8' }).trim();
    if (!v.startsWith('v24.')) problems.push(`${NODE_BIN} is ${v}, the agent needs Node 24`);
  }
  if (opts.scapy === true) {
    try { execFileSync('/usr/bin/python3', ['-c', 'import scapy.all'], { stdio: 'pipe' }); } catch { problems.push('/usr/bin/python3 cannot import scapy (apt-get install python3-scapy)'); }
  }
  return problems;
}

/** Throws naming every missing prerequisite. */
export function requireLabPrerequisites(opts: { qemu?: boolean; scapy?: boolean } = {}): void {
  const problems = labPrerequisites(opts);
  if (problems.length > 0) throw new Error(`the lab tests cannot run here:\n  - ${problems.join('\n  - ')}`);
}

interface ExecResult { code: number; stdout: string; stderr: string }

function exec(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Promise<ExecResult> {
  return new Promise((res) => {
    const child = execFile(cmd, args, { cwd: REPO_ROOT, env: opts.env ?? process.env, encoding: 'utf8', maxBuffer: 64 << 20, timeout: opts.timeoutMs ?? 60_000, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        res({ code, stdout, stderr: err !== null && code === -1 ? `${stderr}${err.message}` : stderr });
      });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Last `n` lines of a file, CRs and ANSI escapes stripped; '' when it does not exist. */
export function tail(file: string, n = 25): string {
  if (!existsSync(file)) return `(${file} does not exist)`;
  const text = cleanConsole(readFileSync(file, 'latin1'));
  return text.split('\n').filter((l) => l.trim() !== '').slice(-n).map((l) => `    | ${l.slice(0, 240)}`).join('\n');
}

/** A serial console as text: CRs and ANSI escape sequences removed. */
export function cleanConsole(text: string): string {
  return text.replace(/\r/g, '').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\x1b[()][0-9A-Za-z]/g, '');
}

const ACTIVE = new Set<Lab>();
let hooksInstalled = false;
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const downAll = () => { for (const lab of ACTIVE) lab.downSync(); };
  process.on('exit', downAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => { downAll(); process.exit(sig === 'SIGINT' ? 130 : 143); });
  }
}

/** A running `netboot serve` in a lab host. */
export interface Agent {
  readonly host: string;
  readonly address: string;
  readonly pid: number;
  readonly log: string;
  readonly stateDir: string;
  readonly config: string;
}

/** One lab segment (lab_up INDEX DIR); the owner pid is this process. */
export class Lab {
  readonly dir: string;
  readonly index: number;
  /** 10.213.INDEX */
  readonly net: string;
  readonly prefix: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #hosts = new Map<string, number>();
  #down = false;

  private constructor(dir: string, index: number) {
    this.dir = dir;
    this.index = index;
    this.net = `10.213.${index}`;
    this.prefix = `nb${process.pid}-${index}-`;
    this.#env = { ...process.env, LAB_DIR: dir, LAB_OWNER_PID: String(process.pid), LAB_PREFIX: this.prefix };
  }

  /** Creates the segment: bridge namespace, subnets 10.213.INDEX.0/24 (+ IPv6). */
  static async up(index: number, label: string): Promise<Lab> {
    installExitHooks();
    const dir = mkdtempSync(join(tmpdir(), `netboot-${label}-`));
    const lab = new Lab(dir, index);
    ACTIVE.add(lab);
    await lab.cli('up', String(index), dir);
    return lab;
  }

  /** Runs `lab.sh ARGS`; throws with its stderr when it fails. */
  async cli(...args: string[]): Promise<string> {
    const r = await exec(LAB_SH, args, { env: this.#env, timeoutMs: 120_000 });
    if (r.code !== 0) throw new Error(`lab.sh ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}${r.stdout.trim() === '' ? '' : `\n${r.stdout.trim()}`}`);
    return r.stdout;
  }

  /** Adds host NAME with eth0 = NET.N/24. */
  async host(name: string, n: number, opts: { ipv6?: boolean } = {}): Promise<string> {
    await this.cli('host', name, String(n), ...(opts.ipv6 === true ? ['--ipv6'] : []));
    this.#hosts.set(name, n);
    return this.ip(name);
  }

  ip(name: string): string {
    const n = this.#hosts.get(name);
    if (n === undefined) throw new Error(`lab ${this.index} has no host ${name}`);
    return `${this.net}.${n}`;
  }

  ns(name: string): string { return `${this.prefix}${name}`; }

  /** Runs CMD in host NAME's namespace (foreground) and returns its result, whatever the exit code. */
  exec(name: string, cmd: readonly string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<ExecResult> {
    const [bin, ...args] = cmd;
    if (bin === undefined) throw new Error('exec needs a command');
    return exec('ip', ['netns', 'exec', this.ns(name), bin, ...args], { env: this.#env, ...opts });
  }

  /** The standard segment: gw (.1, IPv6 RAs so iPXE does not wait for IPv6 autoconf). */
  async withGateway(): Promise<void> {
    await this.host('gw', 1, { ipv6: true });
    await this.cli('ra', 'gw');
  }

  /** Site DHCP server (dnsmasq, .100-.199) on host NAME; `pxeclient` adds option 60 PXEClient (proxy-colocated). */
  async siteDhcp(name: string, opts: { pxeclient?: boolean } = {}): Promise<void> {
    await this.cli('dhcp', name, ...(opts.pxeclient === true ? ['--pxeclient'] : []));
  }

  /** tcpdump on NAME's eth0 (`sw`: the bridge) into DIR/LABEL.pcap. */
  async capture(name: string, label: string): Promise<string> {
    await this.cli('capture', name, label);
    return join(this.dir, `${label}.pcap`);
  }

  async captureStop(label: string): Promise<void> { await this.cli('capture-stop', label); }

  /** Starts `netboot serve` (debug logs) in host NAME with the given resources; resolves once every listener is bound. */
  async startAgent(name: string, yaml: string, opts: { nodeName?: string; label?: string } = {}): Promise<Agent> {
    const label = opts.label ?? 'agent';
    const config = join(this.dir, `${label}.yaml`);
    const stateDir = join(this.dir, `${label}-state`);
    writeFileSync(config, yaml);
    const pid = Number((await this.cli('run', name, label, 'env', 'NETBOOT_LOG_LEVEL=debug', NODE_BIN, NETBOOT_JS, 'serve', '-f', config,
      '--interface', 'eth0', '--state', stateDir, '--node', opts.nodeName ?? `e2e-${name}`)).trim());
    const agent: Agent = { host: name, address: this.ip(name), pid, log: join(this.dir, `${label}.log`), stateDir, config };
    const deadline = Date.now() + 30_000;
    while (!readFileSync(agent.log, 'utf8').includes('"agent ready"')) {
      if (!alive(pid)) throw new Error(`netboot serve exited before it was ready; log ${agent.log}:\n${tail(agent.log)}`);
      if (Date.now() > deadline) throw new Error(`netboot serve not ready after 30 s; log ${agent.log}:\n${tail(agent.log)}`);
      await sleep(100);
    }
    return agent;
  }

  /** Boots guest NAME (QEMU, TCG) with FIRMWARE; returns QEMU's pid. Serial: DIR/NAME.serial. */
  async guest(name: string, fw: Firmware): Promise<number> {
    return Number((await this.cli('guest', name, fw)).trim());
  }

  serial(name: string): string { return join(this.dir, `${name}.serial`); }

  /**
   * Waits for a complete line of guest NAME's serial console matching `re`; resolves
   * the match, or rejects when QEMU exits first or the time runs out.
   */
  async waitForSerial(name: string, re: RegExp, timeoutMs: number, qemuPid: number): Promise<RegExpMatchArray> {
    const file = this.serial(name);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const exited = !alive(qemuPid);
      const text = existsSync(file) ? cleanConsole(readFileSync(file, 'latin1')) : '';
      // Complete lines only: QEMU may have written half of the one we want.
      for (const line of text.split('\n').slice(0, -1)) {
        const m = line.match(re);
        if (m !== null) return m;
      }
      if (exited) throw new Error(`QEMU (pid ${qemuPid}) exited before ${re} appeared on ${file}`);
      if (Date.now() > deadline) throw new Error(`${re} did not appear on ${file} within ${timeoutMs / 1000} s`);
      await sleep(250);
    }
  }

  /** One line per DHCP packet / TFTP request in a capture (lab_summary). */
  async summary(pcap: string): Promise<string> {
    return (await this.cli('summary', pcap)).trimEnd();
  }

  /** Tears the lab down (every process in its namespaces, the namespaces); purges DIR when asked. */
  async down(opts: { purge?: boolean } = {}): Promise<void> {
    if (this.#down) return;
    this.#down = true;
    ACTIVE.delete(this);
    await this.cli('down');
    if (opts.purge === true && !KEEP) rmSync(this.dir, { recursive: true, force: true });
  }

  /** The same, synchronously (process exit). */
  downSync(): void {
    if (this.#down) return;
    this.#down = true;
    ACTIVE.delete(this);
    try { execFileSync(LAB_SH, ['down'], { env: this.#env, stdio: 'ignore', timeout: 30_000 }); } catch { /* best effort at exit */ }
  }
}

export function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** Runs `tshark -r PCAP -Y FILTER -T fields -e ...`; one array of field values per packet. */
export async function tsharkFields(pcap: string, filter: string, fields: readonly string[]): Promise<string[][]> {
  const r = await exec('tshark', ['-r', pcap, '-Y', filter, '-T', 'fields', '-E', 'separator=|', ...fields.flatMap((f) => ['-e', f])]);
  if (r.code !== 0) throw new Error(`tshark -Y '${filter}' on ${pcap} failed: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l !== '').map((l) => l.split('|'));
}

/** Runs `netboot status --state DIR` and returns its table. */
export async function netbootStatus(stateDir: string): Promise<string> {
  const r = await exec(NODE_BIN, [NETBOOT_JS, 'status', '--state', stateDir]);
  if (r.code !== 0) throw new Error(`netboot status --state ${stateDir} exited ${r.code}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/**
 * Polls DIR/bootmachines.yaml (written a second after a change) until the
 * machine with `mac` satisfies `done`; returns the last version seen either way.
 */
export async function waitForMachine(stateDir: string, mac: string, done: (m: BootMachine) => boolean, timeoutMs = 10_000): Promise<BootMachine | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last: BootMachine | undefined;
  for (;;) {
    try { last = readMachinesFile(stateDir).find((m) => m.spec.mac === mac); } catch { /* mid-write: retry */ }
    if (last !== undefined && done(last)) return last;
    if (Date.now() > deadline) return last;
    await sleep(200);
  }
}

/** Error and fatal lines (pino level >= 50) of an agent log. */
export function agentErrors(log: string): string[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8').split('\n').filter((l) => /"level":(5\d|6\d)/.test(l));
}

/**
 * Resources for one lab network: mode on NET.0/24, unknown machines boot the
 * default profile, whose iPXE script prints `marker` and the address the guest
 * got, then ends the VM (Debian's iPXE has no poweroff: reboot with -no-reboot).
 */
export function agentResources(opts: { mode: Mode; net: string; marker: string; poolStart?: number; poolEnd?: number }): string {
  const dhcp = opts.mode !== 'dhcp' ? '' : `
  dhcp:
    pool: {start: ${opts.net}.${opts.poolStart ?? 150}, end: ${opts.net}.${opts.poolEnd ?? 160}}
    router: ${opts.net}.1
    dnsServers: [${opts.net}.1]
    domainName: e2e.netboot.test
    leaseSeconds: 600`;
  return `apiVersion: netboot.dev/v1alpha1
kind: BootNetwork
metadata:
  name: e2e
spec:
  mode: ${opts.mode}
  subnet: ${opts.net}.0/24
  unknownMachines: boot
  defaultProfile: marker${dhcp}
---
apiVersion: netboot.dev/v1alpha1
kind: BootProfile
metadata:
  name: marker
spec:
  ipxe:
    script: |
      #!ipxe
      echo ${opts.marker} ip=\${net0/ip}
      poweroff || reboot
`;
}
