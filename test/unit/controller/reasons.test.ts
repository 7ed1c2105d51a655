import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ConditionType, EventReason, Reason } from '../../../src/controller/reasons.ts';

const source = readFileSync(new URL('../../../src/controller/reasons.ts', import.meta.url), 'utf8');

for (const [name, table] of Object.entries({ ConditionType, Reason, EventReason })) {
  test(`${name}: CamelCase values equal to their keys, each with a doc comment (the docs page lists them)`, () => {
    for (const [key, value] of Object.entries(table)) {
      assert.equal(value, key);
      assert.match(value, /^[A-Z][A-Za-z0-9]*$/);
      assert.match(source, new RegExp(`/\\*\\* [^\\n]+ \\*/\\n\\s+${key}: '${value}',`), `${name}.${key} needs a one-line /** comment */`);
    }
  });
}
