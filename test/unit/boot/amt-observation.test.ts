/**
 * applyObservation folding AMT facts into status.boot.amt: first sighting
 * kept once set, option 15 sightings capped at the four newest with repeats
 * of one lease exchange folded, a count per Hello, the last probe, and
 * AMT-only observations that leave the boot's phase and history alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BootMachine } from '../../../src/api/v1alpha1/bootmachine.ts';
import { SUFFIX_SIGHTINGS, mergeAmtFacts } from '../../../src/boot/amt-observation.ts';
import { applyObservation } from '../../../src/boot/status.ts';
import type { BootObservation, BootStatus } from '../../../src/boot/status.ts';

const MAC = '52:54:00:12:34:56';
const at = (minutes: number) => new Date(Date.UTC(2026, 10, 23, 10, 0, 0) + minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const obs = (minutes: number, extra: Partial<BootObservation> = {}): BootObservation => ({ mac: MAC, network: 'lab', node: 'n1', time: at(minutes), ...extra });

/** The status must be what the API server accepts: parse it with the CRD's own schema. */
function valid(boot: BootStatus): void {
  BootMachine.parse({ apiVersion: 'netboot.dev/v1alpha1', kind: 'BootMachine', metadata: { name: '52-54-00-12-34-56' }, spec: { mac: MAC }, status: { boot } });
}

test('firstSeenAt is set by the first observation that carries it and kept after', () => {
  let s = applyObservation(undefined, obs(0, { event: 'Discover', phase: 'Discovered', amt: { firstSeenAt: at(0) } }));
  assert.equal(s.amt?.firstSeenAt, at(0));
  s = applyObservation(s, obs(90, { event: 'Discover', phase: 'Discovered', amt: { firstSeenAt: at(90) } }));
  assert.equal(s.amt?.firstSeenAt, at(0));
  valid(s);
});

test('an observation without an event changes only status.boot.amt, and returns the same object when it adds nothing', () => {
  const booted = applyObservation(undefined, obs(0, { event: 'Discover', phase: 'Discovered', firmware: { stage: 'pxe', arch: 'bios' }, amt: { firstSeenAt: at(0) } }));
  const again = applyObservation(booted, obs(5, { amt: { firstSeenAt: at(5) } }));
  assert.equal(again, booted, 'nothing new: the same object, so stores skip the write');
  const asked = applyObservation(booted, obs(6, { amt: { osRequestedDomain: 'sales.contoso.com' } }));
  assert.notEqual(asked, booted);
  assert.equal(asked.amt?.osRequestedDomain, 'sales.contoso.com');
  assert.equal(asked.lastSeen, booted.lastSeen, 'lastSeen is the last boot packet');
  assert.deepEqual(asked.history, booted.history);
  assert.equal(asked.phase, 'Discovered');
  const fresh = applyObservation(undefined, obs(7, { amt: { siteOption15: 'contoso.com' } }));
  assert.deepEqual(fresh, { amt: { siteOption15: [{ value: 'contoso.com', at: at(7) }] } });
  valid(asked);
  valid(fresh);
});

test('option 15 sightings: newest last, capped, a repeat within the hour folded, the same value later kept', () => {
  const cases: { name: string; sightings: [number, string][]; want: [number, string][] }[] = [
    { name: 'one', sightings: [[0, 'contoso.com']], want: [[0, 'contoso.com']] },
    { name: 'OFFER then ACK of one exchange', sightings: [[0, 'contoso.com'], [0, 'contoso.com']], want: [[0, 'contoso.com']] },
    { name: 'renewals under a short lease', sightings: [[0, 'a.com'], [5, 'a.com'], [10, 'a.com'], [59, 'a.com']], want: [[0, 'a.com']] },
    { name: 'same value an hour later counts again', sightings: [[0, 'a.com'], [60, 'a.com']], want: [[0, 'a.com'], [60, 'a.com']] },
    { name: 'a change is always kept', sightings: [[0, 'a.com'], [1, 'b.com'], [2, 'a.com']], want: [[0, 'a.com'], [1, 'b.com'], [2, 'a.com']] },
    { name: 'a lease without option 15 is an empty value', sightings: [[0, 'a.com'], [1, '']], want: [[0, 'a.com'], [1, '']] },
    { name: `capped at ${SUFFIX_SIGHTINGS}, oldest out`, sightings: [[0, 'a.com'], [1, 'b.com'], [2, 'c.com'], [3, 'd.com'], [4, 'e.com'], [5, 'f.com']], want: [[2, 'c.com'], [3, 'd.com'], [4, 'e.com'], [5, 'f.com']] },
  ];
  for (const key of ['servedOption15', 'siteOption15'] as const) {
    for (const c of cases) {
      let s: BootStatus | undefined;
      for (const [m, value] of c.sightings) s = applyObservation(s, obs(m, { amt: { [key]: value } }));
      assert.deepEqual(s?.amt?.[key], c.want.map(([m, value]) => ({ value, at: at(m) })), `${key}: ${c.name}`);
      assert.equal(s?.amt?.[key === 'servedOption15' ? 'siteOption15' : 'servedOption15'], undefined);
      if (s !== undefined) valid(s);
    }
  }
});

