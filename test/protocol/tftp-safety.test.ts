/**
 * What our TFTP server refuses, and the clients no package ships: every path
 * traversal form (tftp-hpa, curl and a scripted client), write requests, the
 * tsize probe EDK2 sends, the RFC 1350 TID check, malformed packets, the
 * concurrency cap and shutdown. All on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileCache } from '../../src/agent/file-cache.ts';
import { CURL_TFTP_EXIT, curlGet, tftpHpa } from './support/clients.ts';
import type { Target } from './support/clients.ts';
import { FILES, makeFixture, SECRET } from './support/fixtures.ts';
import type { Fixture } from './support/fixtures.ts';
import { RawClient } from './support/raw-client.ts';
import { startServer } from './support/server.ts';
import type { TestServer } from './support/server.ts';
import { requireTools } from './support/tools.ts';

let fx: Fixture;
let srv: TestServer;
let target: Target;

before(async () => {
  requireTools('tftp', 'curl');
  fx = await makeFixture();
  // A long retransmit timeout keeps the scripted clients' silences meaningful.
  srv = await startServer(fx.root, { policy: { timeoutMs: 3000 } });
  target = { host: '127.0.0.1', port: srv.port };
});

after(async () => {
  await srv?.close();
  await fx?.cleanup();
});

/** Each form, and what makes it dangerous. The fixture puts a secret at ../outside/secret and ../x. */
const TRAVERSALS: ReadonlyArray<readonly [string, string]> = [
  ['../outside/secret', 'parent segment'],
  ['../x', 'parent segment to a file next to the root'],
  ['/etc/passwd', 'absolute path'],
  ['a/../../x', 'parent segments after a real directory'],
  ['sub/../../outside/secret', 'parent segments after a real directory'],
  ['..\\x', 'backslash separator (Windows-style client)'],
  ['sub\\..\\..\\x', 'backslash separators'],
  ['escape', 'symlink in the root to a file outside'],
  ['linkdir/secret', 'symlinked directory pointing outside'],
  ['etc/passwd', 'symlink to /etc'],
];

async function noEscape(local: string): Promise<void> {
  const content = await readFile(local, 'utf8').catch(() => '');
  assert.ok(!content.includes(SECRET) && !content.includes('root:'), `content from outside the root reached the client: ${content.slice(0, 60)}`);
  await rm(local, { force: true });
}

describe('path traversal is refused with ERROR 2 and serves nothing', () => {
  for (const [path, why] of TRAVERSALS) {
    it(`${JSON.stringify(path)} (${why}): scripted client sees ERROR 2 from the listener and no DATA`, async () => {
      const client = await RawClient.open();
      try {
        client.rrq(srv.port, path, [{ name: 'tsize', value: '0' }]);
        const reply = await client.next();
        assert.deepEqual({ kind: reply.packet.kind, code: reply.packet.kind === 'error' ? reply.packet.code : undefined }, { kind: 'error', code: 2 });
        assert.deepEqual(await client.drain(100), [], 'something followed the ERROR');
      } finally {
        client.close();
      }
    });

    it(`${JSON.stringify(path)}: tftp-hpa reports error code 2 and writes nothing from outside`, async () => {
      const local = join(fx.out, 'trav');
      const r = await tftpHpa(target, 'get', path, local);
      assert.equal(r.error?.code, 2, `tftp-hpa output:\n${r.stdout}${r.stderr}`);
      await noEscape(local);
    });
  }

  for (const path of ['../outside/secret', '..\\x', 'linkdir/secret', '/etc/passwd']) {
    it(`curl --path-as-is ${JSON.stringify(path)}: exit ${CURL_TFTP_EXIT[2]} (TFTP access violation)`, async () => {
      const local = join(fx.out, 'trav-curl');
      // tftp://host:port//etc/passwd sends "/etc/passwd": the first slash only ends the authority.
      const r = await curlGet(target, path, local);
      assert.equal(r.code, CURL_TFTP_EXIT[2], r.stderr);
      await noEscape(local);
    });
  }

  it('a harmless "./" and "//" still serve the file inside the root (control)', async () => {
    const local = join(fx.out, 'control');
    const r = await tftpHpa(target, 'get', `.//${FILES.small.name}`, local);
    assert.equal(r.error, undefined, r.stdout);
    assert.equal((await stat(local)).size, FILES.small.size);
    await rm(local);
  });

  it('a missing file is ERROR 1, counted as NotFound with code NB3002 in the log', async () => {
    const r = await tftpHpa(target, 'get', 'pxelinux.cfg/default', join(fx.out, 'missing'));
    assert.equal(r.error?.code, 1);
    assert.ok(srv.logs.some((l) => l.code === 'NB3002' && l.file === 'pxelinux.cfg/default'));
    assert.ok(await srv.transfers('NotFound') >= 1);
  });

  it('every refusal was logged with NB3001', async () => {
    const refused = new Set(srv.logs.filter((l) => l.code === 'NB3001').map((l) => l.file));
    for (const [path] of TRAVERSALS) assert.ok(refused.has(path), `no NB3001 log for ${path}`);
  });
});

