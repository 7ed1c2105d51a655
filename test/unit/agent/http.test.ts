import { test } from 'node:test';
import assert from 'node:assert/strict';
import { archOf } from '../../../src/agent/http.ts';
import { scriptUrl } from '../../../src/boot/bootfile.ts';

test('the arch in the script URL we hand out is understood when iPXE fetches it (and iPXE\'s own form too)', () => {
  const url = new URL(scriptUrl('10.9.0.3', 8080, { mac: '52:54:00:12:34:56', arch: 'uefi-x64' }));
  assert.equal(archOf(url.searchParams.get('arch')), 'uefi-x64');
  assert.equal(archOf('bios'), 'bios');
  assert.equal(archOf('x86_64-pcbios'), 'bios');
  assert.equal(archOf('x86_64-efi'), 'uefi-x64');
  assert.equal(archOf('sparc'), undefined);
  assert.equal(archOf(null), undefined);
});
