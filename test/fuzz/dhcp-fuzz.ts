/**
 * Mutation fuzzing of the packet path: decode -> classify -> decide, in every
 * mode and on both listeners. Any exception escaping the pipeline is a bug
 * (a malformed packet must be dropped with a reason), and so is a packet that
 * takes more than SLOW_MS.
 *
 *   node test/fuzz/dhcp-fuzz.ts [COUNT] [SEED]     (default 1,000,000)
 *
 * The unit suite runs a smaller count through `fuzzDhcp`.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { classify } from '../../src/boot/classify.ts';
import { decide } from '../../src/boot/decide.ts';
import type { BootPlan } from '../../src/boot/plan.ts';
import { encodePacket, tryDecodePacket, MessageType } from '../../src/protocol/dhcp/index.ts';
import { asHttpBoot, asIpxe, labYaml, planFrom, request, withArch, withGiaddr, withType } from '../support/dhcp.ts';
import { REPO_ROOT } from '../support/fixtures.ts';

const SLOW_MS = 50;

/** A small deterministic PRNG (mulberry32), so a failing seed can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function seeds(): Uint8Array[] {
  const built = [request(), request(withArch(7)), request(withArch(7), asIpxe()), request(asHttpBoot()), request(withType(MessageType.Request)), request(withGiaddr('10.1.1.1'))].map(encodePacket);
  const dir = join(REPO_ROOT, 'test/fixtures/dhcp');
  const golden = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.bin')).map((f) => new Uint8Array(readFileSync(join(dir, f)))) : [];
  return [...built, ...golden];
}

function mutate(input: Uint8Array, next: () => number): Uint8Array {
  const out = Uint8Array.from(input);
  const pick = Math.floor(next() * 6);
  const at = () => 236 + Math.floor(next() * Math.max(1, out.length - 236)); // mostly the option area
  switch (pick) {
    case 0: for (let i = 0; i < 1 + next() * 8; i++) { const j = at(); out[j] = (out[j] ?? 0) ^ (1 << Math.floor(next() * 8)); } return out;
    case 1: for (let i = 0; i < 1 + next() * 4; i++) out[at()] = Math.floor(next() * 256); return out;
    case 2: return out.subarray(0, Math.floor(next() * out.length));
    case 3: { const extra = Uint8Array.from({ length: Math.floor(next() * 64) }, () => Math.floor(next() * 256)); const r = new Uint8Array(out.length + extra.length); r.set(out); r.set(extra, out.length); return r; }
    case 4: out[at()] = [0, 1, 52, 53, 55, 60, 77, 93, 97, 175, 255][Math.floor(next() * 11)] ?? 0; out[Math.min(out.length - 1, at() + 1)] = Math.floor(next() * 256); return out;
    default: out[Math.floor(next() * 236)] = Math.floor(next() * 256); return out;
  }
}

/** Decode, classify and decide one packet in every plan and listener; counts into `n`. */
function runOne(packet: Uint8Array, plans: readonly BootPlan[], n: { decoded: number; classified: number; replies: number }): void {
  const d = tryDecodePacket(packet);
  if (!d.ok) return;
  n.decoded++;
  const c = classify(d.packet);
  if (!c.ok) return;
  n.classified++;
  for (const plan of plans) {
    for (const listener of ['dhcp', 'pxe'] as const) {
      const r = decide(d.packet, c.client, { plan, listener, serverAddress: '10.9.0.3', source: { address: '10.9.0.50', port: 68 }, leases: [], now: 0 });
      if (r.kind === 'reply') { encodePacket(r.packet); n.replies++; }
    }
  }
}

/** The fastest of three more runs of one packet, in ms: a slow first run caused by a GC pause or a busy CPU is not the packet's fault. */
function rerunMs(packet: Uint8Array, plans: readonly BootPlan[]): number {
  let best = Infinity;
  for (let k = 0; k < 3; k++) {
    const t = performance.now();
    runOne(packet, plans, { decoded: 0, classified: 0, replies: 0 });
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

/** Runs `count` mutated packets; returns counts, or throws with the seed and bytes of the first failure. */
export function fuzzDhcp(count: number, seed = 1): { decoded: number; classified: number; replies: number } {
  const next = rng(seed);
  const base = seeds();
  const plans: BootPlan[] = [planFrom(labYaml('proxy')), planFrom(labYaml('proxy-colocated')), planFrom(labYaml('dhcp'))];
  const n = { decoded: 0, classified: 0, replies: 0 };
  let current = base[0] as Uint8Array;
  for (let i = 0; i < count; i++) {
    current = mutate(i % 4 === 0 ? (base[Math.floor(next() * base.length)] as Uint8Array) : current, next);
    const started = performance.now();
    try {
      runOne(current, plans, n);
    } catch (err) {
      throw new Error(`packet ${i} (seed ${seed}) threw: ${(err as Error).stack}\nbytes: ${Buffer.from(current).toString('hex')}`);
    }
    const ms = performance.now() - started;
    // A packet that is slow every time is a bug (a hang, a quadratic walk); one slow run is the machine.
    if (ms > SLOW_MS) {
      const again = rerunMs(current, plans);
      if (again > SLOW_MS) throw new Error(`packet ${i} (seed ${seed}) took ${ms.toFixed(1)} ms, and ${again.toFixed(1)} ms at best when run again\nbytes: ${Buffer.from(current).toString('hex')}`);
    }
  }
  return n;
}

if (import.meta.main) {
  const count = Number(process.argv[2] ?? 1_000_000);
  const seed = Number(process.argv[3] ?? 1);
  const t0 = performance.now();
  const r = fuzzDhcp(count, seed);
  console.log(`${count} mutated packets, seed ${seed}: ${r.decoded} decoded, ${r.classified} classified, ${r.replies} replies, 0 exceptions, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
