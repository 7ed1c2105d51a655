import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzDhcp } from '../fuzz/dhcp-fuzz.ts';

// CI runs 20,000; `node test/fuzz/dhcp-fuzz.ts` runs the full 1,000,000 (docs/benchmarks.md records the last run).
test('20,000 mutated packets through decode, classify and decide: no exception, no slow packet', () => {
  const r = fuzzDhcp(20_000, 7);
  assert.ok(r.decoded > 1000, `mutations should mostly stay decodable (decoded ${r.decoded})`);
  assert.ok(r.replies > 100, `some mutated packets should still be answered (replies ${r.replies})`);
});
