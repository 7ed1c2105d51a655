/**
 * Our TFTP server for tests: in this process on 127.0.0.1 (ephemeral port),
 * with debug logs and finished transfers captured for assertions, or in a
 * child process inside a network namespace (see serve-main.ts).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { BootFiles } from '../../../src/agent/files.ts';
import { createTftpServer } from '../../../src/agent/tftp.ts';
import type { TftpServer, TftpServerOptions, TftpTransferEvent } from '../../../src/agent/tftp.ts';
import { createAgentMetrics } from '../../../src/observability/metrics.ts';
import type { AgentMetrics } from '../../../src/observability/metrics.ts';
import type { TransferPolicy } from '../../../src/protocol/tftp/index.ts';
import { defaultPolicy } from '../../../src/protocol/tftp/index.ts';

/** One pino line, parsed. */
export type LogEntry = Record<string, unknown> & { readonly msg?: string; readonly level: number };

/** A server under test and what it said. */
export interface TestServer {
  readonly server: TftpServer;
  readonly port: number;
  readonly metrics: AgentMetrics;
  readonly logs: LogEntry[];
  readonly events: TftpTransferEvent[];
  /** Log entries of finished transfers ("TFTP transfer finished"/"failed"), with blksize and windowsize. */
  finished(): LogEntry[];
  /** Metric `netboot_tftp_transfers_total` for one result label. */
  transfers(result: string): Promise<number>;
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1 serving `root`. */
export async function startServer(root: string, overrides: Partial<Omit<TftpServerOptions, 'policy'>> & { policy?: Partial<TransferPolicy> } = {}): Promise<TestServer> {
  const logs: LogEntry[] = [];
  const events: TftpTransferEvent[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => { logs.push(JSON.parse(line) as LogEntry); } });
  const metrics = createAgentMetrics();
  const server = createTftpServer({
    files: new BootFiles([root]), address: '127.0.0.1', port: 0, maxTransfers: 8, metrics, log,
    onTransfer: (e) => events.push(e),
    ...overrides,
    policy: { ...defaultPolicy, ...overrides.policy },
  });
  await server.listening;
  return {
    server, port: server.port(), metrics, logs, events,
    finished: () => logs.filter((l) => l.msg === 'TFTP transfer finished' || l.msg === 'TFTP transfer failed'),
    async transfers(result) {
      const metric = (await metrics.tftpTransfers.get()).values.find((v) => v.labels.result === result);
      return metric?.value ?? 0;
    },
    close: () => server.close(),
  };
}

/** Our server running in another process, e.g. inside a namespace; `lines` are its stdout JSON logs. */
export interface ChildServer {
  readonly process: ChildProcess;
  readonly lines: LogEntry[];
  stop(): Promise<void>;
}

/**
 * Starts serve-main.ts with `ip netns exec` (when `netns` is set) and waits
 * for its "TFTP listener ready" line.
 */
export async function startChildServer(args: { root: string; port: number; netns?: string; policy?: Partial<TransferPolicy> }): Promise<ChildServer> {
  const node = process.execPath;
  const main = join(import.meta.dirname, 'serve-main.ts');
  const argv = [main, args.root, String(args.port), JSON.stringify(args.policy ?? {})];
  const child = args.netns === undefined ? spawn(node, argv, { stdio: ['ignore', 'pipe', 'inherit'] }) : spawn('ip', ['netns', 'exec', args.netns, node, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: LogEntry[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`TFTP server process exited early (${code})`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const entry = JSON.parse(line) as LogEntry;
      lines.push(entry);
      if (entry.msg === 'TFTP listener ready') resolve();
    });
  });
  await ready;
  return {
    process: child,
    lines,
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}
