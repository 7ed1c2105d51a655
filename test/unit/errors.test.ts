import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Errors, NetbootError, isNetbootError } from '../../src/errors.ts';

test('every error code is unique, well formed and documented', () => {
  const seen = new Map<string, string>();
  for (const [name, def] of Object.entries(Errors)) {
    assert.match(def.code, /^NB[1-9]\d{3}$/, `${name} has a malformed code`);
    assert.ok(def.summary.length > 10 && def.summary.endsWith('.'), `${name} needs a one-sentence summary`);
    const other = seen.get(def.code);
    assert.equal(other, undefined, `${name} reuses code ${def.code} of ${other}`);
    seen.set(def.code, name);
  }
});

test('NetbootError carries the code and prints it', () => {
  const err = new NetbootError(Errors.ReferenceMissing, 'BootProfile "x" not found');
  assert.equal(err.code, 'NB1005');
  assert.equal(String(err), 'NB1005: BootProfile "x" not found');
  assert.ok(isNetbootError(err, Errors.ReferenceMissing));
  assert.ok(!isNetbootError(err, Errors.ResourceInvalid));
  assert.ok(!isNetbootError(new Error('plain')));
});
