import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILTIN_IPXE_DIR, BootFiles } from '../../../src/agent/files.ts';

test('the built-in iPXE directory serves Debian\'s ipxe.efi, a link out of it to /boot/ipxe.efi', async () => {
  const link = join(BUILTIN_IPXE_DIR, 'ipxe.efi');
  // Debian 12's ipxe package: /usr/lib/ipxe/ipxe.efi -> /boot/ipxe.efi (the default UEFI loader).
  assert.ok(lstatSync(link).isSymbolicLink(), `${link} is expected to be Debian's symlink; install the ipxe package`);
  const found = await new BootFiles([BUILTIN_IPXE_DIR]).open('ipxe.efi');
  assert.ok(found.ok, found.ok ? '' : found.reason);
  assert.equal(found.path, readlinkSync(link));
  await found.handle.close();
});

test('a configured root still refuses a symlink that points out of it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netboot-files-'));
  try {
    mkdirSync(join(dir, 'root'));
    writeFileSync(join(dir, 'secret'), 'x');
    symlinkSync(join(dir, 'secret'), join(dir, 'root', 'escape'));
    const found = await new BootFiles([join(dir, 'root'), BUILTIN_IPXE_DIR]).open('escape');
    assert.equal(found.ok, false);
    assert.match(found.ok ? '' : found.reason, /outside the served root/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a FIFO or a directory in the root is refused without hanging; the type comes from the opened descriptor', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'netboot-files-'));
  try {
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    mkdirSync(join(dir, 'sub'));
    const files = new BootFiles([dir]);
    for (const name of ['fifo', 'sub']) {
      // Opening a FIFO for reading blocks until a writer comes unless O_NONBLOCK: this would never settle.
      const found = await files.open(name);
      assert.deepEqual(found, { ok: false, notFound: true, reason: `${name} is not a regular file` });
    }
    writeFileSync(join(dir, 'f'), 'abc');
    const found = await files.open('f');
    assert.ok(found.ok);
    assert.equal(found.size, 3);
    const version = found.version;
    await found.handle.close();
    writeFileSync(join(dir, 'f'), 'xyz');
    const again = await files.open('f');
    assert.ok(again.ok);
    assert.notEqual(again.version, version, 'a rewritten file has a new version');
    await again.handle.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
