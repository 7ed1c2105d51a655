/**
 * What /proc says about a process and the machine while a benchmark runs:
 * memory (VmRSS, VmHWM), CPU time, the UDP counters of a process's network
 * namespace, and how busy the rest of the machine was (another test suite
 * shares these cores; a run it disturbed must be recognisable as such).
 */
import { readFileSync, readdirSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

/** VmRSS and VmHWM (peak RSS) in KiB, or undefined once the process is gone. */
export function memoryKiB(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))?.[1] ?? NaN);
    return { rss: field('VmRSS'), hwm: field('VmHWM') };
  } catch {
    return undefined;
  }
}

/** User + system CPU milliseconds the process used so far (0 once it is gone). */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime, stime (fields 14, 15)
  } catch {
    return 0;
  }
}

/** Pids of the processes whose command line contains every one of `parts` (e.g. a binary name and a directory). */
export function processesWith(parts: readonly string[]): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try { cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' '); } catch { continue; }
    if (parts.every((p) => cmdline.includes(p))) pids.push(Number(entry));
  }
  return pids;
}

/** User-mode CPU milliseconds of the process only. */
export function userCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[11]) * TICK_MS;
  } catch {
    return 0;
  }
}

/** Machine-wide CPU counters (ms summed over CPUs). */
export interface SystemCpu { readonly user: number; readonly busy: number; readonly total: number }

export function systemCpu(): SystemCpu {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = v;
  return { user: (user + nice) * TICK_MS, busy: (user + nice + system + irq + softirq + steal) * TICK_MS, total: (user + nice + system + idle + iowait + irq + softirq + steal) * TICK_MS };
}

/** UDP counters of the network namespace `pid` lives in (/proc/PID/net/snmp). */
export interface UdpCounters { readonly inDatagrams: number; readonly outDatagrams: number; readonly rcvbufErrors: number; readonly inErrors: number }

export function udpCounters(pid: number): UdpCounters {
  return parseUdpSnmp(readFileSync(`/proc/${pid}/net/snmp`, 'utf8'));
}

/** The Udp: lines of a /proc/net/snmp text. */
export function parseUdpSnmp(text: string): UdpCounters {
  const lines = text.split('\n').filter((l) => l.startsWith('Udp:'));
  const names = (lines[0] ?? '').split(/\s+/).slice(1);
  const values = (lines[1] ?? '').split(/\s+/).slice(1).map(Number);
  const get = (n: string) => values[names.indexOf(n)] ?? NaN;
  return { inDatagrams: get('InDatagrams'), outDatagrams: get('OutDatagrams'), rcvbufErrors: get('RcvbufErrors'), inErrors: get('InErrors') };
}

export function udpDelta(a: UdpCounters, b: UdpCounters): UdpCounters {
  return { inDatagrams: b.inDatagrams - a.inDatagrams, outDatagrams: b.outDatagrams - a.outDatagrams, rcvbufErrors: b.rcvbufErrors - a.rcvbufErrors, inErrors: b.inErrors - a.inErrors };
}

/** Other processes whose command name says QEMU: the colleague's e2e suite is running. */
export function qemuRunning(): number {
  let n = 0;
  for (const entry of safeReaddir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').startsWith('qemu-system')) n++;
    } catch { /* gone */ }
  }
  return n;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * Watches one measurement window: the processes under test and everything
 * else. `foreignCores` is the user CPU the rest of the machine burned, in
 * cores (1.0 = one core fully busy); above ~0.2 the run was disturbed.
 */
export class Window {
  readonly #pids: number[];
  readonly #sys0: SystemCpu;
  readonly #user0: number;
  readonly #cpu0: Map<number, number>;
  readonly #t0: number;
  readonly #qemu0: number;

  constructor(pids: readonly number[]) {
    this.#pids = [...pids];
    this.#sys0 = systemCpu();
    this.#user0 = this.#pids.reduce((s, p) => s + userCpuMs(p), 0);
    this.#cpu0 = new Map(this.#pids.map((p) => [p, cpuMs(p)]));
    this.#t0 = performance.now();
    this.#qemu0 = qemuRunning();
  }

  /** CPU ms each watched process used since the start (read before it exits). */
  cpuOf(pid: number): number {
    return cpuMs(pid) - (this.#cpu0.get(pid) ?? 0);
  }

  /** Closes the window; pass the user CPU ms of processes of ours that are not watched (a client that already exited). */
  close(extraUserMs = 0): { wallMs: number; foreignCores: number; machineBusyCores: number; qemu: number } {
    const sys = systemCpu();
    const wallMs = performance.now() - this.#t0;
    const ours = this.#pids.reduce((s, p) => s + userCpuMs(p), 0) - this.#user0 + extraUserMs;
    const foreignUser = Math.max(0, sys.user - this.#sys0.user - ours);
    return { wallMs, foreignCores: foreignUser / wallMs, machineBusyCores: (sys.busy - this.#sys0.busy) / wallMs, qemu: Math.max(this.#qemu0, qemuRunning()) };
  }
}

/** Samples VmRSS every `everyMs` and keeps the peak (VmHWM is read too: it catches spikes between samples). */
export class RssSampler {
  readonly #pid: number;
  readonly #timer: NodeJS.Timeout;
  peakRssKiB = 0;
  samples = 0;

  constructor(pid: number, everyMs = 100) {
    this.#pid = pid;
    this.#timer = setInterval(() => this.sample(), everyMs);
    this.sample();
  }

  sample(): void {
    const m = memoryKiB(this.#pid);
    if (m === undefined) return;
    this.samples++;
    if (m.rss > this.peakRssKiB) this.peakRssKiB = m.rss;
  }

  stop(): { peakRssKiB: number; hwmKiB: number; samples: number } {
    clearInterval(this.#timer);
    this.sample();
    return { peakRssKiB: this.peakRssKiB, hwmKiB: memoryKiB(this.#pid)?.hwm ?? NaN, samples: this.samples };
  }
}

/**
 * Waits (at most `maxWaitS`) until the machine has been nearly idle
 * (< `threshold` cores busy) for two consecutive seconds, so a measurement
 * does not start in the middle of someone else's burst. Call it while the
 * servers under test are idle. Returns how long it waited and whether it
 * got the quiet it wanted.
 */
export async function waitForQuiet(maxWaitS: number, threshold = 0.15): Promise<{ waitedS: number; quiet: boolean; busyCores: number }> {
  const t0 = performance.now();
  let calm = 0;
  let busyCores = 0;
  while ((performance.now() - t0) / 1000 < maxWaitS) {
    const a = systemCpu();
    await new Promise((r) => setTimeout(r, 1000));
    const b = systemCpu();
    busyCores = (b.busy - a.busy) / 1000;
    calm = busyCores < threshold ? calm + 1 : 0;
    if (calm >= 2) return { waitedS: (performance.now() - t0) / 1000, quiet: true, busyCores };
  }
  return { waitedS: (performance.now() - t0) / 1000, quiet: false, busyCores };
}