test('each Hello counts once and the last one\'s retry count, UUID and root hashes are kept', () => {
  const sha256 = 'ab'.repeat(32);
  let s = applyObservation(undefined, obs(0, { event: 'Discover', phase: 'Discovered', amt: { firstSeenAt: at(0) } }));
  s = applyObservation(s, obs(1, { amt: { hello: { retryCount: 0, uuid: '12345678-1234-5678-9abc-def012345678', rootHashes: [sha256] } } }));
  assert.deepEqual(s.amt?.hello, { at: at(1), count: 1, retryCount: 0, uuid: '12345678-1234-5678-9abc-def012345678', rootHashes: [sha256] });
  s = applyObservation(s, obs(2, { amt: { hello: { retryCount: 1, rootHashes: [] } } }));
  assert.deepEqual(s.amt?.hello, { at: at(2), count: 2, retryCount: 1, rootHashes: [] });
  // The same Hello twice is still two attempts: the listener drops duplicates, not the merge.
  s = applyObservation(s, obs(2, { amt: { hello: { retryCount: 1, rootHashes: [] } } }));
  assert.equal(s.amt?.hello?.count, 3);
  assert.equal(s.amt?.firstSeenAt, at(0));
  assert.deepEqual(s.history?.map((h) => h.event), ['Discover']);
  valid(s);
});

test('the last probe AMT answered replaces the previous one; an identical one is no change', () => {
  const probe = { at: at(0), address: '10.9.0.50', httpServerHeader: '11.8.50.3425', rmcp: '11.8', provisioningState: 'pre' as const, osAnswering: 'os' as const, ttl: 64 };
  const first = applyObservation(undefined, obs(0, { amt: { probe } }));
  assert.deepEqual(first.amt?.probe, probe);
  assert.equal(applyObservation(first, obs(0, { amt: { probe: { ...probe } } })), first);
  const later = applyObservation(first, obs(400, { amt: { probe: { at: at(400), address: '10.9.0.51', rmcp: '11.8', provisioningState: 'post', osAnswering: 'amt-only', ttl: 255 } } }));
  assert.deepEqual(later.amt?.probe, { at: at(400), address: '10.9.0.51', rmcp: '11.8', provisioningState: 'post', osAnswering: 'amt-only', ttl: 255 });
  valid(later);
});

test('boot events keep the AMT facts they do not carry', () => {
  let s = applyObservation(undefined, obs(0, { amt: { siteOption15: 'contoso.com', firstSeenAt: at(0) } }));
  s = applyObservation(s, obs(1, { event: 'ProxyOffer', phase: 'Offered' }));
  assert.deepEqual(s.amt, { firstSeenAt: at(0), siteOption15: [{ value: 'contoso.com', at: at(0) }] });
  assert.equal(s.phase, 'Offered');
});

test('mergeAmtFacts is pure: the previous facts are not modified', () => {
  const prev = Object.freeze({ siteOption15: Object.freeze([Object.freeze({ value: 'a.com', at: at(0) })]), hello: Object.freeze({ at: at(0), count: 1, rootHashes: [] }) });
  const next = mergeAmtFacts(prev as never, { siteOption15: 'b.com', hello: { rootHashes: [] } }, at(1));
  assert.equal(prev.siteOption15.length, 1);
  assert.equal(prev.hello.count, 1);
  assert.equal(next?.siteOption15?.length, 2);
  assert.equal(next?.hello?.count, 2);
});
