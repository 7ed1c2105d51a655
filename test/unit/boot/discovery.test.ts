import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DiscoveryLimiter } from '../../../src/boot/discovery.ts';

test('the discovery rate is a sliding minute: each creation frees its slot exactly 60 s later', () => {
  const limiter = new DiscoveryLimiter({ maxMachines: 100, perMinute: 3 });
  const at = (seconds: number) => limiter.admit(seconds * 1000);
  assert.deepEqual([at(0), at(10), at(20)], ['create', 'create', 'create']);
  assert.equal(at(30), 'rate-limited');
  assert.equal(at(59.999), 'rate-limited', 'the creation at 0 s still counts');
  assert.equal(at(60), 'create', 'the creation at 0 s has left the window');
  assert.equal(at(61), 'rate-limited', '10, 20 and 60 s are in the window');
  assert.equal(at(90), 'create', 'two left at once (10 and 20 s): 60 and 90 s remain');
  assert.equal(at(91), 'create');
  assert.equal(at(92), 'rate-limited');
  assert.deepEqual(limiter.counts, { created: 6, refused: 4 });
});

test('the cap counts every creation, including those the limiter was seeded with', () => {
  const limiter = new DiscoveryLimiter({ maxMachines: 3, perMinute: 100 }, 2);
  assert.equal(limiter.admit(0), 'create');
  assert.equal(limiter.admit(1), 'capped');
  assert.equal(limiter.admit(120_000), 'capped');
  assert.deepEqual(limiter.counts, { created: 3, refused: 2 });
});
