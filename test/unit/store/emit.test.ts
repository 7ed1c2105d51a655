import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { DOCUMENT_SEPARATOR, emitYaml, YamlStream } from '../../../src/store/emit.ts';

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

test('YamlStream: the pieces join to the fresh emission; only replaced items are re-emitted; dropped items are forgotten', async () => {
  const emitted: string[] = [];
  const stream = new YamlStream<{ name: string; n: number }>((doc) => { emitted.push(doc.name as string); return emitYaml(doc); });
  const fresh = (items: ReadonlyArray<{ name: string; n: number }>) => items.map((i) => emitYaml({ ...i })).join(DOCUMENT_SEPARATOR);
  let items = [{ name: 'a', n: 1 }, { name: 'b', n: 2 }, { name: 'c', n: 3 }];
  const render = async () => Buffer.concat(await stream.render(items.map((i) => [i.name, i] as const), (i) => ({ ...i }))).toString('utf8');

  assert.equal(await render(), fresh(items));
  assert.deepEqual(emitted.splice(0), ['a', 'b', 'c']);
  assert.equal(await render(), fresh(items));
  assert.deepEqual(emitted.splice(0), [], 'same objects: nothing emitted');

  items = [items[0], { name: 'b', n: 20 }, items[2]].filter((i) => i !== undefined);
  assert.equal(await render(), fresh(items));
  assert.deepEqual(emitted.splice(0), ['b']);

  items = items.filter((i) => i.name !== 'a');
  assert.equal(await render(), fresh(items));
  items = [{ name: 'a', n: 1 }, ...items];
  assert.equal(await render(), fresh(items));
  assert.deepEqual(emitted.splice(0), ['a'], 'an item dropped and listed again is emitted afresh');

  stream.clear();
  await render();
  assert.deepEqual(emitted.splice(0), ['a', 'b', 'c']);
  assert.deepEqual(await stream.render([], (i) => ({ ...i })), []);
});

test('YamlStream with pacing waits after every N emitted documents, never for documents it reuses', async () => {
  const stream = new YamlStream<{ name: string }>();
  let items = Array.from({ length: 10 }, (_, i) => ({ name: `m${i}` }));
  const log: string[] = [];
  const pacing = { every: 4, wait: async () => { log.push('wait'); } };
  const toDocument = (i: { name: string }) => { log.push(i.name); return { ...i }; };
  const render = () => stream.render(items.map((i) => [i.name, i] as const), toDocument, pacing);
  await render();
  assert.deepEqual(log.splice(0), ['m0', 'm1', 'm2', 'm3', 'wait', 'm4', 'm5', 'm6', 'm7', 'wait', 'm8', 'm9']);
  items = items.map((i, n) => (n % 2 === 0 ? { ...i } : i));
  const text = Buffer.concat(await render()).toString('utf8');
  assert.deepEqual(log.splice(0), ['m0', 'm2', 'm4', 'm6', 'wait', 'm8']);
  assert.equal(text, items.map((i) => emitYaml({ ...i })).join(DOCUMENT_SEPARATOR));
});
