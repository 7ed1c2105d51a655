/**
 * One in-memory copy per boot file, shared by every transfer of it. A boot
 * storm is hundreds of clients fetching the same loader: read for each
 * transfer, a 1 MiB file became thousands of short-lived read buffers and a
 * fragmented heap the allocator kept (see docs/benchmarks.md, "Boot storm
 * memory"). Bounded in total and per file; larger files are read in chunks
 * per transfer as before.
 */
import type { FileHandle } from 'node:fs/promises';
import { fileVersion } from './files.ts';

/** Size limits of a {@link FileCache}. */
export interface FileCacheLimits {
  /** Bytes held by all cached files together; past it the least recently used are dropped. */
  readonly maxBytes: number;
  /** Files larger than this are never cached. */
  readonly maxFileBytes: number;
}

export const DEFAULT_FILE_CACHE_LIMITS: FileCacheLimits = { maxBytes: 64 * 1024 * 1024, maxFileBytes: 16 * 1024 * 1024 };

/** An opened boot file as {@link BootFiles.open} returns it. */
export interface OpenedFile {
  readonly path: string;
  readonly size: number;
  readonly version: string;
  readonly handle: FileHandle;
}

type Entry = { readonly version: string; readonly size: number; readonly content: Promise<Buffer> };

/**
 * Whole-file copies keyed by resolved path, least recently used first. An
 * entry is valid for one version of its file (device, inode, size, mtime,
 * ctime from the fstat of the descriptor the request opened): a request that
 * sees another version reads the file afresh. A transfer holds the Buffer it
 * started with, so replacing or evicting an entry never changes the bytes of
 * a transfer in flight; the cap bounds the cache, and such Buffers live on
 * until their transfers end.
 */
export class FileCache {
  readonly #limits: FileCacheLimits;
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;

  constructor(limits: FileCacheLimits = DEFAULT_FILE_CACHE_LIMITS) {
    this.#limits = limits;
  }

  /**
   * The whole content of `file`, shared, or undefined when it is too large to
   * cache (read it in chunks). A miss reads through `file.handle`, which
   * must stay open until the promise settles. Rejects on a read error.
   */
  content(file: OpenedFile): Promise<Buffer> | undefined {
    if (file.size > this.#limits.maxFileBytes || file.size > this.#limits.maxBytes) return undefined;
    const cached = this.#entries.get(file.path);
    if (cached !== undefined) {
      this.#drop(file.path);
      if (cached.version === file.version) {
        this.#entries.set(file.path, cached);
        this.#bytes += cached.size;
        return cached.content;
      }
    }
    const entry: Entry = { version: file.version, size: file.size, content: readWhole(file) };
    void this.#keepIfWhole(file, entry);
    this.#entries.set(file.path, entry);
    this.#bytes += entry.size;
    for (const [path] of this.#entries) {
      if (this.#bytes <= this.#limits.maxBytes) break;
      if (path !== file.path) this.#drop(path);
    }
    return entry.content;
  }

  /** Bytes held by the cache (entries being read count in full). */
  get bytes(): number { return this.#bytes; }

  /** True when a copy of `path` is held, whatever its version. */
  has(path: string): boolean { return this.#entries.has(path); }

  #drop(path: string): void {
    const e = this.#entries.get(path);
    if (e === undefined) return;
    this.#entries.delete(path);
    this.#bytes -= e.size;
  }

  /**
   * Keeps `entry` only if the read got the whole file and the file did not
   * change while it was read (the first requester's transfer still gets what
   * was read, as reading in chunks would have given it).
   */
  async #keepIfWhole(file: OpenedFile, entry: Entry): Promise<void> {
    try {
      const buffer = await entry.content;
      if (buffer.length === file.size && fileVersion(await file.handle.stat({ bigint: true })) === file.version) return;
    } catch {
      // A read error: the requester's transfer reports it; the next request reads again.
    }
    if (this.#entries.get(file.path) === entry) this.#drop(file.path);
  }
}

/** Reads `file.size` bytes from the start; shorter if the file shrank (the transfer then ends as it would reading in chunks). */
async function readWhole(file: OpenedFile): Promise<Buffer> {
  const buffer = Buffer.allocUnsafeSlow(file.size);
  let at = 0;
  while (at < file.size) {
    const { bytesRead } = await file.handle.read(buffer, at, file.size - at, at);
    if (bytesRead === 0) break;
    at += bytesRead;
  }
  return buffer.subarray(0, at);
}
