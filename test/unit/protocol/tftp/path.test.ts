import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isInsideRoot, normaliseRequestPath } from '../../../../src/protocol/tftp/path.ts';

test('normaliseRequestPath: safe names become clean relative paths', () => {
  const cases: Array<[requested: string, path: string]> = [
    ['pxelinux.0', 'pxelinux.0'],
    ['efi/x86_64/ipxe.efi', 'efi/x86_64/ipxe.efi'],
    ['a//b/./c', 'a/b/c'],
    ['./ipxe.efi', 'ipxe.efi'],
    ['dir/', 'dir'],
    ['..foo/bar..', '..foo/bar..'],
    ['...', '...'],
    ['ünïcode.bin', 'ünïcode.bin'],
  ];
  for (const [requested, path] of cases) {
    assert.deepEqual(normaliseRequestPath(requested), { ok: true, path }, requested);
  }
});

test('normaliseRequestPath: every escape form is refused with a reason', () => {
  const cases: Array<[requested: string, reason: string]> = [
    ['', 'empty file name'],
    ['..', 'path contains a ".." segment'],
    ['../etc/passwd', 'path contains a ".." segment'],
    ['a/../../etc/passwd', 'path contains a ".." segment'],
    ['a/..', 'path contains a ".." segment'],
    ['a/../b', 'path contains a ".." segment'],
    ['/etc/passwd', 'absolute path'],
    ['//etc/passwd', 'absolute path'],
    ['..\\windows\\system32', 'file name contains a backslash'],
    ['a\\b', 'file name contains a backslash'],
    ['ipxe.efi\0.txt', 'file name contains NUL'],
    ['ipxe.efi\n2024 forged log line', 'file name contains a control character'],
    ['.', 'file name names no file'],
    ['./', 'file name names no file'],
    ['.//./', 'file name names no file'],
  ];
  for (const [requested, reason] of cases) {
    assert.deepEqual(normaliseRequestPath(requested), { ok: false, reason }, JSON.stringify(requested));
  }
});

test('isInsideRoot: containment after realpath, failing closed on odd input', () => {
  const cases: Array<[root: string, target: string, inside: boolean]> = [
    ['/srv/tftp', '/srv/tftp/ipxe.efi', true],
    ['/srv/tftp', '/srv/tftp/efi/x86_64/ipxe.efi', true],
    ['/srv/tftp/', '/srv/tftp/ipxe.efi', true],
    ['/srv/tftp', '/srv/tftp', true],
    ['/', '/anything', true],
    ['/srv/tftp', '/srv/tftp2/ipxe.efi', false], // prefix, not a parent
    ['/srv/tftp', '/srv/tft', false],
    ['/srv/tftp', '/etc/passwd', false], // a symlink that resolved out of the root
    ['/srv/tftp', '/srv/tftp/../etc/passwd', false], // not resolved: refuse
    ['/srv/tftp', '/srv/tftp/./x', false],
    ['srv/tftp', 'srv/tftp/x', false], // relative: refuse
    ['/srv/tftp', 'ipxe.efi', false],
    ['', '/srv/tftp/x', false],
    ['/srv/tftp', '/srv/tftp/x\0y', false],
  ];
  for (const [root, target, inside] of cases) {
    assert.equal(isInsideRoot(root, target), inside, `${root} ⊇ ${target}`);
  }
});
