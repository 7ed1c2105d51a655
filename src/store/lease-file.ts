/**
 * The DHCP lease table on disk, shared by both stores: JSON, replaced
 * atomically (write a temporary file, then rename) so a crash mid-write
 * leaves the previous table, never half of one. The agent awaits the write
 * before it answers, so an address is never offered twice across restarts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import type { Lease } from '../boot/leases.ts';

/** The leases in `file`, or none when it does not exist yet. */
export function readLeaseFile(file: string): Lease[] {
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) as Lease[] : [];
}

/** Replaces `file` with `leases`; resolves once the rename is done. */
export async function writeLeaseFile(file: string, leases: readonly Lease[]): Promise<void> {
  await writeFile(`${file}.tmp`, JSON.stringify(leases, null, 1));
  await rename(`${file}.tmp`, file);
}
