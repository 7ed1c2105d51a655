import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderScript, renderTemplate } from '../../../src/boot/ipxe.ts';
import type { ProfileSpec } from '../../../src/boot/plan.ts';

const facts = { mac: '52:54:00:12:34:56', uuid: 'u-1', arch: 'uefi-x64', serverAddress: '10.0.0.3', httpBase: 'http://10.0.0.3:8080', labels: { rack: 'r1' } };
const profile = (ipxe: ProfileSpec['ipxe']): ProfileSpec => ({ firstStage: { bios: 'undionly.kpxe', uefiX64: 'ipxe.efi', uefiArm64: 'snp.efi', httpBoot: 'ipxe.efi' }, ipxe, bootPolicy: 'always', localBootScript: '#!ipxe\nexit\n' });

test('templates substitute machine facts, labels and a hostname fallback', () => {
  assert.deepEqual(renderTemplate('#!ipxe\necho {{ mac }} {{uuid}} {{ hostname }} {{ labels.rack }} {{ httpBase }}', facts),
    { ok: true, script: '#!ipxe\necho 52:54:00:12:34:56 u-1 52-54-00-12-34-56 r1 http://10.0.0.3:8080' });
  assert.deepEqual(renderTemplate('{{ hostname }}', { ...facts, hostname: 'node-01' }), { ok: true, script: 'node-01' });
});

test('an unknown or empty field is an error naming it, never a silent blank', () => {
  assert.deepEqual(renderTemplate('x {{ labels.gpu }} {{ nope }}', facts), { ok: false, reason: 'template field {{ labels.gpu }} has no value for 52:54:00:12:34:56' });
  assert.equal(renderTemplate('{{ uuid }}', { ...facts, uuid: undefined }).ok, false);
});

test('kernel profiles become kernel, initrd and boot lines; chain profiles a chain line', () => {
  assert.deepEqual(renderScript(profile({ kernel: '{{ httpBase }}/vmlinuz', initrds: ['{{ httpBase }}/initrd'], cmdline: 'console=ttyS0 mac={{ mac }}' }), facts),
    { ok: true, script: '#!ipxe\nkernel http://10.0.0.3:8080/vmlinuz console=ttyS0 mac=52:54:00:12:34:56\ninitrd http://10.0.0.3:8080/initrd\nboot\n' });
  assert.deepEqual(renderScript(profile({ chain: 'http://boot.example/{{ mac }}.ipxe' }), facts), { ok: true, script: '#!ipxe\nchain http://boot.example/52:54:00:12:34:56.ipxe\n' });
});
