/**
 * `netboot controller` and `netboot agent` as child processes of the
 * benchmark: their output goes to a log file and is scanned line by line
 * (JSON log lines from pino, or plain text), their HTTP endpoints are read
 * over loopback, and they are stopped by pid (SIGTERM, then SIGKILL).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { get } from 'node:http';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { REPO } from './lab.ts';
import { NODE } from './servers.ts';

export interface LogLine {
  readonly at: number;
  readonly text: string;
  /** The parsed JSON line (pino), when it is one. */
  readonly json?: Record<string, unknown>;
}

export class NetbootChild {
  readonly name: string;
  readonly log: string;
  readonly child: ChildProcess;
  readonly startedAt: number;
  readonly lines: LogLine[] = [];
  #tail = '';
  #exit: Promise<number | null>;
  readonly #listeners = new Set<(l: LogLine) => void>();

  /** Starts `node bin/netboot.js ARGS`, its output appended to DIR/NAME.log. */
  constructor(name: string, args: readonly string[], dir: string, env: NodeJS.ProcessEnv = {}) {
    this.name = name;
    this.log = join(dir, `${name}.log`);
    const file = createWriteStream(this.log, { flags: 'a' });
    this.startedAt = performance.now();
    this.child = spawn(NODE, [join(REPO, 'bin/netboot.js'), ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    const onData = (d: Buffer) => {
      const at = performance.now();
      file.write(d);
      this.#tail += d.toString('utf8');
      let nl = this.#tail.indexOf('\n');
      while (nl !== -1) {
        const text = this.#tail.slice(0, nl);
        this.#tail = this.#tail.slice(nl + 1);
        let json: Record<string, unknown> | undefined;
        if (text.startsWith('{')) {
          try { json = JSON.parse(text) as Record<string, unknown>; } catch { /* plain text */ }
        }
        const line: LogLine = json === undefined ? { at, text } : { at, text, json };
        if (this.lines.length < 20_000) this.lines.push(line);
        for (const l of this.#listeners) l(line);
        nl = this.#tail.indexOf('\n');
      }
    };
    this.child.stdout?.on('data', onData);
    this.child.stderr?.on('data', onData);
    this.#exit = new Promise((resolve) => this.child.once('exit', (code, signal) => { file.end(); resolve(code ?? (signal === null ? null : 128)); }));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /** Resolves with the first line (already seen or future) `match` accepts. */
  waitForLine(match: (l: LogLine) => boolean): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => {
      const listener = (l: LogLine) => {
        if (!match(l)) return;
        this.#listeners.delete(listener);
        resolve(l);
      };
      this.#listeners.add(listener);
    });
  }

  /** Resolves with the exit code once it exits. */
  exit(): Promise<number | null> {
    return this.#exit;
  }

  /** The last lines of output, for error messages. */
  lastLines(n = 15): string {
    return this.lines.slice(-n).map((l) => l.text).join('\n');
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it is gone. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.#exit;
    clearTimeout(timer);
  }
}

/** GET http://127.0.0.1:PORT/PATH; status and body, or status 0 when nothing answered. */
export function httpGet(port: number, path: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ status: 0, body }));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({ status: 0, body: '' }));
  });
}

/** A TCP port that was free on 127.0.0.1 a moment ago (the test cluster's helper). */
export { freeTcpPort } from '../../../test/support/cluster.ts';

/** A UDP port that was free on every address a moment ago (the agent binds its DHCP listeners on 0.0.0.0 too). */
export function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

/** The value of an unlabelled Prometheus sample `name` (or the first labelled one), NaN when absent. */
export function gauge(metricsText: string, name: string): number {
  const m = metricsText.match(new RegExp(`^${name}(?:\\{[^}]*\\})? ([-0-9.e+]+|NaN)$`, 'm'));
  return m === null ? NaN : Number(m[1]);
}
