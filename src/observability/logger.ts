/**
 * Structured logs (pino). Level from NETBOOT_LOG_LEVEL (default info);
 * dropped packets log at debug with their reason, so a busy segment does not
 * flood the log but `NETBOOT_LOG_LEVEL=debug` explains every silence.
 */
import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger };

/** A logger writing JSON lines to stderr (stdout is for command output). */
export function createLogger(name: string, level = process.env['NETBOOT_LOG_LEVEL'] ?? 'info'): Logger {
  return pino({ name, level, base: { component: name } }, pino.destination(2));
}
