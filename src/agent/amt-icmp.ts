/**
 * One ICMP echo for the TTL heuristic, through the system `ping`.
 *
 * Why a child process: Node has no ICMP sockets, and raw sockets need
 * CAP_NET_RAW. iputils `ping` has what it needs (file capability, setuid,
 * or an unprivileged ICMP socket allowed by net.ipv4.ping_group_range), so
 * the agent borrows it: `ping -n -c 1 -W 1 <address>`, no shell, address
 * checked to be a dotted quad first. When `ping` is missing or not permitted
 * the heuristic is skipped and the outcome says why (NB5014); the probe goes
 * on without it. The container image must ship iputils-ping for this to work.
 */
import { execFile } from 'node:child_process';
import { ttlFromPingOutput } from '../amt/probe/ttl.ts';
import { Errors } from '../errors.ts';

/** A TTL, or why there is none ("no echo reply", "NB5014: ping command not found ..."). */
export interface IcmpOutcome {
  readonly ttl?: number;
  readonly skipped?: string;
}

export type PingRunner = (address: string) => Promise<IcmpOutcome>;

const DOTTED_QUAD = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** A runner over the system ping; `command` defaults to `ping` on PATH. */
export function systemPing(opts: { command?: string; timeoutMs?: number } = {}): PingRunner {
  const command = opts.command ?? 'ping';
  const timeout = opts.timeoutMs ?? 3_000;
  return (address) => new Promise((resolve) => {
    if (!DOTTED_QUAD.test(address)) { resolve({ skipped: `not an IPv4 address: ${address}` }); return; }
    execFile(command, ['-n', '-c', '1', '-W', '1', address], { timeout, windowsHide: true }, (err, stdout, stderr) => {
      const ttl = ttlFromPingOutput(String(stdout));
      if (ttl !== undefined) { resolve({ ttl }); return; }
      const code = (err as NodeJS.ErrnoException | null)?.code;
      const text = `${String(stderr)} ${err?.message ?? ''}`;
      if (code === 'ENOENT') resolve({ skipped: `${Errors.AmtIcmpUnavailable.code}: ping command not found (${command}); install iputils-ping` });
      else if (code === 'EACCES' || /operation not permitted|permission denied/i.test(text)) resolve({ skipped: `${Errors.AmtIcmpUnavailable.code}: ping not permitted (needs CAP_NET_RAW or net.ipv4.ping_group_range)` });
      else resolve({ skipped: 'no echo reply within 1 s (the OS may drop ICMP and AMT\'s ping reply may be disabled)' });
    });
  });
}
