/**
 * docs/conditions.md is generated from the reason constants and their doc
 * comments (scripts/gen-docs.ts). It must be current, and the parse that
 * generates it must find every constant the modules export, with the same
 * value, so no condition type or reason is missing from the page.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AmtConditionType, AmtReason } from '../../../src/amt/reasons.ts';
import { ConditionType, EventReason, Reason } from '../../../src/controller/reasons.ts';
import { TABLES, conditionsPage, constTable } from '../../../scripts/gen-docs.ts';
import { REPO_ROOT } from '../../support/fixtures.ts';

const modules: Record<(typeof TABLES)[number]['name'], Readonly<Record<string, string>>> = { ConditionType, Reason, EventReason, AmtConditionType, AmtReason };

for (const { file, name } of TABLES) {
  test(`the generator finds every ${name} constant of ${file}, with its comment`, () => {
    const parsed = constTable(readFileSync(join(REPO_ROOT, file), 'utf8'), name);
    assert.deepEqual(Object.fromEntries(parsed.map((c) => [c.key, c.value])), { ...modules[name] });
    for (const c of parsed) assert.ok(c.comment.length > 10, `${name}.${c.key} has no useful comment`);
  });
}

test('docs/conditions.md is current (regenerate with: npm run generate)', () => {
  const page = readFileSync(join(REPO_ROOT, 'docs/conditions.md'), 'utf8');
  assert.equal(page, conditionsPage());
});

test('docs/conditions.md has a row for every condition type and reason value', () => {
  const page = readFileSync(join(REPO_ROOT, 'docs/conditions.md'), 'utf8');
  for (const [name, table] of Object.entries(modules)) {
    for (const value of Object.values(table)) assert.match(page, new RegExp(`^\\| \`${value}\` \\|`, 'm'), `${name} ${value}`);
  }
});
