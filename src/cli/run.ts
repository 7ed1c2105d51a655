/**
 * What the agent-running commands (`serve`, `agent`) share: choosing the
 * serving interface, waiting for SIGTERM/SIGINT, and turning the error a
 * command ends with into a message and an exit code (1 for a NetbootError or
 * a listener that cannot bind, 2 for a usage error).
 */
import { servingInterface } from '../agent/interfaces.ts';
import type { ServingInterface } from '../agent/interfaces.ts';
import type { NetworkSpec } from '../boot/plan.ts';
import { isNetbootError } from '../errors.ts';

/** A bad command line: printed with the usage line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The interface serving `net`: `override` (--interface), else spec.interface, else the one holding an address in spec.subnet. */
export function interfaceFor(net: NetworkSpec, override?: string): ServingInterface {
  const name = override ?? net.interface;
  return servingInterface({ subnet: net.subnet, ...(name === undefined ? {} : { interface: name }), ...(net.advertiseAddress === undefined ? {} : { advertiseAddress: net.advertiseAddress }) });
}

/** A signal that aborts at the first SIGTERM or SIGINT. */
export function stopSignal(): AbortSignal {
  const stop = new AbortController();
  const done = () => stop.abort();
  process.once('SIGTERM', done);
  process.once('SIGINT', done);
  return stop.signal;
}

/** Resolves when `signal` aborts. */
export function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/**
 * Prints what ended `command` and returns its exit code; rethrows anything
 * else (a bug, with its stack). `bindHint` follows a bind failure's message.
 */
export function exitCodeFor(command: string, usage: string, err: unknown, bindHint: string): number {
  if (isNetbootError(err)) { process.stderr.write(`netboot ${command}: ${String(err)}\n`); return 1; }
  if (err instanceof UsageError || (err instanceof Error && /needs a value|unknown option/.test(err.message))) { process.stderr.write(`netboot ${command}: ${err.message}\n${usage}\n`); return 2; }
  if (err instanceof Error && 'code' in err && (err.code === 'EACCES' || err.code === 'EADDRINUSE')) {
    process.stderr.write(`netboot ${command}: cannot bind a listener (${err.message}). ${bindHint}\n`);
    return 1;
  }
  throw err;
}
