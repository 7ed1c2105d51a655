/**
 * All boot-agent benchmarks, one after the other (never in parallel: they
 * would measure each other), then a summary of every target. Root only: the
 * benchmarks build network namespaces (test/e2e/lab/lab.sh).
 *
 *   sudo node scripts/bench/run.ts [--quick] [--out DIR]
 *
 * Runs scripts/bench/dhcp.ts (ProxyDHCP, perfdhcp), scripts/bench/storm.ts
 * (boot storm) and, when it exists, scripts/bench/tftp.ts. Each prints its
 * own table and rewrites its own section of docs/benchmarks.md; result files
 * go to DIR (default $TMPDIR/netboot-bench). --quick shortens every run (3 s
 * per rate, 100 clients, one TFTP run) to check the harness, and writes no
 * docs. The exit status is non-zero only when a benchmark could not run;
 * unmet targets are reported, not failed.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './lib/lab.ts';
import { DEFAULT_OUT_DIR, option } from './lib/report.ts';

const argv = process.argv.slice(2);
const OUT_DIR = option(argv, '--out', DEFAULT_OUT_DIR);
const QUICK = argv.includes('--quick');

interface Step { readonly name: string; readonly script: string; readonly args: readonly string[]; readonly result?: string }

const steps: Step[] = [
  { name: 'ProxyDHCP (perfdhcp)', script: 'scripts/bench/dhcp.ts', args: ['--out', join(OUT_DIR, 'dhcp.json'), ...(QUICK ? ['--seconds', '3', '--retries', '0', '--no-write'] : [])], result: join(OUT_DIR, 'dhcp.json') },
  { name: 'Boot storm', script: 'scripts/bench/storm.ts', args: ['--out', join(OUT_DIR, 'storm.json'), ...(QUICK ? ['--clients', '100', '--repeat', '1', '--retries', '0', '--no-write'] : [])], result: join(OUT_DIR, 'storm.json') },
  // A colleague's script: its own options (--runs N, --no-write); it rewrites the "## TFTP" section itself.
  { name: 'TFTP', script: 'scripts/bench/tftp.ts', args: QUICK ? ['--runs', '1', '--no-write'] : [] },
];

let current: ReturnType<typeof spawn> | undefined;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  // The benchmark being run tears its labs down on the signal; wait for it.
  process.on(sig, () => { if (current === undefined) process.exit(130); else current.kill(sig); });
}

function run(step: Step): Promise<{ code: number | null; seconds: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    current = spawn(process.execPath, [join(REPO, step.script), ...step.args], { stdio: 'inherit', cwd: REPO, env: { ...process.env, NETBOOT_BENCH_OUT: OUT_DIR } });
    current.once('exit', (code) => { current = undefined; resolve({ code, seconds: (performance.now() - t0) / 1000 }); });
  });
}

interface Target { name: string; met: boolean; detail: string }

function targetsOf(file: string | undefined): Target[] {
  if (file === undefined || !existsSync(file)) return [];
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { targets?: Target[] };
    return parsed.targets ?? [];
  } catch {
    return [];
  }
}

async function main(): Promise<void> {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 24) {
    process.stderr.write(`bench: Node ${process.versions.node}; run with Node 24 (./node_modules/.bin/node or npm run bench)\n`);
    process.exit(2);
  }
  const summary: string[] = [];
  let broken = 0;
  for (const step of steps) {
    if (!existsSync(join(REPO, step.script))) {
      summary.push(`${step.name}: skipped (${step.script} does not exist)`);
      continue;
    }
    process.stderr.write(`\n===== ${step.name}: ${step.script} ${step.args.join(' ')}\n`);
    if (step.result !== undefined) rmSync(step.result, { force: true }); // never summarise an older run
    const { code, seconds } = await run(step);
    if (code !== 0) broken++;
    summary.push(`${step.name}: ${code === 0 ? 'ran' : `FAILED (exit ${code})`} in ${seconds.toFixed(0)} s`);
    for (const t of targetsOf(step.result)) summary.push(`  target ${t.met ? 'MET    ' : 'NOT MET'} ${t.name}: ${t.detail}`);
  }
  process.stdout.write(`\n===== summary${QUICK ? ' (--quick: harness check, not figures to quote)' : ''}\n${summary.join('\n')}\nresults in ${OUT_DIR}\n`);
  process.exitCode = broken === 0 ? 0 : 1;
}

await main();
