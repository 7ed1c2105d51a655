/**
 * Time series the controller benchmark keeps while it runs: a process's RSS
 * (VmRSS every 200 ms, from /proc) and the API server's write counters
 * (`apiserver_request_total`, once a second), plus the statistics read off
 * them: peak and steady RSS, writes in a window, the busiest one-second
 * window.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { memoryKiB, systemCpu } from './proc.ts';
import type { KubeHttp } from './kube.ts';
import { requestCounts, writesByKey } from './kube-metrics.ts';

export interface RssSample { readonly t: number; readonly kib: number }

/** VmRSS of one process every `everyMs`, kept whole (a 10-minute run at 200 ms is 3,000 samples). */
export class RssTimeline {
  readonly pid: number;
  readonly samples: RssSample[] = [];
  #hwmKiB = 0;
  readonly #timer: NodeJS.Timeout;

  constructor(pid: number, everyMs = 200) {
    this.pid = pid;
    this.#timer = setInterval(() => this.sample(), everyMs);
    this.sample();
  }

  sample(): void {
    const m = memoryKiB(this.pid);
    if (m === undefined || !Number.isFinite(m.rss)) return;
    this.samples.push({ t: performance.now(), kib: m.rss });
    if (Number.isFinite(m.hwm)) this.#hwmKiB = Math.max(this.#hwmKiB, m.hwm);
  }

  /** Peak RSS in MiB: the highest sample or VmHWM (which catches spikes between samples). */
  peakMiB(): number {
    return Math.max(this.#hwmKiB, ...this.samples.map((s) => s.kib)) / 1024;
  }

  /** Mean RSS in MiB over samples taken in [t0, t1]; NaN when none. */
  meanMiB(t0: number, t1: number): number {
    const inside = this.samples.filter((s) => s.t >= t0 && s.t <= t1);
    return inside.length === 0 ? NaN : inside.reduce((a, s) => a + s.kib, 0) / inside.length / 1024;
  }

  /** The last sample in MiB. */
  lastMiB(): number {
    return (this.samples.at(-1)?.kib ?? NaN) / 1024;
  }

  stop(): void {
    this.sample();
    clearInterval(this.#timer);
  }
}

/** The counters, as read by a request sent at `sent` and answered at `t` (the server produced them in between). */
export interface WriteSample { readonly sent: number; readonly t: number; readonly writes: ReadonlyMap<string, number> }

/**
 * The API server's write counters once a second. Reading /metrics costs the
 * API server ~40 ms for ~2 MB of text at 10,000 objects; once a second is
 * the resolution the peak rate needs and no more.
 */
export class WriteTimeline {
  readonly samples: WriteSample[] = [];
  readonly #kube: KubeHttp;
  #timer: NodeJS.Timeout | undefined;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(kube: KubeHttp) {
    this.#kube = kube;
  }

  start(everyMs = 1000): void {
    this.#timer = setInterval(() => { void this.snapshot().catch(() => {}); }, everyMs);
  }

  /** Reads the counters now and records them (reads queue behind each other, never overlap). */
  snapshot(): Promise<WriteSample> {
    const next = this.#chain.catch(() => {}).then(async () => {
      const sent = performance.now();
      const text = await this.#kube.metrics();
      const sample = { sent, t: performance.now(), writes: writesByKey(requestCounts(text)) };
      this.samples.push(sample);
      return sample;
    });
    this.#chain = next;
    return next;
  }

  /**
   * The highest write rate (writes/s) over about one second in [t0, t1],
   * counting keys `count` accepts. A busy API server answers /metrics late
   * and reads then queue up back to back, so two samples can be milliseconds
   * apart yet seconds apart in what they count: each rate is taken between
   * samples at least 0.9 s apart (from the earlier one's answer to the later
   * one's request) and divided by the longest time it can span (from the
   * earlier request to the later answer). Every such pair within ~5 s counts,
   * so a burst just after one sample is not lost between pairs. It may
   * understate the busiest second, never overstate it.
   */
  peakRate(t0: number, t1: number, count: (key: string) => boolean): { perSecond: number; at: number } {
    const inside = this.samples.filter((s) => s.t >= t0 && s.t <= t1).sort((a, b) => a.t - b.t);
    let best = { perSecond: 0, at: NaN };
    for (let i = 1; i < inside.length; i++) {
      const b = inside[i] as WriteSample;
      // Every earlier sample far enough back: a burst right after one sample must not fall between pairs.
      for (let j = i - 1; j >= 0; j--) {
        const a = inside[j] as WriteSample;
        if (b.sent - a.t < 900) continue;
        let n = 0;
        for (const [k, v] of b.writes) if (count(k)) n += v - (a.writes.get(k) ?? 0);
        const rate = n / ((b.t - a.sent) / 1000);
        if (rate > best.perSecond) best = { perSecond: rate, at: b.t };
        if (b.t - a.sent > 5000) break; // longer spans only average lower
      }
    }
    return best;
  }

  /**
   * Waits until `count` sees no write between two samples `quietMs` apart,
   * the later one the newest (at most `maxMs`); returns the seconds waited,
   * or NaN when it never got quiet. Needs the 1 s sampling running.
   */
  async quiet(count: (a: WriteSample, z: WriteSample) => { readonly total: number }, quietMs: number, maxMs: number): Promise<number> {
    const t0 = performance.now();
    while (performance.now() - t0 < maxMs) {
      await new Promise((r) => setTimeout(r, 1000));
      const z = this.samples.at(-1);
      const a = z === undefined ? undefined : this.samples.findLast((x) => z.t - x.t >= quietMs);
      // Only a window that began after the wait did (give or take quietMs) counts: an older quiet stretch says nothing about now.
      if (z !== undefined && a !== undefined && a.t >= t0 - quietMs && count(a, z).total === 0) return (performance.now() - t0) / 1000;
    }
    return NaN;
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }
}

