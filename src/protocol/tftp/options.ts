/**
 * Option negotiation for a read (RFC 2347 framework; blksize RFC 2348; tsize
 * and timeout RFC 2349; windowsize RFC 7440). Pure: the request, the file size
 * and the server policy in, a transfer plan (with the OACK to send) out.
 *
 * An option we do not know, or whose value is out of its RFC range, is left
 * out of the OACK rather than refused with ERROR 8: RFC 2347 lets the server
 * ignore options, and the client then falls back to RFC 1350 defaults, which
 * every firmware handles. Each one left out comes back with a reason for the
 * debug log.
 */
import type { Request, TftpOption } from './packet.ts';
import { illegalOperation } from './error-packet.ts';

/** Server-side knobs. All have defaults in {@link defaultPolicy}. */
export interface TransferPolicy {
  /**
   * Largest blksize agreed to; a larger request is answered with this value
   * (RFC 2348 lets the server lower it). 8192 keeps big transfers quick on a
   * LAN while staying far from 65464, which some UEFI firmware asks for and
   * then fails to reassemble. Set 1468 to avoid IP fragmentation on MTU 1500.
   */
  readonly maxBlksize: number;
  /** Largest windowsize agreed to; larger requests are lowered to it. */
  readonly maxWindowsize: number;
  /** Retransmission timeout when the client sends no `timeout` option. */
  readonly timeoutMs: number;
  /** Retransmissions of one window after which the transfer gives up. */
  readonly maxRetries: number;
  /**
   * `refuse` (default) answers netascii with ERROR 4; `octet` serves the bytes
   * unchanged. Refusing is the safer default: a netascii client rewrites CR/LF
   * in what it receives, which would silently corrupt a binary boot file.
   */
  readonly netascii: 'refuse' | 'octet';
}

/** Defaults chosen for PXE firmware on a LAN. */
export const defaultPolicy: TransferPolicy = {
  maxBlksize: 8192,
  maxWindowsize: 64,
  timeoutMs: 1000,
  maxRetries: 5,
  netascii: 'refuse',
};

/** Everything a {@link ReadTransfer} needs; produced by {@link negotiateRead}. */
export interface TransferPlan {
  /** File size in bytes, fixed for the whole transfer. */
  readonly size: number;
  readonly blksize: number;
  readonly windowsize: number;
  readonly timeoutMs: number;
  readonly maxRetries: number;
  /** Options for the OACK, or null when none were accepted (then DATA 1 goes first, RFC 1350 style). */
  readonly oack: readonly TftpOption[] | null;
}

/** An option left out of the OACK, and why. */
export interface IgnoredOption {
  readonly name: string;
  readonly value: string;
  readonly reason: string;
}

/** Outcome of {@link negotiateRead}. On refusal `reply` is the ERROR packet to send. */
export type Negotiation =
  | { readonly ok: true; readonly plan: TransferPlan; readonly ignored: readonly IgnoredOption[] }
  | { readonly ok: false; readonly reason: string; readonly reply: Uint8Array };

type Tunable = Partial<Pick<TransferPlan, 'blksize' | 'windowsize' | 'timeoutMs'>>;
type Accepted = { readonly oack: string; readonly set: Tunable };
type Rule = (value: string, size: number, policy: TransferPolicy) => Accepted | string;

/**
 * What we do with each option we know; the result is the OACK value or a reason
 * to ignore it. A Map, so that a client's option named "constructor" finds nothing.
 */
const rules = new Map<string, Rule>(Object.entries({
  blksize: (value, _size, policy) => inRange('blksize', value, 8, 65464, (n) => {
    const blksize = Math.min(n, policy.maxBlksize);
    return { oack: String(blksize), set: { blksize } };
  }),
  // RFC 2349: a read request carries 0 and the server answers with the real size.
  tsize: (value, size) => inRange('tsize', value, 0, Number.MAX_SAFE_INTEGER, () => ({ oack: String(size), set: {} })),
  timeout: (value) => inRange('timeout', value, 1, 255, (n) => ({ oack: String(n), set: { timeoutMs: n * 1000 } })),
  windowsize: (value, _size, policy) => inRange('windowsize', value, 1, 65535, (n) => {
    const windowsize = Math.min(n, policy.maxWindowsize);
    return { oack: String(windowsize), set: { windowsize } };
  }),
} satisfies Record<string, Rule>));

/**
 * Decides how to serve a read of a file of `size` bytes. Accepts only the
 * options the client asked for; the OACK lists them in the client's order.
 * Refuses (with an ERROR 4 reply) a WRQ and modes other than octet, and
 * netascii unless the policy says otherwise. Throws RangeError on a bad policy
 * or size, which are configuration bugs rather than client input.
 */
export function negotiateRead(request: Request, size: number, policy: TransferPolicy = defaultPolicy): Negotiation {
  checkPolicy(policy);
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`file size ${size} is not a non-negative integer`);
  if (request.kind !== 'rrq') return refuse('write requests are refused: this server is read-only');
  if (request.mode !== 'octet' && !(request.mode === 'netascii' && policy.netascii === 'octet')) {
    return refuse(`mode ${request.mode} not supported: use octet (binary) mode`);
  }

  let tuned: Tunable = {};
  const oack: TftpOption[] = [];
  const ignored: IgnoredOption[] = [];
  const seen = new Set<string>();
  for (const { name, value } of request.options) {
    const rule = rules.get(name);
    const outcome = seen.has(name) ? 'repeated option' : rule === undefined ? 'unknown option' : rule(value, size, policy);
    seen.add(name);
    if (typeof outcome === 'string') {
      ignored.push({ name, value, reason: outcome });
    } else {
      oack.push({ name, value: outcome.oack });
      tuned = { ...tuned, ...outcome.set };
    }
  }

  const plan: TransferPlan = {
    size,
    blksize: tuned.blksize ?? 512,
    windowsize: tuned.windowsize ?? 1,
    timeoutMs: tuned.timeoutMs ?? policy.timeoutMs,
    maxRetries: policy.maxRetries,
    oack: oack.length > 0 ? oack : null,
  };
  return { ok: true, plan, ignored };
}

function inRange(name: string, value: string, min: number, max: number, accept: (n: number) => Accepted): Accepted | string {
  if (!/^[0-9]{1,16}$/.test(value)) return `${name} "${value}" is not a decimal number`;
  const n = Number(value);
  if (n < min || n > max) return `${name} ${n} outside ${min}..${max}`;
  return accept(n);
}

function refuse(reason: string): Negotiation {
  return { ok: false, reason, reply: illegalOperation(reason) };
}

function checkPolicy(p: TransferPolicy): void {
  const integerIn = (n: number, min: number, max: number) => Number.isInteger(n) && n >= min && n <= max;
  const problem = !integerIn(p.maxBlksize, 512, 65464) ? `maxBlksize ${p.maxBlksize} outside 512..65464`
    : !integerIn(p.maxWindowsize, 1, 65535) ? `maxWindowsize ${p.maxWindowsize} outside 1..65535`
    : !(p.timeoutMs > 0) ? `timeoutMs ${p.timeoutMs} must be positive`
    : !integerIn(p.maxRetries, 0, Number.MAX_SAFE_INTEGER) ? `maxRetries ${p.maxRetries} must be a non-negative integer`
    : undefined;
  if (problem !== undefined) throw new RangeError(`TFTP policy ${problem}`);
}
