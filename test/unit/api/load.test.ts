import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadResources, requireValid } from '../../../src/api/load.ts';
import { exampleFiles, invalidFixtures } from '../../support/fixtures.ts';

test('every example loads without problems and covers every kind', () => {
  const files = exampleFiles();
  assert.ok(files.length >= 3, 'examples/ should hold the quickstart and more');
  const result = loadResources(files);
  assert.deepEqual(result.problems, []);
  const kinds = new Set(result.resources.map((r) => r.kind));
  assert.deepEqual([...kinds].sort(), ['AmtNetworkPolicy', 'BootMachine', 'BootNetwork', 'BootProfile', 'MachineClass']);
});

test('loading applies the schema defaults, as the API server does', () => {
  const { resources } = loadResources([{ file: 'n.yaml', text: 'apiVersion: netboot.dev/v1alpha1\nkind: BootNetwork\nmetadata: {name: n}\nspec: {mode: proxy, subnet: 10.0.0.0/24}\n' }]);
  const spec = resources[0]?.object['spec'] as Record<string, unknown>;
  assert.deepEqual(spec['ports'], { dhcp: 67, pxe: 4011, tftp: 69, http: 8080 });
  assert.equal(spec['unknownMachines'], 'discover');
  assert.equal(resources[0]?.namespace, 'default');
});

for (const fixture of invalidFixtures()) {
  test(`standalone loader rejects ${fixture.name}`, () => {
    const result = loadResources([{ file: fixture.name, text: fixture.text }]);
    assert.equal(result.resources.length, 0, 'an invalid resource must not load');
    const messages = result.problems.map((p) => p.message).join('\n');
    assert.ok(messages.includes(fixture.expectStandalone), `expected "${fixture.expectStandalone}" in:\n${messages}`);
  });
}

test('problems name the file, document, kind and field', () => {
  const text = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\napiVersion: netboot.dev/v1alpha1\nkind: BootNetwork\nmetadata: {name: lab}\nspec: {mode: dhcp, subnet: 10.0.0.0/24}\n';
  const result = loadResources([{ file: 'lab.yaml', text }]);
  assert.equal(result.problems.length, 1);
  assert.match(result.problems[0]?.source ?? '', /^lab\.yaml \(document 2\), BootNetwork "lab"$/);
  assert.match(result.problems[0]?.message ?? '', /^spec\.dhcp: a dhcp network needs spec\.dhcp/);
  assert.throws(() => requireValid(result), /NB1001 lab\.yaml \(document 2\)/);
});

test('unknown kinds of our group, YAML errors and duplicates are problems; other groups are skipped', () => {
  const result = loadResources([
    { file: 'a.yaml', text: 'apiVersion: netboot.dev/v1alpha1\nkind: Machine\nmetadata: {name: x}\n---\nkey: [unclosed\n' },
    { file: 'b.yaml', text: 'apiVersion: netboot.dev/v1alpha1\nkind: BootProfile\nmetadata: {name: p}\nspec: {ipxe: {chain: "http://x/"}}\n' },
    { file: 'c.yaml', text: 'apiVersion: netboot.dev/v1alpha1\nkind: BootProfile\nmetadata: {name: p}\nspec: {ipxe: {chain: "http://y/"}}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\n' },
  ]);
  assert.deepEqual(result.problems.map((p) => p.code), ['NB1003', 'NB1002', 'NB1004']);
  assert.equal(result.resources.length, 2);
});
