/**
 * The resource pages explain every field: each spec and status path of a
 * kind's schema (the one the CRD is generated from) appears in its page as
 * `spec.x.y`, and no page names a field path that no kind has, so a renamed
 * or removed field cannot linger in the docs. The condition entries' own
 * fields are explained once, in docs/conditions.md.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AmtIpRules } from '../../../src/api/v1alpha1/amtrules.ts';
import { BootEvents, BootPhases } from '../../../src/api/v1alpha1/bootmachine.ts';
import { Kinds } from '../../../src/api/v1alpha1/index.ts';
import { docPages, fieldPaths, readPage } from '../../support/docs.ts';

const allPaths = new Set(Kinds.flatMap((k) => fieldPaths(k)));

for (const kind of Kinds) {
  const page = `docs/resources/${kind.kind.toLowerCase()}.md`;
  test(`${page} explains every field of ${kind.kind}`, () => {
    const text = readPage(page);
    const missing = fieldPaths(kind).filter((p) => !p.startsWith('status.conditions[].') && !text.includes(`\`${p}\``));
    assert.deepEqual(missing, [], `${page} does not mention these fields (as \`path\`)`);
  });
}

test('no page names a field path that does not exist', () => {
  for (const page of docPages()) {
    const named = [...readPage(page).matchAll(/`((?:spec|status)(?:\.[A-Za-z0-9]+(?:\[\])?)+)`/g)].map((m) => m[1] ?? '');
    const unknown = [...new Set(named)].filter((p) => !allPaths.has(p));
    assert.deepEqual(unknown, [], `${page} names fields no kind has`);
  }
});

test('docs/resources/amtnetworkpolicy.md lists every rule of the AMT IP configuration table by id', () => {
  const text = readPage('docs/resources/amtnetworkpolicy.md');
  for (const rule of AmtIpRules) assert.match(text, new RegExp(`^\\| \`${rule.id}\` \\| row ${rule.row} \\|`, 'm'), rule.id);
});

test('docs/resources/bootmachine.md explains every boot phase and boot event', () => {
  const text = readPage('docs/resources/bootmachine.md');
  for (const phase of BootPhases) assert.match(text, new RegExp(`^\\| \`${phase}\` \\|`, 'm'), `phase ${phase} has no row`);
  for (const event of BootEvents) assert.ok(text.includes(`\`${event}\``), `event ${event} is not mentioned`);
});