describe('read-only', () => {
  it('tftp-hpa put gets ERROR 4 and nothing is written into the root', async () => {
    const r = await tftpHpa(target, 'put', 'uploaded.bin', join(fx.root, FILES.small.name));
    assert.equal(r.error?.code, 4, r.stdout);
    await assert.rejects(stat(join(fx.root, 'uploaded.bin')));
  });

  it('netascii is refused with ERROR 4 (it would corrupt a binary boot file)', async () => {
    const client = await RawClient.open();
    try {
      client.send({ kind: 'rrq', filename: FILES.small.name, mode: 'netascii', options: [] }, srv.port);
      const reply = await client.next();
      assert.equal(reply.packet.kind === 'error' && reply.packet.code, 4);
    } finally {
      client.close();
    }
  });
});

describe('odd clients', () => {
  it('tsize probe then ERROR 8 (EDK2): OACK from a new TID with the size, then silence, counted as TsizeProbe', async () => {
    const client = await RawClient.open();
    try {
      client.rrq(srv.port, FILES.odd.name, [{ name: 'tsize', value: '0' }, { name: 'blksize', value: '1468' }]);
      const oack = await client.next();
      assert.equal(oack.packet.kind, 'oack');
      assert.notEqual(oack.port, srv.port, 'the transfer must use its own port (TID)');
      assert.deepEqual(oack.packet.kind === 'oack' ? oack.packet.options : [], [{ name: 'tsize', value: String(FILES.odd.size) }, { name: 'blksize', value: '1468' }]);
      const eventsBefore = srv.events.length;
      client.send({ kind: 'error', code: 8, message: 'tsize only' }, oack.port);
      assert.deepEqual(await client.drain(200), [], 'the server sent something after ERROR 8');
      assert.equal(srv.server.active(), 0);
      assert.equal(await srv.transfers('TsizeProbe'), 1);
      assert.equal(srv.events.length, eventsBefore, 'a probe is not reported as a transfer');
    } finally {
      client.close();
    }
  });

  it('drops packets from another port (TID check) and malformed packets mid-transfer, then carries on', async () => {
    const client = await RawClient.open();
    const stranger = await RawClient.open();
    try {
      client.rrq(srv.port, FILES.small.name);
      const first = await client.next();
      assert.deepEqual(first.packet.kind === 'data' && [first.packet.block, first.packet.data.length], [1, 512]);
      stranger.send({ kind: 'ack', block: 1 }, first.port);
      client.send(new Uint8Array([0, 4]), first.port); // ACK without a block number
      client.send(new Uint8Array([0, 99, 0, 1]), first.port); // unknown opcode
      assert.deepEqual(await client.drain(150), [], 'a foreign or malformed ACK moved the transfer on');
      assert.deepEqual(await stranger.drain(0), []);
      client.send({ kind: 'ack', block: 1 }, first.port);
      const second = await client.next();
      assert.equal(second.packet.kind === 'data' && second.packet.block, 2);
      assert.equal(second.port, first.port);
      client.send({ kind: 'error', code: 0, message: 'enough' }, first.port);
    } finally {
      client.close();
      stranger.close();
    }
  });

  it('a file read in chunks (over the cache\'s per-file cap) that shrinks mid-transfer ends it with ERROR 0, never with short or stale blocks', async () => {
    const file = join(fx.root, 'shrinking.bin');
    await writeFile(file, randomBytes(512 * 600));
    const cache = new FileCache({ maxBytes: 1 << 20, maxFileBytes: 64 * 1024 });
    const chunked = await startServer(fx.root, { cache, policy: { timeoutMs: 3000 } });
    const client = await RawClient.open();
    try {
      client.rrq(chunked.port, 'shrinking.bin');
      let got = await client.next();
      await truncate(file, 1000);
      // Blocks already read ahead may still go out; once a read comes back short the transfer must stop.
      while (got.packet.kind === 'data') {
        assert.equal(got.packet.data.length, 512, `block ${got.packet.block} is short: the server sent a partial file as if complete`);
        client.send({ kind: 'ack', block: got.packet.block }, got.port);
        got = await client.next();
      }
      assert.equal(got.packet.kind === 'error' && got.packet.code, 0);
      assert.match(got.packet.kind === 'error' ? got.packet.message : '', /shrank/);
      assert.equal(cache.has(join(fx.root, 'shrinking.bin')), false, 'the file was not served from the cache');
    } finally {
      client.close();
      await chunked.close();
    }
  });

  it('a cached file rewritten mid-transfer: the transfer keeps the bytes it started with, the next request gets the new file', async () => {
    const name = 'rewritten.bin';
    const file = join(fx.root, name);
    const before = randomBytes(512 * 300 + 7);
    const after = randomBytes(512 * 300 + 7);
    await writeFile(file, before);
    const client = await RawClient.open();
    try {
      client.rrq(srv.port, name);
      let got = await client.next();
      // Same size, same inode (written in place) and then a new inode (renamed over): neither reaches this transfer.
      await writeFile(file, after);
      await writeFile(`${file}.new`, randomBytes(100));
      await rename(`${file}.new`, file);
      const received: Uint8Array[] = [];
      while (got.packet.kind === 'data') {
        received.push(got.packet.data);
        client.send({ kind: 'ack', block: got.packet.block }, got.port);
        if (got.packet.data.length < 512) break;
        got = await client.next();
      }
      assert.ok(Buffer.concat(received).equals(before), 'the transfer in flight mixed old and new bytes');
      await writeFile(file, after);
      const r = await tftpHpa(target, 'get', name, join(fx.out, 'rewritten'));
      assert.equal(r.error, undefined, r.stdout);
      assert.ok((await readFile(join(fx.out, 'rewritten'))).equals(after), 'the changed file was served stale from the cache');
    } finally {
      client.close();
    }
  });

  it('ignores garbage and non-request packets on the listener, logging NB2001, and keeps serving', async () => {
    const client = await RawClient.open();
    try {
      const garbage = [new Uint8Array([1]), new Uint8Array([0, 1, 0x61]), new Uint8Array([0, 9, 1, 2]), new Uint8Array([0, 1, 0xff, 0, 0x6f, 0x63, 0x74, 0x65, 0x74, 0])];
      for (const g of garbage) client.send(g, srv.port);
      client.send({ kind: 'ack', block: 1 }, srv.port);
      client.send({ kind: 'data', block: 1, data: new Uint8Array(4) }, srv.port);
      assert.deepEqual(await client.drain(150), []);
      assert.ok(srv.logs.filter((l) => l.code === 'NB2001').length >= garbage.length);
    } finally {
      client.close();
    }
    const r = await tftpHpa(target, 'get', FILES.small.name, join(fx.out, 'after-garbage'));
    assert.equal(r.error, undefined, r.stdout);
  });
});

