/**
 * Who answered a ping on a shared IP: AMT or the OS. A HEURISTIC, and every
 * result says so. AMT answers ICMP echo with TTL 255; Windows starts at 128,
 * Linux and macOS at 64 (seed 000, DOMAIN.md §3). With a shared IP both may
 * answer and the OS is usually first, so 255 suggests the OS is down and only
 * AMT answered; AMT's ping reply can also be disabled, and routers on the way
 * lower the TTL, so the verdict names the initial TTL it assumed.
 *
 * Also here: reading the TTL out of the system `ping` command's output (the
 * agent has no raw ICMP socket; see src/agent/amt-icmp.ts).
 */

export type TtlVerdict = 'amt' | 'os' | 'unknown';

export interface TtlHeuristic {
  readonly verdict: TtlVerdict;
  /** Always true: a TTL suggests, it does not prove. */
  readonly heuristic: true;
  readonly ttl?: number;
  /** The initial TTL assumed (255 AMT, 128 Windows, 64 Linux/macOS). */
  readonly initialTtl?: 64 | 128 | 255;
  /** initialTtl - ttl: routers between us and the machine (0 on one segment). */
  readonly hops?: number;
  /** One sentence for status and logs. */
  readonly reason: string;
}

/** Initial TTLs in use, smallest first; a reply's TTL is at most its sender's initial TTL. */
const INITIAL: readonly { readonly ttl: 64 | 128 | 255; readonly verdict: TtlVerdict; readonly who: string }[] = [
  { ttl: 64, verdict: 'os', who: 'Linux/macOS' },
  { ttl: 128, verdict: 'os', who: 'Windows' },
  { ttl: 255, verdict: 'amt', who: 'Intel AMT' },
];

/**
 * Classifies one echo reply's TTL; `skipped` (why no TTL was measured) gives
 * an `unknown` verdict that says why.
 */
export function classifyTtl(ttl: number | undefined, skipped?: string): TtlHeuristic {
  if (ttl === undefined) return { verdict: 'unknown', heuristic: true, reason: `heuristic: no ICMP TTL (${skipped ?? 'no echo reply'})` };
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 255) return { verdict: 'unknown', heuristic: true, reason: `heuristic: TTL ${ttl} is not 1-255` };
  const initial = INITIAL.find((i) => ttl <= i.ttl) ?? { ttl: 255, verdict: 'amt', who: 'Intel AMT' };
  const hops = initial.ttl - ttl;
  const via = hops === 0 ? 'on this segment' : `${hops} hop(s) away`;
  const meaning = initial.verdict === 'amt' ? 'only AMT answered, the OS is likely down' : 'the OS answered';
  return {
    verdict: initial.verdict, heuristic: true, ttl, initialTtl: initial.ttl, hops,
    reason: `heuristic: TTL ${ttl} suggests ${initial.who} (initial ${initial.ttl}, ${via}): ${meaning}`,
  };
}

/**
 * The TTL of the first echo reply in `ping` output: iputils
 * ("64 bytes from 10.0.0.5: icmp_seq=1 ttl=255 time=0.41 ms"), BusyBox
 * ("seq=0 ttl=64") and Windows ("TTL=128") all write `ttl=N`. Undefined when
 * no reply line is present (timeout, unreachable).
 */
export function ttlFromPingOutput(output: string): number | undefined {
  const m = /\bbytes from\b[^\n]*?\bttl=(\d{1,3})\b/i.exec(output) ?? /\breply from\b[^\n]*?\bttl=(\d{1,3})\b/i.exec(output);
  if (m === null) return undefined;
  const ttl = Number(m[1]);
  return ttl >= 1 && ttl <= 255 ? ttl : undefined;
}
