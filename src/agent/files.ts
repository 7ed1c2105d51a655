/**
 * Boot files: what TFTP and HTTP may serve. A request resolves against the
 * configured root first, then the built-in iPXE directory (Debian's ipxe
 * package), and never outside either: lexical escapes are refused before the
 * filesystem is touched, symlinks out of a root after realpath.
 */
import { open, realpath, stat } from 'node:fs/promises';
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

/** An open boot file, or why the request is refused. */
export type FileLookup =
  | { readonly ok: true; readonly path: string; readonly size: number; readonly handle: FileHandle }
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
      const info = await stat(target);
      if (!info.isFile()) return { ok: false, notFound: true, reason: `${requested} is not a regular file` };
      return { ok: true, path: target, size: info.size, handle: await open(target, 'r') };
    }
    return { ok: false, notFound: true, reason: `${requested} not found` };
  }
}