describe('concurrency cap and shutdown', () => {
  it('past maxTransfers answers ERROR 0 "server busy" at once; a freed slot serves again', async () => {
    const capped = await startServer(fx.root, { maxTransfers: 2, policy: { timeoutMs: 5000 } });
    const stalled = await Promise.all([RawClient.open(), RawClient.open()]);
    try {
      const tids: number[] = [];
      for (const c of stalled) {
        c.rrq(capped.port, FILES.odd.name, [{ name: 'blksize', value: '1468' }]);
        tids.push((await c.next()).port); // the OACK, left unanswered
      }
      assert.equal(capped.server.active(), 2);
      const busy = await tftpHpa({ host: '127.0.0.1', port: capped.port }, 'get', FILES.small.name, join(fx.out, 'busy'));
      assert.deepEqual(busy.error, { code: 0, message: 'server busy' });
      assert.ok(busy.ms < 1000, `busy answer took ${Math.round(busy.ms)} ms`);
      assert.ok(capped.logs.some((l) => l.code === 'NB3003'));
      assert.equal(await capped.transfers('Busy'), 1);

      stalled.forEach((c, i) => c.send({ kind: 'error', code: 0, message: 'giving up' }, tids[i] ?? 0));
      for (let i = 0; i < 50 && capped.server.active() > 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(capped.server.active(), 0);
      const served = await tftpHpa({ host: '127.0.0.1', port: capped.port }, 'get', FILES.small.name, join(fx.out, 'served'));
      assert.equal(served.error, undefined, served.stdout);
      assert.equal((await stat(join(fx.out, 'served'))).size, FILES.small.size);
    } finally {
      for (const c of stalled) c.close();
      await capped.close();
    }
  });

  it('close() aborts running transfers with ERROR 0 and returns promptly', async () => {
    const doomed = await startServer(fx.root, { policy: { timeoutMs: 5000 } });
    const client = await RawClient.open();
    try {
      client.rrq(doomed.port, FILES.odd.name);
      const data = await client.next();
      assert.equal(data.packet.kind, 'data');
      const started = performance.now();
      await doomed.close();
      assert.ok(performance.now() - started < 500);
      const bye = await client.next();
      assert.equal(bye.packet.kind === 'error' && bye.packet.message, 'server shutting down');
      assert.equal(doomed.server.active(), 0);
      assert.equal(await doomed.transfers('Aborted'), 1);
    } finally {
      client.close();
    }
  });
});
