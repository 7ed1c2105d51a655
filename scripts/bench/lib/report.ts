/**
 * Numbers to text: percentiles, ratios, aligned tables for the terminal and
 * Markdown for docs/benchmarks.md, the machine description every result is
 * stamped with, and the JSON result files run.ts summarises.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO } from './lab.ts';
import { NODE } from './servers.ts';

/** The q-th percentile (0..100) of `values` by nearest rank; NaN when empty. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((q / 100) * sorted.length) - 1));
  return sorted[rank] ?? NaN;
}

export function fmt(n: number, digits = 0): string {
  if (!Number.isFinite(n)) return '-';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** ours / baseline, for the tables ("1.00x"); '-' when undefined. */
export function ratio(ours: number, baseline: number): string {
  if (!Number.isFinite(ours) || !Number.isFinite(baseline) || baseline === 0) return '-';
  return `${(ours / baseline).toFixed(2)}x`;
}

/** An aligned plain-text table. */
export function table(head: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The same rows as a Markdown table. */
export function markdown(head: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  return [`| ${head.map(esc).join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

function version(argv: readonly string[], pattern: RegExp): string {
  try {
    const out = execFileSync(argv[0] ?? '', argv.slice(1), { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe'] });
    return out.match(pattern)?.[1] ?? out.split('\n')[0]?.trim() ?? '?';
  } catch (err) {
    const out = String((err as { stdout?: string }).stdout ?? '') + String((err as { stderr?: string }).stderr ?? '');
    return out.match(pattern)?.[1] ?? '?';
  }
}

export interface Machine {
  readonly date: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly dnsmasq: string;
  readonly perfdhcp: string;
  /** The agent measured: this tree's commit, "+changes" when src/ or bin/ differ from it. */
  readonly commit: string;
}

/** Where and with what the figures were taken. */
export function machine(): Machine {
  return {
    date: new Date().toISOString(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? '?',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    node: version([NODE, '--version'], /(v[\d.]+)/),
    dnsmasq: version(['dnsmasq', '--version'], /Dnsmasq version ([\d.]+)/),
    perfdhcp: version(['perfdhcp', '-v'], /VERSION: ([\d.]+)/),
    commit: agentCommit(),
  };
}

function agentCommit(): string {
  const git = (...args: string[]) => execFileSync('git', ['-C', REPO, ...args], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--', 'src', 'bin') === '' ? '' : '+changes'}`;
  } catch {
    return 'unknown';
  }
}

export function describeMachine(m: Machine): string {
  return `${m.date} | agent ${m.commit} | ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB, Linux ${m.kernel} | node ${m.node}, dnsmasq ${m.dnsmasq}, perfdhcp (Kea) ${m.perfdhcp}`;
}

/** Default directory for result files: outside the repository. */
export const DEFAULT_OUT_DIR = join(tmpdir(), 'netboot-bench');

export function writeResult(file: string, value: unknown): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** `--name value` from argv, or the default. */
export function option(argv: readonly string[], name: string, fallback: string): string {
  const i = argv.indexOf(name);
  const v = i === -1 ? undefined : argv[i + 1];
  return v ?? fallback;
}

/** Other processes' CPU (cores) above which a measurement counts as disturbed. */
export const DISTURBED_CORES = 0.2;

/** A run disturbed by other work on the machine, in words ('' when clean). */
export function disturbance(foreignCores: number, qemu: number): string {
  if (foreignCores < DISTURBED_CORES) return '';
  return `other processes used ${foreignCores.toFixed(2)} cores${qemu > 0 ? ` (${qemu} QEMU running)` : ''}`;
}

/** docs/benchmarks.md, where each benchmark script rewrites its own `## ` section. */
export const BENCHMARKS_DOC = join(import.meta.dirname, '../../../docs/benchmarks.md');

/**
 * Replaces the `## TITLE` section of `path` (up to the next `## ` heading) with
 * `section`, or appends it; other sections (another script's, hand-written
 * ones) are left as they are. Same convention as scripts/bench/tftp.ts.
 */
export function writeSection(path: string, title: string, section: string): void {
  const doc = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n\nFigures measured by the scripts in `scripts/bench/`, each section rewritten by its script.\n\n';
  const heading = new RegExp(`^## ${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`, 'm');
  const start = doc.search(heading);
  const body = `${section.trimEnd()}\n`;
  if (start === -1) return writeFileSync(path, `${doc.trimEnd()}\n\n${body}`);
  const rest = doc.slice(start + 1);
  const next = rest.search(/^## /m);
  writeFileSync(path, doc.slice(0, start) + body + (next === -1 ? '' : `\n${rest.slice(next)}`));
}
