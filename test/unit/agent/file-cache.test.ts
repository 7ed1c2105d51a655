/**
 * The shared boot-file cache against real files: one copy per file version,
 * a changed file read afresh, LRU eviction under the total cap, large files
 * left to chunked reads.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileCache } from '../../../src/agent/file-cache.ts';
import { BootFiles } from '../../../src/agent/files.ts';
import type { FileLookup } from '../../../src/agent/files.ts';

let dir: string;
let files: BootFiles;
const handles: FileLookup[] = [];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'netboot-cache-'));
  files = new BootFiles([dir]);
});

after(async () => {
  for (const h of handles) if (h.ok) await h.handle.close().catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

/** Opens `name` as a TFTP request would; handles stay open until the end, as a transfer's would. */
async function opened(name: string) {
  const found = await files.open(name);
  assert.ok(found.ok, found.ok ? '' : found.reason);
  handles.push(found);
  return found;
}

test('requests of one file version share one copy; a file rewritten in place (same inode and size) is read afresh', async () => {
  const cache = new FileCache({ maxBytes: 1 << 20, maxFileBytes: 1 << 20 });
  const first = randomBytes(4096);
  writeFileSync(join(dir, 'a.bin'), first);
  const one = cache.content(await opened('a.bin'));
  const two = cache.content(await opened('a.bin'));
  assert.ok(one !== undefined && two !== undefined);
  assert.equal(one, two, 'a second request while the first read is pending shares it');
  assert.ok((await one).equals(first));
  assert.equal(await cache.content(await opened('a.bin')), await one, 'later requests get the same Buffer');
  assert.equal(cache.bytes, 4096);

  const second = randomBytes(4096);
  writeFileSync(join(dir, 'a.bin'), second); // same inode, same size
  const three = await cache.content(await opened('a.bin'));
  assert.ok(three?.equals(second), 'a file written in place was served stale');
  assert.ok((await one).equals(first), 'the Buffer a transfer already holds is not touched');
  assert.equal(cache.bytes, 4096, 'the old version is no longer counted');
});

test('past the total cap the least recently used file is dropped; files over the per-file cap are not cached', async () => {
  const cache = new FileCache({ maxBytes: 3000, maxFileBytes: 1500 });
  for (const n of ['1', '2', '3', '4', 'big']) writeFileSync(join(dir, `${n}.bin`), randomBytes(n === 'big' ? 1501 : 1000));
  const path = (n: string) => join(dir, `${n}.bin`);
  await cache.content(await opened('1.bin'));
  await cache.content(await opened('2.bin'));
  await cache.content(await opened('3.bin'));
  assert.equal(cache.bytes, 3000);
  await cache.content(await opened('1.bin')); // 1 is now the most recently used
  const four = cache.content(await opened('4.bin'));
  assert.ok(four !== undefined);
  assert.equal((await four).length, 1000);
  assert.deepEqual(['1', '2', '3', '4'].map((n) => cache.has(path(n))), [true, false, true, true], 'the least recently used (2) was evicted');
  assert.equal(cache.bytes, 3000);
  assert.equal(cache.content(await opened('big.bin')), undefined, 'over the per-file cap: read in chunks instead');
  assert.equal(cache.has(path('big')), false);
});

test('a read error is not cached: the next request reads again', async () => {
  const cache = new FileCache({ maxBytes: 1 << 20, maxFileBytes: 1 << 20 });
  writeFileSync(join(dir, 'e.bin'), randomBytes(100));
  const broken = await opened('e.bin');
  await broken.handle.close();
  await assert.rejects(cache.content(broken) ?? Promise.resolve());
  await new Promise((r) => setImmediate(r));
  assert.equal(cache.has(broken.path), false);
  assert.equal((await cache.content(await opened('e.bin')))?.length, 100);
});
