import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adoptLeases, allocate, bind } from '../../../src/boot/leases.ts';
import type { Lease } from '../../../src/boot/leases.ts';

const pool = { start: '10.0.0.10', end: '10.0.0.12' };
const req = (mac: string, over: Partial<Parameters<typeof allocate>[1]> = {}) => ({ mac, pool, reservations: new Map<string, string>(), excluded: new Set<string>(), now: 1000, ...over });

test('addresses come from the pool in order, never twice', () => {
  let leases: Lease[] = [];
  const got: string[] = [];
  for (const mac of ['aa:00:00:00:00:01', 'aa:00:00:00:00:02', 'aa:00:00:00:00:03']) {
    const a = allocate(leases, req(mac));
    assert.ok(a.ok);
    got.push(a.ip);
    leases = bind(leases, mac, a.ip, 5000);
  }
  assert.deepEqual(got, ['10.0.0.10', '10.0.0.11', '10.0.0.12']);
  assert.deepEqual(allocate(leases, req('aa:00:00:00:00:04')), { ok: false, reason: 'address pool 10.0.0.10-10.0.0.12 is exhausted' });
  assert.deepEqual(allocate(leases, req('aa:00:00:00:00:02')), { ok: true, ip: '10.0.0.11' }, 'a client keeps its lease');
  assert.deepEqual(allocate(leases, req('aa:00:00:00:00:04', { now: 6000 })), { ok: true, ip: '10.0.0.10' }, 'expired leases are reused, oldest first');
});

test('reservations win and are never given to others; excluded addresses are skipped', () => {
  const reservations = new Map([['bb:00:00:00:00:01', '10.0.0.10']]);
  assert.deepEqual(allocate([], req('bb:00:00:00:00:01', { reservations })), { ok: true, ip: '10.0.0.10' });
  assert.deepEqual(allocate([], req('aa:00:00:00:00:01', { reservations, excluded: new Set(['10.0.0.11']) })), { ok: true, ip: '10.0.0.12' });
});

test('a requested address is honoured only when free', () => {
  const leases = bind([], 'aa:00:00:00:00:01', '10.0.0.11', 5000);
  assert.deepEqual(allocate(leases, req('aa:00:00:00:00:02', { requested: '10.0.0.12' })), { ok: true, ip: '10.0.0.12' });
  assert.deepEqual(allocate(leases, req('aa:00:00:00:00:02', { requested: '10.0.0.11' })), { ok: true, ip: '10.0.0.10' });
  assert.deepEqual(allocate(leases, req('aa:00:00:00:00:02', { requested: '10.9.9.9' })), { ok: true, ip: '10.0.0.10' });
});

test('adoptLeases: recorded pool addresses become leases until lastSeen + lease time, and allocation then avoids them', () => {
  const t = Date.parse('2026-11-23T10:00:00Z');
  const { leases, adopted } = adoptLeases([], [
    { mac: 'aa', ip: '10.0.0.10', lastSeen: t },
    { mac: 'bb', ip: '10.0.0.99', lastSeen: t }, // outside the pool: not ours to track
    { mac: 'cc', ip: 'not-an-ip', lastSeen: t },
  ], pool, 3600);
  assert.equal(adopted, 1);
  assert.deepEqual(leases, [{ mac: 'aa', ip: '10.0.0.10', expiresAt: t + 3600_000 }]);
  // Another client gets the next address, the recorded machine its own again.
  assert.deepEqual(allocate(leases, req('dd', { now: t + 60_000 })), { ok: true, ip: '10.0.0.11' });
  assert.deepEqual(allocate(leases, req('aa', { now: t + 60_000 })), { ok: true, ip: '10.0.0.10' });
});

test('adoptLeases: the table keeps a lease that lasts longer; a later record replaces older leases on its address and MAC', () => {
  const wide = { start: '10.0.0.10', end: '10.0.0.20' };
  const t = Date.parse('2026-11-23T10:00:00Z');
  const table: Lease[] = [
    { mac: 'aa', ip: '10.0.0.10', expiresAt: t + 7200_000 }, // newer than the record below: kept
    { mac: 'bb', ip: '10.0.0.11', expiresAt: t - 1000 }, // expired: the record for .11 wins
    { mac: 'cc', ip: '10.0.0.15', expiresAt: t }, // cc moved to .12 later: its old lease goes
  ];
  const { leases, adopted } = adoptLeases(table, [
    { mac: 'xx', ip: '10.0.0.10', lastSeen: t },
    { mac: 'yy', ip: '10.0.0.11', lastSeen: t },
    { mac: 'cc', ip: '10.0.0.12', lastSeen: t },
  ], wide, 3600);
  assert.equal(adopted, 2);
  const byIp = Object.fromEntries(leases.map((l) => [l.ip, l.mac]));
  assert.deepEqual(byIp, { '10.0.0.10': 'aa', '10.0.0.11': 'yy', '10.0.0.12': 'cc' });
});
