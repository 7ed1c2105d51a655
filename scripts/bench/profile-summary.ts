/**
 * Where the agent's time went, from a V8 CPU profile (`--profile DIR` of
 * dhcp.ts / storm.ts): self and inclusive time per function, and the
 * longest stretches the event loop was busy without a break (a stretch of
 * 60 ms is 60 ms every queued packet waits), each with the frames it spent
 * its time in.
 *
 *   node scripts/bench/profile-summary.ts FILE.cpuprofile [--top 25] [--stalls 8] [--stall-ms 5]
 */
import { readFileSync } from 'node:fs';
import { option } from './lib/report.ts';

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: ProfileNode[]; startTime: number; samples: number[]; timeDeltas: number[] }

const argv = process.argv.slice(2);
const file = argv[0];
if (file === undefined || file.startsWith('--')) {
  process.stderr.write('usage: node scripts/bench/profile-summary.ts FILE.cpuprofile [--top N] [--stalls N] [--stall-ms MS]\n');
  process.exit(2);
}
const TOP = Number(option(argv, '--top', '25'));
const STALLS = Number(option(argv, '--stalls', '8'));
const STALL_US = Number(option(argv, '--stall-ms', '5')) * 1000;

const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const label = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(node_modules\/(?:@[^/]+\/)?[^/]+|src|scripts)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
const stack = (id: number): string[] => {
  const out: string[] = [];
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const n = byId.get(at);
    if (n !== undefined) out.push(label(n));
  }
  return out.reverse(); // root first
};

const self = new Map<string, number>();
const total = new Map<string, number>();
let all = 0;
let busy = 0;
const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);

interface Stretch { start: number; end: number; frames: Map<string, number> }
const stretches: Stretch[] = [];
let current: Stretch | undefined;
let t = profile.startTime;
/** The frames that say what a sample was doing: ours and the libraries we call. */
const interesting = /src\/|node_modules\/|garbage collector|writeSync|doSend|writeString/;

for (const [i, id] of profile.samples.entries()) {
  const dt = profile.timeDeltas[i] ?? 0;
  t += dt;
  all += dt;
  const frames = stack(id);
  const leaf = frames.at(-1) ?? '?';
  add(self, leaf, dt);
  for (const f of new Set(frames)) add(total, f, dt);
  if (leaf.startsWith('(idle)')) {
    if (current !== undefined) stretches.push(current);
    current = undefined;
    continue;
  }
  busy += dt;
  current ??= { start: t - dt, end: t, frames: new Map() };
  current.end = t;
  const key = frames.filter((f) => interesting.test(f)).slice(0, 3).join(' > ') || frames.slice(1, 3).join(' > ');
  add(current.frames, key, dt);
}
if (current !== undefined) stretches.push(current);

const ms = (us: number) => (us / 1000).toFixed(1).padStart(8);
const pct = (us: number) => `${((100 * us) / all).toFixed(1).padStart(5)}%`;
const top = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([f, us]) => `${ms(us)} ms ${pct(us)}  ${f}`).join('\n');

process.stdout.write(`${file}: ${(all / 1e6).toFixed(2)} s profiled, ${(busy / 1e6).toFixed(2)} s busy (${((100 * busy) / all).toFixed(0)}%)\n`);
process.stdout.write(`\n-- self time\n${top(self, TOP)}\n\n-- inclusive time\n${top(total, TOP * 2)}\n`);
const long = stretches.filter((s) => s.end - s.start >= STALL_US).sort((a, b) => (b.end - b.start) - (a.end - a.start));
process.stdout.write(`\n-- event loop busy without a break for >= ${STALL_US / 1000} ms: ${long.length} times\n`);
for (const s of long.slice(0, STALLS)) {
  process.stdout.write(`${ms(s.end - s.start)} ms at +${((s.start - profile.startTime) / 1e6).toFixed(2)} s\n`);
  for (const [k, us] of [...s.frames].sort((a, b) => b[1] - a[1]).slice(0, 3)) process.stdout.write(`    ${ms(us)} ms  ${k}\n`);
}
