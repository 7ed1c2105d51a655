import { test } from 'node:test';
import assert from 'node:assert/strict';
import { timestampOf } from '../../../src/boot/status.ts';

test('timestampOf: RFC 3339 to the second, right across seconds (it keeps the last second it formatted)', () => {
  assert.equal(timestampOf(new Date('2026-11-23T10:00:00.001Z')), '2026-11-23T10:00:00Z');
  assert.equal(timestampOf(new Date('2026-11-23T10:00:00.999Z')), '2026-11-23T10:00:00Z');
  assert.equal(timestampOf(new Date('2026-11-23T10:00:01.000Z')), '2026-11-23T10:00:01Z');
  assert.equal(timestampOf(new Date('2026-11-23T09:59:59.500Z')), '2026-11-23T09:59:59Z', 'an earlier second too');
  assert.throws(() => timestampOf(new Date(Number.NaN)), RangeError);
});
