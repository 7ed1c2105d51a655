import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveClass, selectorMatches, specificity } from '../../../src/boot/match.ts';
import type { PlanClass, PlanMachine } from '../../../src/boot/plan.ts';

const cls = (name: string, spec: Partial<PlanClass['spec']>): PlanClass => ({ name, spec: { priority: 0, default: false, profile: `${name}-profile`, ...spec } });
const machine = (over: Partial<PlanMachine['spec']> = {}, labels: Record<string, string> = {}): PlanMachine =>
  ({ name: '52-54-00-12-34-56', spec: { mac: '52:54:00:12:34:56', netboot: 'allow', ...over }, labels });
const facts = { mac: '52:54:00:12:34:56', arch: 'uefi-x64' as const, vendorClass: 'PXEClient:Arch:00007:UNDI:003016', uuid: '4c4c4544-0042-3510-8052-b4c04f4d3732' };

test('selector criteria are ANDed, list entries ORed', () => {
  const cases: [string, PlanClass['spec']['selector'], boolean][] = [
    ['exact mac', { macs: ['52:54:00:12:34:56'] }, true],
    ['other mac', { macs: ['52:54:00:00:00:01'] }, false],
    ['oui', { macPrefixes: ['aa:bb:cc', '52:54:00'] }, true],
    ['oui and wrong arch', { macPrefixes: ['52:54:00'], architectures: ['bios'] }, false],
    ['arch', { architectures: ['bios', 'uefi-x64'] }, true],
    ['vendor class prefix', { vendorClassPrefixes: ['PXEClient:Arch:00007'] }, true],
    ['uuid', { uuids: ['4c4c4544-0042-3510-8052-b4c04f4d3732'] }, true],
    ['labels', { machineLabels: { matchLabels: { rack: 'r1' } } }, true],
    ['labels NotIn', { machineLabels: { matchExpressions: [{ key: 'rack', operator: 'NotIn', values: ['r1'] }] } }, false],
    ['labels DoesNotExist', { machineLabels: { matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] } }, true],
  ];
  for (const [name, sel, want] of cases) assert.equal(selectorMatches(sel, facts, { rack: 'r1' }), want, name);
});

test('priority beats specificity, specificity beats name, name breaks ties', () => {
  const classes = [
    cls('b-oui', { selector: { macPrefixes: ['52:54:00'] } }),
    cls('a-oui', { selector: { macPrefixes: ['52:54:00'] } }),
    cls('exact', { selector: { macs: ['52:54:00:12:34:56'] } }),
    cls('fallback', { default: true, priority: 100 }),
  ];
  assert.deepEqual(resolveClass(facts, undefined, classes, undefined), { kind: 'resolved', className: 'exact', profile: 'exact-profile', via: 'class selector' });
  assert.equal((resolveClass(facts, undefined, classes.slice(0, 2), undefined) as { className: string }).className, 'a-oui');
  assert.equal((resolveClass(facts, undefined, [...classes, cls('urgent', { priority: 5, selector: { architectures: ['uefi-x64'] } })], undefined) as { className: string }).className, 'urgent');
  assert.ok(specificity({ macPrefixes: ['52:54:00:12'] }) > specificity({ macPrefixes: ['52:54:00'] }));
});

test('default classes only catch what no other class matches; then the network default', () => {
  const classes = [cls('bios-only', { selector: { architectures: ['bios'] } }), cls('fallback', { default: true })];
  assert.deepEqual(resolveClass(facts, undefined, classes, 'net-default'), { kind: 'resolved', className: 'fallback', profile: 'fallback-profile', via: 'default class' });
  assert.deepEqual(resolveClass(facts, undefined, classes.slice(0, 1), 'net-default'), { kind: 'resolved', profile: 'net-default', via: 'network defaultProfile' });
  assert.equal(resolveClass(facts, undefined, classes.slice(0, 1), undefined).kind, 'unresolved');
});

test('pins on the BootMachine win over selectors', () => {
  const classes = [cls('exact', { selector: { macs: ['52:54:00:12:34:56'] } }), cls('pinned', { selector: { architectures: ['bios'] } })];
  assert.deepEqual(resolveClass(facts, machine({ machineClass: 'pinned' }), classes, undefined), { kind: 'resolved', className: 'pinned', profile: 'pinned-profile', via: 'class pinned on the BootMachine' });
  assert.deepEqual(resolveClass(facts, machine({ profile: 'special' }), classes, undefined), { kind: 'resolved', className: 'exact', profile: 'special', via: 'profile pinned on the BootMachine' });
  const missing = resolveClass(facts, machine({ machineClass: 'gone' }), classes, undefined);
  assert.equal(missing.kind, 'unresolved');
  assert.match((missing as { reason: string }).reason, /pinned MachineClass "gone" does not exist/);
});
