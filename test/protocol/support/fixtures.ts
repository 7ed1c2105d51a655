/**
 * A served root with files of awkward sizes, plus traps around it: a secret
 * file outside the root and symlinks inside it that point out.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, open, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The content of the file outside the root; a client receiving it means an escape. */
export const SECRET = 'netboot-test-secret: must never be served\n';

/** Names and sizes of the files in the root. */
export const FILES = {
  /** Not a multiple of any blksize tested. */
  odd: { name: 'odd.bin', size: 1_000_003 },
  /** Exactly 256 blocks of 512: ends with an empty DATA block. */
  exact512: { name: 'exact512.bin', size: 512 * 256 },
  /** Exactly 100 blocks of 1468 (and 8 windows of 8 with 4 left over). */
  exact1468: { name: 'sub/exact1468.bin', size: 1468 * 100 },
  small: { name: 'small.bin', size: 20_000 },
  empty: { name: 'empty.bin', size: 0 },
} as const;

/** A temporary tree: `root` is served, `outside` holds the secret next to it. */
export interface Fixture {
  readonly dir: string;
  readonly root: string;
  readonly outside: string;
  /** A scratch directory for client output. */
  readonly out: string;
  cleanup(): Promise<void>;
}

/** Builds the tree. Directories are world-readable so in.tftpd can drop to nobody. */
export async function makeFixture(): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'nb-tftp-'));
  const root = join(dir, 'root');
  const outside = join(dir, 'outside');
  const out = join(dir, 'out');
  for (const d of [root, join(root, 'sub'), join(root, 'a'), outside, out]) await mkdir(d, { recursive: true });
  await chmod(dir, 0o755);
  for (const f of Object.values(FILES)) await writeFile(join(root, f.name), randomBytes(f.size));
  await writeFile(join(outside, 'secret'), SECRET);
  await writeFile(join(dir, 'x'), SECRET);
  await symlink(join(outside, 'secret'), join(root, 'escape'));
  await symlink('../outside', join(root, 'linkdir'));
  await symlink('/etc', join(root, 'etc'));
  return { dir, root, outside, out, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Writes `size` random bytes (1 MiB at a time, to stay light on memory). */
export async function writeRandomFile(path: string, size: number): Promise<void> {
  const handle = await open(path, 'w');
  try {
    for (let at = 0; at < size; at += 1 << 20) await handle.write(randomBytes(Math.min(1 << 20, size - at)));
  } finally {
    await handle.close();
  }
  await chmod(path, 0o644);
}

/** Hex SHA-256 of a file, streamed. */
export function sha256(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path).on('data', (d) => hash.update(d)).on('error', reject).on('end', () => resolve(hash.digest('hex')));
  });
}
