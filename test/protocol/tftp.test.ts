/**
 * Our TFTP server against the real clients of Debian (tftp-hpa, atftp, curl)
 * on 127.0.0.1: every block size firmware asks for, RFC 7440 windows, block
 * number rollover, and a 20 MiB transfer compared by SHA-256 (read in chunks,
 * over the shared cache's per-file cap; smaller files come from the cache). Path safety,
 * the concurrency cap and odd clients are in tftp-safety.test.ts; packet loss
 * in tftp-loss.test.ts.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileCache } from '../../src/agent/file-cache.ts';
import { atftpGet, curlGet, tftpHpa } from './support/clients.ts';
import type { Target } from './support/clients.ts';
import { FILES, makeFixture, sha256, writeRandomFile } from './support/fixtures.ts';
import type { Fixture } from './support/fixtures.ts';
import { startServer } from './support/server.ts';
import type { TestServer } from './support/server.ts';
import { requireTools } from './support/tools.ts';
import type { RunResult } from './support/tools.ts';

let fx: Fixture;
let srv: TestServer;
let target: Target;
const cache = new FileCache();

before(async () => {
  requireTools('tftp', 'atftp', 'curl');
  fx = await makeFixture();
  srv = await startServer(fx.root, { cache });
  target = { host: '127.0.0.1', port: srv.port };
});

after(async () => {
  await srv?.close();
  await fx?.cleanup();
});

function ok(r: RunResult, what: string): void {
  assert.equal(r.code, 0, `${what} failed (exit ${r.code ?? r.signal}):\n${r.stdout}${r.stderr}`);
}

/** Fetches `file` with `get` and checks the copy is byte-identical; returns the server's log of that transfer. */
async function fetchAndCompare(file: string, local: string, get: () => Promise<RunResult>): Promise<Record<string, unknown>> {
  const before = srv.finished().length;
  const r = await get();
  ok(r, `fetching ${file}`);
  assert.equal(await sha256(join(fx.out, local)), await sha256(join(fx.root, file)), `${file}: client copy differs`);
  await rm(join(fx.out, local));
  const entry = srv.finished().slice(before).find((l) => l.file === file);
  assert.ok(entry !== undefined, `no server log for ${file}`);
  assert.equal(entry.result, 'Complete');
  return entry;
}

describe('block sizes, real clients', () => {
  const cases: Array<{ client: string; file: string; blksize: number; get: (file: string, local: string) => Promise<RunResult> }> = [
    { client: 'tftp-hpa (RFC 1350, no options)', file: FILES.odd.name, blksize: 512, get: (f, l) => tftpHpa(target, 'get', f, l) },
    { client: 'tftp-hpa, empty last block', file: FILES.exact512.name, blksize: 512, get: (f, l) => tftpHpa(target, 'get', f, l) },
    { client: 'tftp-hpa, empty file', file: FILES.empty.name, blksize: 512, get: (f, l) => tftpHpa(target, 'get', f, l) },
    { client: 'curl --tftp-blksize 512', file: FILES.odd.name, blksize: 512, get: (f, l) => curlGet(target, f, l, { blksize: 512 }) },
    { client: 'curl --tftp-blksize 1468', file: FILES.odd.name, blksize: 1468, get: (f, l) => curlGet(target, f, l, { blksize: 1468 }) },
    { client: 'curl --tftp-blksize 8192', file: FILES.odd.name, blksize: 8192, get: (f, l) => curlGet(target, f, l, { blksize: 8192 }) },
    { client: 'atftp blksize 1468, subdirectory, exact multiple', file: FILES.exact1468.name, blksize: 1468, get: (f, l) => atftpGet(target, f, l, { blksize: 1468 }) },
    { client: 'atftp blksize 8192 + tsize', file: FILES.odd.name, blksize: 8192, get: (f, l) => atftpGet(target, f, l, { blksize: 8192, tsize: true }) },
  ];
  for (const c of cases) {
    it(`${c.client}: ${c.file} at blksize ${c.blksize}`, async () => {
      const local = join(fx.out, 'copy');
      const entry = await fetchAndCompare(c.file, 'copy', () => c.get(c.file, local));
      assert.equal(entry.blksize, c.blksize);
      assert.equal(entry.windowsize, 1);
    });
  }

  it('curl asking blksize 65464 gets the policy maximum (8192) and still a correct file', async () => {
    const entry = await fetchAndCompare(FILES.odd.name, 'copy', () => curlGet(target, FILES.odd.name, join(fx.out, 'copy'), { blksize: 65464 }));
    assert.equal(entry.blksize, 8192);
  });
});

