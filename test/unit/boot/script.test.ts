import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideScript } from '../../../src/boot/script.ts';
import { labYaml, planFrom } from '../../support/dhcp.ts';

const machine = (spec: string, status = '') => `---
apiVersion: netboot.dev/v1alpha1
kind: BootMachine
metadata: {name: 52-54-00-12-34-56}
spec: {mac: "52:54:00:12:34:56", ${spec}}
${status}`;
const req = { mac: '52:54:00:12:34:56', serverAddress: '10.9.0.3', httpBase: 'http://10.9.0.3:8080' };

test('netboot: once boots once, then gets the local-disk script; allow keeps netbooting', () => {
  const fresh = decideScript(planFrom(labYaml('proxy', machine('netboot: once'))), req);
  assert.equal(fresh.kind, 'script');
  assert.deepEqual(fresh.kind === 'script' && [fresh.completes, fresh.local, fresh.script], [true, false, '#!ipxe\necho hello 52:54:00:12:34:56\n']);
  const done = decideScript(planFrom(labYaml('proxy', machine('netboot: once', 'status: {boot: {completedAt: "2026-11-23T10:00:00Z"}}'))), req);
  assert.deepEqual(done.kind === 'script' && [done.completes, done.local, done.script], [false, true, '#!ipxe\nexit\n']);
  const always = decideScript(planFrom(labYaml('proxy', machine('netboot: allow', 'status: {boot: {completedAt: "2026-11-23T10:00:00Z"}}'))), req);
  assert.deepEqual(always.kind === 'script' && always.local, false);
});

test('bootPolicy once on the profile works the same for every machine', () => {
  const yaml = labYaml('proxy', machine('netboot: allow', 'status: {boot: {completedAt: "2026-11-23T10:00:00Z"}}')).replace('  ipxe: {script:', '  bootPolicy: once\n  ipxe: {script:');
  const d = decideScript(planFrom(yaml), req);
  assert.deepEqual(d.kind === 'script' && d.script, '#!ipxe\nexit\n');
});

test('deny, unknown machines the network does not boot, and broken templates are refused with the reason', () => {
  assert.deepEqual(decideScript(planFrom(labYaml('proxy', machine('netboot: deny'))), req), { kind: 'refuse', status: 403, reason: 'BootMachine 52-54-00-12-34-56 has netboot: deny' });
  const discover = decideScript(planFrom(labYaml('proxy').replace('unknownMachines: boot', 'unknownMachines: discover')), req);
  assert.equal(discover.kind === 'refuse' && discover.status, 404);
  const broken = decideScript(planFrom(labYaml('proxy').replace('{{ mac }}', '{{ labels.rack }}')), req);
  assert.deepEqual(broken, { kind: 'refuse', status: 500, reason: 'BootProfile "hello": template field {{ labels.rack }} has no value for 52:54:00:12:34:56' });
});

test('a finished boot changes the plan digest only where "once" needs it', async () => {
  const { planDigest } = await import('../../../src/boot/plan-digest.ts');
  const done = 'status: {boot: {completedAt: "2026-11-23T10:00:00Z"}}';
  // Every boot sets completedAt; with no "once" anywhere it must not churn plan generations.
  assert.equal(planDigest(planFrom(labYaml('proxy', machine('netboot: allow', done)))), planDigest(planFrom(labYaml('proxy', machine('netboot: allow')))));
  assert.notEqual(planDigest(planFrom(labYaml('proxy', machine('netboot: once', done)))), planDigest(planFrom(labYaml('proxy', machine('netboot: once')))));
  const onceProfile = (yaml: string) => yaml.replace('  ipxe: {script:', '  bootPolicy: once\n  ipxe: {script:');
  assert.notEqual(planDigest(planFrom(onceProfile(labYaml('proxy', machine('netboot: allow', done))))), planDigest(planFrom(onceProfile(labYaml('proxy', machine('netboot: allow'))))));
});
