/**
 * Where a TFTP transfer's DATA payloads come from: one Buffer holding the
 * whole file (a shared cached copy, or a generated file), or positional
 * reads of chunks for files too large to cache.
 */
import type { FileHandle } from 'node:fs/promises';
import type { TransferPlan } from '../protocol/tftp/index.ts';

/** Where a transfer's DATA payloads come from: a shared whole-file copy or chunked reads. */
export interface BlockSource {
  /** The `length` bytes at `offset` if in memory, else undefined: wait for {@link load}. Throws when the file shrank. */
  block(offset: number, length: number): Uint8Array | undefined;
  /** Resolves once the bytes at `offset` are in memory; rejects on a read error. */
  load(offset: number): Promise<void>;
}

/** A file served from one Buffer: a shared cached copy, or a generated file. */
export class WholeFile implements BlockSource {
  #content: Uint8Array | undefined;
  readonly #ready: Promise<void>;

  constructor(content: Uint8Array | Promise<Uint8Array>) {
    if (content instanceof Uint8Array) {
      this.#content = content;
      this.#ready = Promise.resolve();
    } else {
      this.#ready = content.then((c) => { this.#content = c; });
    }
  }

  block(offset: number, length: number): Uint8Array | undefined {
    const c = this.#content;
    if (c === undefined) return undefined;
    if (offset + length > c.length) throw new Error('file shrank while being sent');
    return c.subarray(offset, offset + length);
  }

  load(_offset: number): Promise<void> {
    return this.#ready;
  }
}

/** Bytes read ahead per transfer at least; large enough that a thread-pool read is rare, small enough for 64 transfers. */
const CHUNK_TARGET = 128 * 1024;

type Chunk = { buffer?: Buffer; readonly read: Promise<void> };

/**
 * Positional reads of whole chunks of blocks, with the next chunk read ahead:
 * one thread-pool round trip per chunk instead of per block, and at most
 * three chunks in memory whatever the file size. Chunks are whole multiples
 * of blksize and at least a window, so a block never straddles two, and a
 * go-back-N resend finds its blocks in the current or previous chunk.
 */
export class BlockReader implements BlockSource {
  readonly #handle: FileHandle;
  readonly #size: number;
  readonly #chunk: number;
  readonly #chunks = new Map<number, Chunk>();

  constructor(handle: FileHandle, plan: TransferPlan) {
    this.#handle = handle;
    this.#size = plan.size;
    this.#chunk = plan.blksize * Math.max(plan.windowsize, Math.ceil(CHUNK_TARGET / plan.blksize));
  }

  /**
   * The `length` bytes at `offset` if their chunk is in memory (then the next
   * chunk starts loading), else undefined: call {@link load}. Throws when the
   * file shrank since it was opened.
   */
  block(offset: number, length: number): Uint8Array | undefined {
    const index = Math.floor(offset / this.#chunk);
    const buffer = this.#chunks.get(index)?.buffer;
    if (buffer === undefined) return undefined;
    if ((index + 1) * this.#chunk < this.#size && !this.#chunks.has(index + 1)) this.#start(index + 1);
    const at = offset - index * this.#chunk;
    if (at + length > buffer.length) throw new Error('file shrank while being sent');
    return buffer.subarray(at, at + length);
  }

  /** Resolves once the chunk holding `offset` is in memory; rejects on a read error. */
  load(offset: number): Promise<void> {
    const index = Math.floor(offset / this.#chunk);
    return (this.#chunks.get(index) ?? this.#start(index)).read;
  }

  #start(index: number): Chunk {
    // Keep the chunk before the current one for go-back-N resends; anything older is done with.
    for (const old of this.#chunks.keys()) if (old < index - 2) this.#chunks.delete(old);
    const start = index * this.#chunk;
    const want = Math.max(0, Math.min(this.#chunk, this.#size - start));
    const read = this.#handle.read(Buffer.allocUnsafe(want), 0, want, start).then((r) => {
      chunk.buffer = r.buffer.subarray(0, r.bytesRead);
    });
    const chunk: Chunk = { read };
    // A read-ahead nobody waits for may fail (the transfer ended and closed the file); that is not an error.
    read.catch(() => {});
    this.#chunks.set(index, chunk);
    return chunk;
  }
}
