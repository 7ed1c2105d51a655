import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allocate, bind } from '../../../src/boot/leases.ts';
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
