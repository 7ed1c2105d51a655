/** `netboot status [--state DIR]`: the machines a standalone agent has seen, as a table. */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readMachinesFile } from '../store/file.ts';
import type { BootMachine } from '../api/v1alpha1/bootmachine.ts';
import { last, parseArgs } from './args.ts';

/** One table row per machine: MAC, class, phase, last event, why it stopped. */
export function statusRows(machines: readonly BootMachine[]): string[][] {
  return machines.map((m) => {
    const boot = m.status?.boot;
    const lastEvent = boot?.history?.at(-1);
    return [
      m.spec.mac,
      m.status?.machineClass ?? (m.status?.profile === undefined ? '-' : `(profile ${m.status.profile})`),
      boot?.phase ?? '-',
      lastEvent === undefined ? '-' : `${lastEvent.time} ${lastEvent.event}${lastEvent.detail === undefined ? '' : ` ${lastEvent.detail}`}`,
      boot?.stoppedReason ?? '',
    ];
  });
}

/** Formats rows under a header with columns padded to their widest cell. */
export function table(header: readonly string[], rows: readonly string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n') + '\n';
}

export function runStatus(args: readonly string[], out: NodeJS.WritableStream = process.stdout): number {
  const parsed = parseArgs(args, { '--state': 'state' }, []);
  const given = last(parsed, 'state');
  const dirs = given !== undefined ? [given] : existsSync('.netboot-state') ? readdirSync('.netboot-state').map((d) => join('.netboot-state', d)) : [];
  if (dirs.length === 0) {
    out.write('no state found: run `netboot serve` first, or pass --state DIR\n');
    return 1;
  }
  for (const dir of dirs) {
    if (dirs.length > 1) out.write(`== ${dir}\n`);
    out.write(table(['MAC', 'CLASS', 'PHASE', 'LAST EVENT', 'WHY STOPPED'], statusRows(readMachinesFile(dir))));
  }
  return 0;
}