/** The most events in any one-second window (sliding, by event time) among `times` in [t0, t1]. */
export function peakPerSecond(times: readonly number[], t0 = -Infinity, t1 = Infinity): number {
  const sorted = times.filter((t) => t >= t0 && t <= t1).sort((a, b) => a - b);
  let best = 0;
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while ((sorted[hi] as number) - (sorted[lo] as number) >= 1000) lo++;
    best = Math.max(best, hi - lo + 1);
  }
  return best;
}

/**
 * User CPU ms of this process and every process descended from it (the API
 * server, etcd, controller, agent), including those that have exited and been
 * reaped (cutime), so stopping a child mid-phase does not look like foreign work.
 */
export function ownTreeUserMs(): number {
  const parent = new Map<number, number>();
  const user = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(entry), Number(fields[1]));
      user.set(Number(entry), (Number(fields[11]) + Number(fields[13])) * 10); // utime + cutime in USER_HZ (100) ticks
    } catch { /* gone */ }
  }
  let total = 0;
  for (const [pid, ms] of user) {
    for (let p: number | undefined = pid, depth = 0; p !== undefined && p > 1 && depth < 64; p = parent.get(p), depth++) {
      if (p === process.pid) { total += ms; break; }
    }
  }
  return total;
}

/**
 * How much of the machine other work used during a phase: user CPU of every
 * process outside this benchmark's tree, in cores. Other helpers' test
 * clusters share these 2 CPUs; a phase they disturbed must say so.
 */
export class CpuWindow {
  readonly #t0 = performance.now();
  readonly #sys0 = systemCpu();
  readonly #own0 = ownTreeUserMs();

  /** Foreign cores (1.0 = one CPU busy all the time) and the whole machine's busy cores since the start. */
  close(): { seconds: number; foreignCores: number; busyCores: number } {
    const wall = performance.now() - this.#t0;
    const sys = systemCpu();
    const own = ownTreeUserMs() - this.#own0;
    return { seconds: wall / 1000, foreignCores: Math.max(0, sys.user - this.#sys0.user - own) / wall, busyCores: (sys.busy - this.#sys0.busy) / wall };
  }
}
