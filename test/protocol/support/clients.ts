/**
 * The real TFTP clients of Debian, one function each, with the knobs each
 * one really has (checked against the installed versions):
 * - tftp-hpa 5.2 `tftp`: RFC 1350 only, blksize 512, no options at all.
 * - atftp 0.8.0: blksize, tsize, timeout and windowsize (RFC 7440) via `--option`.
 * - curl 7.88: blksize via `--tftp-blksize`; asks tsize; no windowsize.
 */
import { run } from './tools.ts';
import type { RunResult } from './tools.ts';

/** Where the server listens; `netns` runs the client inside that namespace. */
export interface Target {
  readonly host: string;
  readonly port: number;
  readonly netns?: string;
}

/** A client run plus the TFTP error it reported, when it printed one with its code. */
export interface ClientResult extends RunResult {
  readonly error?: { readonly code: number; readonly message: string };
}

/**
 * tftp-hpa. Commands go through stdin so `rexmt` (its retransmit interval,
 * default 5 s) can be lowered. It exits 0 even when the transfer failed, so
 * any output besides its prompts ("Error code N: message", "Transfer timed
 * out", "sendto: ...") turns `code` into 1; a TFTP error is parsed into `error`.
 */
export async function tftpHpa(t: Target, op: 'get' | 'put', remote: string, local: string, opts: { rexmtS?: number; timeoutMs?: number } = {}): Promise<ClientResult> {
  const script = ['mode binary', `rexmt ${opts.rexmtS ?? 5}`, op === 'get' ? `get ${remote} ${local}` : `put ${local} ${remote}`, 'quit', ''].join('\n');
  const r = await run('tftp', [t.host, String(t.port)], { netns: t.netns, stdin: script, timeoutMs: opts.timeoutMs ?? 30_000 });
  const said = (r.stdout + r.stderr).replaceAll('tftp> ', '').trim();
  const failed = r.code === 0 && said !== '' ? { ...r, code: 1 } : r;
  const m = /Error code (\d+): ([^\n]*)/.exec(said);
  return m === null ? failed : { ...failed, error: { code: Number(m[1]), message: m[2] ?? '' } };
}

/** Options atftp sends in its RRQ. */
export interface AtftpOptions {
  readonly blksize?: number;
  readonly windowsize?: number;
  readonly tsize?: boolean;
  /** Client-side retransmit interval in seconds (`--tftp-timeout`), not the `timeout` option. */
  readonly clientTimeoutS?: number;
  readonly timeoutMs?: number;
}

/** atftp `-g`: exits 0 on success, 255 on any failure (it prints the server's message, not its code). */
export function atftpGet(t: Target, remote: string, local: string, opts: AtftpOptions = {}): Promise<RunResult> {
  const args: string[] = [];
  if (opts.blksize !== undefined) args.push('--option', `blksize ${opts.blksize}`);
  if (opts.windowsize !== undefined) args.push('--option', `windowsize ${opts.windowsize}`);
  if (opts.tsize === true) args.push('--option', 'tsize');
  if (opts.clientTimeoutS !== undefined) args.push('--tftp-timeout', String(opts.clientTimeoutS));
  args.push('-g', '-r', remote, '-l', local, t.host, String(t.port));
  return run('atftp', args, { netns: t.netns, timeoutMs: opts.timeoutMs ?? 30_000 });
}

/** curl's TFTP error exit codes (libcurl CURLE_TFTP_*), by TFTP error code. */
export const CURL_TFTP_EXIT: Readonly<Record<number, number>> = { 1: 68, 2: 69, 4: 71 };

/**
 * curl with `--path-as-is`, so "../x" reaches the server as typed instead of
 * being resolved away by curl's URL normalisation.
 */
export function curlGet(t: Target, remote: string, local: string, opts: { blksize?: number; timeoutMs?: number } = {}): Promise<RunResult> {
  const args = ['-sS', '--path-as-is', '--max-time', String(Math.ceil((opts.timeoutMs ?? 30_000) / 1000)), '-o', local];
  if (opts.blksize !== undefined) args.push('--tftp-blksize', String(opts.blksize));
  args.push(`tftp://${t.host}:${t.port}/${remote}`);
  return run('curl', args, { netns: t.netns, timeoutMs: (opts.timeoutMs ?? 30_000) + 5000 });
}
