/**
 * Boot files: what TFTP and HTTP may serve. A request resolves against the
 * configured root first, then the built-in iPXE directory (Debian's ipxe
 * package), and never outside either: lexical escapes are refused before the
 * filesystem is touched, symlinks out of a root after realpath. The file
 * checked is the file served: it is opened by its resolved path without
 * following a link there, and its type and size come from the open
 * descriptor (fstat), so swapping the path between check and use serves
 * nothing the check did not see.
 */
import { constants } from 'node:fs';
import type { BigIntStats } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { isInsideRoot, normaliseRequestPath } from '../protocol/tftp/index.ts';

/** Where Debian's ipxe package puts undionly.kpxe, ipxe.efi, snponly.efi. */
export const BUILTIN_IPXE_DIR = '/usr/lib/ipxe';

/**
 * Roots whose own symlinks may point outside them: the distribution's package
 * directory, which only root can write (Debian 12 installs
 * /usr/lib/ipxe/ipxe.efi as a link to /boot/ipxe.efi, the default UEFI loader).
 * A configured root never is: a symlink out of it is refused.
 */
const LINKS_TRUSTED = new Set([BUILTIN_IPXE_DIR]);

/**
 * O_NOFOLLOW: the resolved path's last component was no link when checked; if it became one since, fail
 * rather than follow it. O_NONBLOCK: a FIFO put in the root must not hang the open (fstat then refuses it).
 */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** The identity of a file's content from its (f)stat: it changes whenever the file is replaced or written. */
export function fileVersion(s: BigIntStats): string {
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
}

/** An open boot file, or why the request is refused. */
export type FileLookup =
  | {
    readonly ok: true;
    readonly path: string;
    readonly size: number;
    /** Identity of this content (device, inode, size, mtime, ctime of the open file): it changes when the file does. */
    readonly version: string;
    readonly handle: FileHandle;
  }
  | { readonly ok: false; readonly notFound: boolean; readonly reason: string };

/** Serves files from `roots`, in order. Each root is resolved once. */
export class BootFiles {
  readonly #roots: Promise<{ root: string; linksTrusted: boolean }[]>;

  constructor(roots: readonly string[]) {
    this.#roots = Promise.all(roots.map(async (r) => ({ root: await realpath(r).catch(() => ''), linksTrusted: LINKS_TRUSTED.has(r) })))
      .then((resolved) => resolved.filter((r) => r.root !== ''));
  }

  /** Opens `requested` for reading; the caller closes the handle. */
  async open(requested: string): Promise<FileLookup> {
    const normal = normaliseRequestPath(requested);
    if (!normal.ok) return { ok: false, notFound: false, reason: normal.reason };
    for (const { root, linksTrusted } of await this.#roots) {
      let target: string;
      try {
        target = await realpath(join(root, normal.path));
      } catch {
        continue;
      }
      if (!linksTrusted && !isInsideRoot(root, target)) return { ok: false, notFound: false, reason: `${requested} resolves outside the served root` };
      const handle = await open(target, OPEN_FLAGS);
      try {
        const info = await handle.stat({ bigint: true });
        if (!info.isFile()) {
          await handle.close();
          return { ok: false, notFound: true, reason: `${requested} is not a regular file` };
        }
        return { ok: true, path: target, size: Number(info.size), version: fileVersion(info), handle };
      } catch (err) {
        await handle.close().catch(() => {});
        throw err;
      }
    }
    return { ok: false, notFound: true, reason: `${requested} not found` };
  }
}
