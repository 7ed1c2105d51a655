import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { emitYaml } from '../../../src/store/emit.ts';

test('emitted YAML parses back to exactly the same data, tricky strings included', () => {
  const value = {
    apiVersion: 'netboot.dev/v1alpha1', kind: 'BootMachine',
    metadata: { name: '52-54-00-12-34-56', labels: { 'netboot.dev/discovered': 'true', 'a key: with colon': 'yes' }, annotations: {} },
    spec: { mac: '52:54:00:12:34:56', netboot: 'allow', n: 0, f: 1.5, t: true, nothing: null },
    status: {
      conditions: [],
      boot: { history: [{ time: '2026-11-23T10:00:00Z', event: 'Discover', detail: 'quote " backslash \\ newline \n tab \t # not a comment: - [x] {y} *z &w !v %u @t `s' }, { event: 'no', detail: 'yes' }],
        firmware: { arch: 'bios' }, odd: ['null', '~', 'true', '0x10', '1e3', '', ' lead', 'tail ', 'ünïcödé', [1, [2]], { deep: { er: ['x'] } }] },
    },
  };
  const text = emitYaml(value);
  assert.deepEqual(parse(text), value);
  assert.match(text, /^apiVersion: "netboot\.dev\/v1alpha1"\nkind: "BootMachine"\nmetadata:\n  name: "52-54-00-12-34-56"\n/);
});

test('undefined fields are left out, as JSON would', () => {
  assert.deepEqual(parse(emitYaml({ a: 1, b: undefined, c: { d: undefined } })), { a: 1, c: {} });
});
