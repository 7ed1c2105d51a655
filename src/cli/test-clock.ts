/**
 * A clock read from a file, for tests of the running controller only
 * (`netboot controller --test-clock-file PATH`; never in production, where
 * the system clock is used). The file holds one RFC 3339 instant; a test
 * moves time by rewriting it, so a 24-hour AMT window closes in a second.
 *
 * `now()` is the file's instant (re-read on each call, at most every
 * READ_EVERY_MS). A timer fires when the file's instant reaches its due time
 * (polled every POLL_MS), or after its delay in real time, whichever comes
 * first: the controller's own mechanics (retry backoff, informer restarts,
 * the write gate) keep working while the file stands still, and a requeue
 * that fires early only finds nothing due and requeues itself again.
 */
import { readFileSync } from 'node:fs';
import type { Clock, Timer } from '../kube/clock.ts';
import { Errors, NetbootError } from '../errors.ts';

const READ_EVERY_MS = 10;
const POLL_MS = 50;
/** setTimeout's limit; longer delays would fire at once. */
const MAX_TIMEOUT_MS = 2_147_483_647;

interface Pending {
  readonly due: number;
  readonly callback: () => void;
  handle: NodeJS.Timeout | undefined;
}

/** Parses the file's text: one instant, surrounding whitespace allowed. */
export function parseClockFile(text: string, path: string): number {
  const t = Date.parse(text.trim());
  if (Number.isNaN(t) || text.trim() === '') throw new NetbootError(Errors.ControllerConfigInvalid, `--test-clock-file ${path} must hold one RFC 3339 instant such as 2026-11-23T10:00:00Z, got "${text.trim().slice(0, 40)}"`);
  return t;
}

/** The file-driven clock. `close()` stops its poller. */
export class FileClock implements Clock {
  readonly #path: string;
  readonly #onError: (message: string) => void;
  #last: number;
  #readAt = 0;
  #lastError = '';
  readonly #pending = new Set<Pending>();
  #poller: NodeJS.Timeout | undefined;

  /** Throws ControllerConfigInvalid when the file cannot be read or holds no instant. */
  constructor(path: string, options: { readonly onError?: (message: string) => void } = {}) {
    this.#path = path;
    this.#onError = options.onError ?? (() => {});
    this.#last = this.#read(true);
  }

  now(): number {
    const real = Date.now();
    if (real - this.#readAt >= READ_EVERY_MS) this.#last = this.#read(false);
    return this.#last;
  }

  setTimer(callback: () => void, ms: number): Timer {
    const entry: Pending = { due: this.now() + Math.max(0, ms), callback, handle: undefined };
    entry.handle = setTimeout(() => this.#fire(entry), Math.min(MAX_TIMEOUT_MS, Math.max(0, ms)));
    this.#pending.add(entry);
    this.#poller ??= setInterval(() => this.#poll(), POLL_MS).unref();
    return { cancel: () => this.#drop(entry) };
  }

  /** Stops the poller and forgets every timer. */
  close(): void {
    for (const entry of this.#pending) clearTimeout(entry.handle);
    this.#pending.clear();
    clearInterval(this.#poller);
    this.#poller = undefined;
  }

  #fire(entry: Pending): void {
    if (!this.#pending.has(entry)) return;
    this.#drop(entry);
    entry.callback();
  }

  #drop(entry: Pending): void {
    clearTimeout(entry.handle);
    this.#pending.delete(entry);
    if (this.#pending.size === 0 && this.#poller !== undefined) {
      clearInterval(this.#poller);
      this.#poller = undefined;
    }
  }

  #poll(): void {
    const now = this.now();
    const due = [...this.#pending].filter((e) => e.due <= now).sort((a, b) => a.due - b.due);
    for (const entry of due) this.#fire(entry);
  }

  /** The file's instant; on a failed re-read (a test mid-rewrite) the last good one, reported once. */
  #read(first: boolean): number {
    this.#readAt = Date.now();
    try {
      const t = parseClockFile(readFileSync(this.#path, 'utf8'), this.#path);
      this.#lastError = '';
      return t;
    } catch (err) {
      const message = err instanceof NetbootError ? err.message : `--test-clock-file ${this.#path} cannot be read: ${(err as Error).message}`;
      if (first) throw err instanceof NetbootError ? err : new NetbootError(Errors.ControllerConfigInvalid, message, { cause: err });
      if (message !== this.#lastError) this.#onError(message);
      this.#lastError = message;
      return this.#last;
    }
  }
}