describe('windowsize (RFC 7440), atftp: the only Debian client that asks for it', () => {
  for (const [file, blksize] of [[FILES.odd.name, 1468], [FILES.exact1468.name, 1468], [FILES.odd.name, 512], [FILES.small.name, 8192]] as const) {
    it(`windowsize 8, blksize ${blksize}: ${file}`, async () => {
      const entry = await fetchAndCompare(file, 'copy', () => atftpGet(target, file, join(fx.out, 'copy'), { blksize, windowsize: 8 }));
      assert.equal(entry.windowsize, 8, 'the server did not run the transfer with windowsize 8');
      assert.equal(entry.blksize, blksize);
    });
  }
});

describe('block number rollover past 65535', () => {
  it('curl at blksize 64 fetches a 4.5 MiB file (73,729 blocks, wire block 0 after 65535)', async () => {
    const file = 'wrap.bin';
    await writeRandomFile(join(fx.root, file), 64 * 73_728 + 17);
    const entry = await fetchAndCompare(file, 'wrap', () => curlGet(target, file, join(fx.out, 'wrap'), { blksize: 64 }));
    assert.equal(entry.bytes, 64 * 73_728 + 17);
  });
});

describe('20 MiB', () => {
  const file = 'big.bin';
  const size = 20 * 1024 * 1024;
  before(() => writeRandomFile(join(fx.root, file), size));

  it('atftp, blksize 1468, windowsize 8: identical SHA-256', async () => {
    const entry = await fetchAndCompare(file, 'big', () => atftpGet(target, file, join(fx.out, 'big'), { blksize: 1468, windowsize: 8, timeoutMs: 120_000 }));
    assert.equal(entry.bytes, size);
    assert.equal(cache.has(join(fx.root, file)), false, 'a file over the per-file cap is streamed in chunks, not cached');
  });

  it('tftp-hpa, lock-step 512: identical SHA-256', async () => {
    const entry = await fetchAndCompare(file, 'big', () => tftpHpa(target, 'get', file, join(fx.out, 'big'), { timeoutMs: 120_000 }));
    assert.equal(entry.bytes, size);
  });

  it('curl, blksize 8192: identical SHA-256, and the metrics count the bytes', async () => {
    const bytesBefore = (await srv.metrics.tftpBytes.get()).values[0]?.value ?? 0;
    await fetchAndCompare(file, 'big', () => curlGet(target, file, join(fx.out, 'big'), { blksize: 8192, timeoutMs: 120_000 }));
    const bytesAfter = (await srv.metrics.tftpBytes.get()).values[0]?.value ?? 0;
    assert.equal(bytesAfter - bytesBefore, size);
  });
});

describe('after the transfers', () => {
  it('has no transfer left running, and reported each finished transfer once', async () => {
    assert.equal(srv.server.active(), 0);
    const completed = srv.events.filter((e) => e.ok);
    assert.equal(completed.length, await srv.transfers('Complete'));
    assert.ok(completed.every((e) => e.client === '127.0.0.1' && e.clientPort > 0 && e.ms >= 0));
    assert.ok(cache.has(join(fx.root, FILES.odd.name)), 'the files under the cap were served from the shared copy');
  });
});
