import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nextTransition, provisioningWindow, windowWasOpen } from '../../../src/amt/window.ts';
import type { WindowFacts } from '../../../src/amt/window.ts';

const T0 = Date.UTC(2026, 10, 23, 10, 0, 0); // 2026-11-23T10:00:00Z, the fake clock's start
const H = 3_600_000;
const at = (hours: number) => new Date(T0 + hours * H);
const iso = (d: Date | undefined) => d?.toISOString();

test('a fixed clock walks the window: first seen, open for windowHours, then closed', () => {
  type Row = [windowHours: number, nowHours: number, open: boolean, expired: boolean, closes: number];
  const rows: Row[] = [
    [24, 0, true, false, 24], [24, 23.99, true, false, 24], [24, 24, false, true, 24], [24, 30, false, true, 24],
    [6, 5.99, true, false, 6], [6, 6, false, true, 6],
    [0, 0, false, true, 0], [0, 1, false, true, 0],
    [24, -1, false, false, 24], // the agent's clock stamped first-seen ahead of ours
  ];
  for (const [windowHours, now, open, expired, closes] of rows) {
    const w = provisioningWindow({ firstSeen: at(0), windowHours }, at(now));
    const name = `${windowHours} h at +${now} h`;
    assert.equal(w.open, open, name);
    assert.equal(w.expired, expired, name);
    assert.equal(iso(w.openedAt), iso(at(0)), name);
    assert.equal(w.openedBy, 'first-seen', name);
    assert.equal(iso(w.closesAt), iso(at(closes)), name);
    assert.equal(w.nextRetryAt, undefined, name);
  }
});

test('an attempt reopens the window and schedules the in-band retry 24 h later, whatever windowHours', () => {
  for (const windowHours of [24, 6, 0]) {
    const facts: WindowFacts = { firstSeen: at(0), lastAttempt: at(40), windowHours };
    const w = provisioningWindow(facts, at(41));
    assert.equal(w.openedBy, 'attempt');
    assert.equal(iso(w.openedAt), iso(at(40)));
    assert.equal(iso(w.closesAt), iso(at(40 + windowHours)));
    assert.equal(w.open, windowHours > 1);
    assert.equal(iso(w.nextRetryAt), iso(at(64)));
  }
  // An attempt older than the first sighting (a stale record) does not move the window back.
  const stale = provisioningWindow({ firstSeen: at(10), lastAttempt: at(5), windowHours: 24 }, at(11));
  assert.equal(stale.openedBy, 'first-seen');
  assert.equal(iso(stale.nextRetryAt), iso(at(29)));
  assert.deepEqual(provisioningWindow({ windowHours: 24 }, at(0)), { open: false, expired: false });
});

test('nextTransition is the exact next instant anything flips', () => {
  type Row = [facts: WindowFacts, now: number, next: number | undefined];
  const rows: Row[] = [
    [{ firstSeen: at(0), windowHours: 24 }, 1, 24],
    [{ firstSeen: at(0), windowHours: 24 }, 24, undefined], // closed, no retry: nothing pending
    [{ firstSeen: at(0), windowHours: 6 }, 0, 6],
    [{ firstSeen: at(0), windowHours: 0 }, 0, undefined],
    [{ firstSeen: at(0), windowHours: 24 }, -2, 0], // opens in the future (skew): the opening is the transition
    [{ firstSeen: at(0), lastAttempt: at(30), windowHours: 6 }, 31, 36], // close first
    [{ firstSeen: at(0), lastAttempt: at(30), windowHours: 6 }, 36, 54], // then the retry
    [{ firstSeen: at(0), lastAttempt: at(30), windowHours: 24 }, 31, 54], // close and retry coincide
    [{ firstSeen: at(0), lastAttempt: at(30), windowHours: 0 }, 30, 54],
    [{ firstSeen: at(0), lastAttempt: at(30), windowHours: 24 }, 54, undefined],
    [{ windowHours: 24 }, 0, undefined],
  ];
  for (const [facts, now, next] of rows) {
    assert.equal(iso(nextTransition(facts, at(now))), next === undefined ? undefined : iso(at(next)), `${JSON.stringify(facts)} at +${now} h`);
  }
  // Walking the transitions flips `open` at each one, and at no instant in between.
  const facts: WindowFacts = { firstSeen: at(0), lastAttempt: at(30), windowHours: 6 };
  let t = at(31);
  const seen: string[] = [];
  for (let next = nextTransition(facts, t); next !== undefined; next = nextTransition(facts, t)) {
    const before = provisioningWindow(facts, new Date(next.getTime() - 1)).open;
    const after = provisioningWindow(facts, next).open;
    seen.push(`${iso(next)} ${String(before)}->${String(after)}`);
    t = next;
  }
  assert.deepEqual(seen, ['2026-11-24T22:00:00.000Z true->false', '2026-11-25T16:00:00.000Z false->false']);
});

test('windowWasOpen: the two openings known (first sighting and last attempt)', () => {
  const facts: WindowFacts = { firstSeen: at(0), lastAttempt: at(48), windowHours: 24 };
  const cases: [number, boolean][] = [[-1, false], [0, true], [23.9, true], [24, false], [30, false], [48, true], [71.9, true], [72, false]];
  for (const [h, want] of cases) assert.equal(windowWasOpen(facts, at(h)), want, `+${h} h`);
  assert.equal(windowWasOpen({ firstSeen: at(0), windowHours: 0 }, at(0)), false, 'a 0-hour window is never open');
});
