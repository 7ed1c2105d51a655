/**
 * perfdhcp (Kea) as a PXE DISCOVER load generator, and its report parsed.
 *
 * `-i`: DISCOVER/OFFER only (a ProxyDHCP never ACKs on 67). `-B`: broadcast
 * flag; with `-l eth0` the DISCOVERs go to 255.255.255.255:67 from port 68,
 * as firmware sends them. `-R N`: N client MACs (random per exchange). `-o`:
 * the PXE options a BIOS PXE ROM sends (60, 93, 97). `-x t`: every exchange's
 * send/receive timestamps, from which p50/p99 are computed (perfdhcp itself
 * prints only min/avg/max). `-p S`: run S seconds. Without `-r` perfdhcp
 * sends as fast as it can ("max").
 *
 * Kea 2.2's `-W` (wait for late replies) fails with `-i` ("Packets exchange
 * not specified"), so replies still in flight when perfdhcp stops count as
 * drops; callers compare with the server's own UDP counters to tell.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { cpuMs, userCpuMs } from './proc.ts';
import { percentile } from './report.ts';

const hex = (s: string) => Buffer.from(s, 'latin1').toString('hex');

/** Options of a legacy BIOS PXE ROM (Intel UNDI 2.1): vendor class, arch 0, machine UUID. */
export const PXE_OPTIONS: readonly string[] = [
  '-o', `60,${hex('PXEClient:Arch:00000:UNDI:002001')}`,
  '-o', '93,0000',
  '-o', '97,00112233445566778899aabbccddeeff00',
];

export interface PerfdhcpRun {
  readonly sent: number;
  readonly received: number;
  readonly drops: number;
  readonly orphans: number;
  /** Latencies of answered exchanges, ms. */
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly min: number;
  readonly avg: number;
  readonly max: number;
  readonly exitCode: number | null;
  /** User+system and user-only CPU ms perfdhcp used (sampled every 250 ms; the last interval may be missing). */
  readonly cpuMs: number;
  readonly userCpuMs: number;
}

/** Runs perfdhcp in namespace `ns` for `seconds` at `rate` (undefined: as fast as possible). */
export async function runPerfdhcp(ns: string, opts: { seconds: number; rate?: number; clients: number; output: string }): Promise<PerfdhcpRun> {
  const args = ['-4', '-l', 'eth0', '-B', '-i', '-R', String(opts.clients), '-p', String(opts.seconds),
    ...(opts.rate === undefined ? [] : ['-r', String(opts.rate)]), ...PXE_OPTIONS, '-x', 'et'];
  const fd = openSync(opts.output, 'w');
  const child = spawn('ip', ['netns', 'exec', ns, 'perfdhcp', ...args], { stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let cpu = 0;
  let user = 0;
  const sampler = setInterval(() => { cpu = Math.max(cpu, cpuMs(child.pid ?? -1)); user = Math.max(user, userCpuMs(child.pid ?? -1)); }, 250);
  const killer = setTimeout(() => child.kill('SIGKILL'), (opts.seconds + 60) * 1000);
  const exitCode = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  clearInterval(sampler);
  clearTimeout(killer);
  const text = readFileSync(opts.output, 'utf8');
  const parsed = parsePerfdhcp(text);
  // Keep the report, not the per-exchange timestamps (tens of MB at "max"): the percentiles are in the result.
  const kept = text.split('\n').filter((l) => !l.startsWith('sent / received: '));
  writeFileSync(opts.output, `${kept.join('\n')}\n(${text.split('\n').length - kept.length} per-exchange timestamp lines dropped after parsing)\n`);
  return { ...parsed, exitCode, cpuMs: cpu, userCpuMs: user };
}

/** boost's to_iso_string of a duration, HHMMSS.ffffff (hours may have more digits), in seconds. */
function isoSeconds(iso: string): number {
  const m = iso.match(/^(\d+)(\d\d)(\d\d(?:\.\d+)?)$/);
  if (m === null) return NaN;
  return Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
}

/** The DISCOVER-OFFER statistics and the per-exchange timestamps of a perfdhcp report. */
export function parsePerfdhcp(text: string): Omit<PerfdhcpRun, 'exitCode' | 'cpuMs' | 'userCpuMs'> {
  const num = (re: RegExp) => Number(text.match(re)?.[1] ?? NaN);
  if (/ERROR/.test(text) && !/sent packets:/.test(text)) throw new Error(`perfdhcp failed: ${text.match(/ERROR.*/)?.[0] ?? text.slice(-500)}`);
  const latencies: number[] = [];
  for (const m of text.matchAll(/sent \/ received: ([\d.]+) \/ ([\d.]+)/g)) {
    latencies.push((isoSeconds(m[2] ?? '') - isoSeconds(m[1] ?? '')) * 1000);
  }
  return {
    sent: num(/sent packets: (\d+)/),
    received: num(/received packets: (\d+)/),
    drops: num(/drops: (\d+)/),
    orphans: num(/orphans: (\d+)/),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    p999: percentile(latencies, 99.9),
    min: num(/min delay: ([\d.]+) ms/),
    avg: num(/avg delay: ([\d.]+) ms/),
    max: num(/max delay: ([\d.]+) ms/),
  };
}
