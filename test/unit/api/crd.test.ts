import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { crdFor, crdsYaml } from '../../../src/api/crd.ts';
import { Kinds } from '../../../src/api/v1alpha1/index.ts';
import { generatedFiles } from '../../../scripts/generated-files.ts';
import { REPO_ROOT } from '../../support/fixtures.ts';

type Node = { [k: string]: unknown };

function walk(node: Node, path: string, visit: (n: Node, p: string) => void): void {
  visit(node, path);
  for (const [k, v] of Object.entries((node['properties'] ?? {}) as Record<string, Node>)) walk(v, `${path}.${k}`, visit);
  if (typeof node['items'] === 'object') walk(node['items'] as Node, `${path}[]`, visit);
  if (typeof node['additionalProperties'] === 'object') walk(node['additionalProperties'] as Node, `${path}{}`, visit);
}

const schemaOf = (crd: Record<string, unknown>) => ((crd['spec'] as Node)['versions'] as Node[])[0]?.['schema'] as { openAPIV3Schema: Node };

test('committed generated files match the schemas (run `npm run generate` after a schema change)', () => {
  for (const [path, content] of generatedFiles()) {
    assert.equal(readFileSync(join(REPO_ROOT, path), 'utf8'), content, `${path} drifted from its source`);
  }
});

test('`netboot crds` prints exactly the committed CRDs', () => {
  const printed = crdsYaml().split(/^---$/m).map((d) => parse(d));
  const files = [...generatedFiles().keys()].filter((p) => p.startsWith('crds/')).map((p) => parse(readFileSync(join(REPO_ROOT, p), 'utf8')));
  assert.deepEqual(printed, files);
});

for (const kind of Kinds) {
  test(`${kind.kind} CRD is structural, documented and carries the conventions`, () => {
    const crd = crdFor(kind);
    const spec = crd['spec'] as Node;
    const names = spec['names'] as Node;
    assert.deepEqual(names['categories'], ['netboot']);
    assert.ok((names['shortNames'] as string[]).length > 0);
    const version = (spec['versions'] as Node[])[0] as Node;
    assert.deepEqual(version['subresources'], { status: {} });
    assert.ok((version['additionalPrinterColumns'] as Node[]).some((c) => c['name'] === 'Age'));
    const root = schemaOf(crd).openAPIV3Schema;
    const undocumented: string[] = [];
    walk(root, kind.kind, (n, p) => {
      assert.equal(typeof n['type'], 'string', `${p} has no type`);
      for (const bad of ['anyOf', 'oneOf', 'allOf', '$ref']) assert.ok(!(bad in n), `${p} uses ${bad}`);
      const standard = p === `${kind.kind}.apiVersion` || p === `${kind.kind}.kind`;
      if (n['type'] === 'string' && n['enum'] === undefined && !standard) assert.equal(typeof n['maxLength'], 'number', `${p} is unbounded`);
      if (n['type'] === 'array') assert.equal(typeof n['maxItems'], 'number', `${p} is unbounded`);
      if (p !== kind.kind && !p.endsWith('[]') && !p.endsWith('{}') && p !== `${kind.kind}.metadata` && typeof n['description'] !== 'string') undocumented.push(p);
    });
    assert.deepEqual(undocumented, [], 'every field needs a description for kubectl explain');
    const status = (root['properties'] as Record<string, Node>)['status'] as Node;
    const conditions = (status['properties'] as Record<string, Node>)['conditions'] as Node;
    // One manager (the controller) writes the whole list: atomic, see conditionsField.
    assert.equal(conditions['x-kubernetes-list-type'], 'atomic');
    assert.ok(!('x-kubernetes-list-map-keys' in conditions));
    assert.ok('observedGeneration' in ((conditions['items'] as Node)['properties'] as Node));
    assert.ok('observedGeneration' in (status['properties'] as Node));
  });
}

test('BootMachine printer columns answer "is it working"', () => {
  const def = Kinds.find((k) => k.kind === 'BootMachine');
  assert.deepEqual(def?.printerColumns.filter((c) => c.priority === undefined).map((c) => c.name), ['MAC', 'Class', 'Phase', 'Last Boot', 'AMT Suffix', 'Age']);
});
