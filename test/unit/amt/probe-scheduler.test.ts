/**
 * The AMT prober's limits and event assembly, with a fake clock and a fake
 * transport (no sockets): only seen unicast addresses, spaced starts, a cap
 * on probes in flight, no re-probe before reprobeAfterMs. The real sockets
 * are exercised in test/protocol/amt-*.test.ts.
 */
import { describe, it, test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAmtPong, parsePresencePong } from '../../../src/amt/probe/rmcp.ts';
import { parseServerBanner } from '../../../src/amt/probe/http-server.ts';
import { ProbeSchedule } from '../../../src/agent/amt-schedule.ts';
import { eventOf, probeAllowed, startAmtProber } from '../../../src/agent/amt-prober.ts';
import type { AmtProbeEvent } from '../../../src/agent/amt-prober.ts';
import type { AmtTransport, HttpOutcome, RmcpOutcome } from '../../../src/agent/amt-transport.ts';
import { isNetbootError, Errors } from '../../../src/errors.ts';
import { FakeClock, settle } from '../../support/fake-clock.ts';

const AMT_PONG = (() => {
  const r = parsePresencePong(buildAmtPong({ tag: 1, major: 11, minor: 8, openPort: 0, provisioningState: 'pre' }));
  assert.ok(r.ok);
  return r.pong;
})();
const BANNER = parseServerBanner('Intel(R) Active Management Technology 11.8.50.3425');

test('ProbeSchedule: spaced starts, a cap in flight, no re-probe within reprobeAfterMs', () => {
  const s = new ProbeSchedule({ minIntervalMs: 1000, maxConcurrent: 2, reprobeAfterMs: 60_000 });
  assert.equal(s.offer('10.0.0.1', 0), true);
  assert.equal(s.offer('10.0.0.1', 0), false, 'already queued');
  s.offer('10.0.0.2', 0);
  s.offer('10.0.0.3', 0);
  assert.equal(s.take(0), '10.0.0.1');
  assert.equal(s.take(500), undefined, 'too soon after the last start');
  assert.equal(s.wait(500), 500);
  assert.equal(s.take(1000), '10.0.0.2');
  assert.equal(s.take(5000), undefined, 'two in flight');
  assert.equal(s.wait(5000), undefined, 'a done() will tell');
  s.done('10.0.0.1');
  assert.equal(s.take(5000, (a) => a !== '10.0.0.3'), undefined, '10.0.0.3 no longer allowed: dropped');
  assert.equal(s.queued, 0);
  assert.equal(s.offer('10.0.0.1', 59_999), false, 'probed less than reprobeAfterMs ago');
  assert.equal(s.offer('10.0.0.1', 60_000), true);
  assert.equal(s.offer('10.0.0.2', 60_000), false, 'still in flight');
  const small = new ProbeSchedule({ maxQueue: 1 });
  assert.equal(small.offer('10.0.0.1', 0), true);
  assert.equal(small.offer('10.0.0.2', 0), false, 'queue full');
});

test('only unicast IPv4 addresses the agent has seen may be probed', () => {
  const seen = new Map([['10.0.0.5', '52:54:00:00:00:05'], ['224.0.0.1', 'x'], ['0.0.0.0', 'x'], ['fe80::1', 'x']]);
  assert.equal(probeAllowed('10.0.0.5', seen), true);
  assert.equal(probeAllowed('10.0.0.6', seen), false);
  assert.equal(probeAllowed('224.0.0.1', seen), false);
  assert.equal(probeAllowed('0.0.0.0', seen), false);
  assert.equal(probeAllowed('fe80::1', seen), false);
});

test('eventOf: the banner\'s full version wins over the pong\'s nibbles; the pong gives the state; nothing AMT, no event', () => {
  const ttl = { verdict: 'unknown' as const, heuristic: true as const, reason: 'heuristic: no ICMP TTL (test)' };
  const pongOk: RmcpOutcome = { ok: true, pong: AMT_PONG, ignored: [] };
  const noPong: RmcpOutcome = { ok: false, reason: 'no presence pong within 1500 ms', ignored: [] };
  const http401: HttpOutcome = { ok: true, status: 401, server: 'Intel(R) Active Management Technology 11.8.50.3425', ...(BANNER === undefined ? {} : { banner: BANNER }) };
  const refused: HttpOutcome = { ok: false, reason: 'NB5015: connect ECONNREFUSED' };
  const both = eventOf('10.0.0.5', 'm', pongOk, [{ port: 16992, tls: false, outcome: http401 }], ttl, 42);
  assert.deepEqual(both, { mac: 'm', address: '10.0.0.5', version: '11.8.50.3425', provisioningState: 'pre', source: 'http-server-header', versions: { httpServerHeader: '11.8.50.3425', rmcp: '11.8' }, ttlHeuristic: ttl, at: 42, ports: { http: true, https: false } });
  const pongOnly = eventOf('10.0.0.5', 'm', pongOk, [{ port: 16992, tls: false, outcome: refused }, { port: 16993, tls: true, outcome: refused }], ttl, 42);
  assert.equal(pongOnly?.version, '11.8');
  assert.equal(pongOnly?.source, 'rmcp');
  const tlsOnly = eventOf('10.0.0.5', 'm', noPong, [{ port: 16992, tls: false, outcome: refused }, { port: 16993, tls: true, outcome: http401 }], ttl, 42);
  assert.deepEqual([tlsOnly?.provisioningState, tlsOnly?.source, tlsOnly?.ports], ['unknown', 'http-server-header', { http: false, https: true }]);
  const apache: HttpOutcome = { ok: true, status: 200, server: 'Apache/2.4' };
  assert.equal(eventOf('10.0.0.5', 'm', noPong, [{ port: 16992, tls: false, outcome: apache }], ttl, 42), undefined);
  const bmc = parsePresencePong(Buffer.from('0600ff06000011be40000010000011be000000008100000000000000', 'hex'));
  assert.ok(bmc.ok);
  assert.equal(eventOf('10.0.0.5', 'm', { ok: true, pong: bmc.pong, ignored: [] }, [], ttl, 42), undefined);
});

/** A transport whose probes finish only when the test says so; records when each began. */
function fakeTransport(clock: FakeClock, amt: ReadonlySet<string>) {
  const started: { address: string; at: number }[] = [];
  const pending = new Map<string, () => void>();
  const transport: AmtTransport = {
    rmcpPing: (address) => {
      started.push({ address, at: clock.now() });
      return new Promise((resolve) => pending.set(address, () => resolve(amt.has(address) ? { ok: true, pong: AMT_PONG, ignored: [] } : { ok: false, reason: 'no presence pong', ignored: [] })));
    },
    httpHead: async () => ({ ok: false, reason: 'NB5015: refused' }),
    ping: async () => ({ ttl: 255 }),
  };
  const finish = async (address: string) => { pending.get(address)?.(); pending.delete(address); await settle(); };
  return { transport, started, finish, pending };
}

describe('startAmtProber (fake clock, fake transport)', () => {
  it('probes only seen addresses, spaces starts, caps probes in flight, and emits only for AMT', async () => {
    const clock = new FakeClock();
    const t0 = clock.now();
    const seen = new Map([['10.0.0.1', 'aa:00:00:00:00:01'], ['10.0.0.2', 'aa:00:00:00:00:02'], ['10.0.0.3', 'aa:00:00:00:00:03']]);
    const fake = fakeTransport(clock, new Set(['10.0.0.2']));
    const events: AmtProbeEvent[] = [];
    const prober = startAmtProber({ seen: () => seen, onAmt: (e) => events.push(e), clock, transport: fake.transport, limits: { minIntervalMs: 1000, maxConcurrent: 2, reprobeAfterMs: 3_600_000 }, scanIntervalMs: 60_000 });
    await settle();
    assert.deepEqual(fake.started, [{ address: '10.0.0.1', at: t0 }]);
    await clock.advance(999);
    assert.equal(fake.started.length, 1, 'the second start waits minIntervalMs');
    await clock.advance(1);
    assert.deepEqual(fake.started.map((s) => s.address), ['10.0.0.1', '10.0.0.2']);
    await clock.advance(5000);
    assert.equal(fake.started.length, 2, 'maxConcurrent 2: the third waits for a slot');
    await fake.finish('10.0.0.2');
    assert.deepEqual(fake.started.map((s) => s.address), ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    assert.equal(events.length, 1);
    assert.deepEqual({ ...events[0], ttlHeuristic: events[0]?.ttlHeuristic.verdict }, {
      mac: 'aa:00:00:00:00:02', address: '10.0.0.2', version: '11.8', provisioningState: 'pre', source: 'rmcp', versions: { rmcp: '11.8' }, ttlHeuristic: 'amt', at: t0 + 6000, ports: { http: false, https: false },
    });
    await fake.finish('10.0.0.1');
    await fake.finish('10.0.0.3');
    assert.equal(events.length, 1, 'no event where AMT did not answer');

    // A newly seen address is probed at the next scan (or on poke); the others are not probed again within the hour.
    seen.set('10.0.0.4', 'aa:00:00:00:00:04');
    prober.poke();
    await settle();
    assert.equal(fake.started.length, 3, 'still within minIntervalMs of the last start');
    await clock.advance(1000);
    assert.deepEqual(fake.started.slice(3).map((s) => s.address), ['10.0.0.4']);
    await fake.finish('10.0.0.4');
    await clock.advance(60_000 * 30);
    assert.equal(fake.started.length, 4, 'scans within reprobeAfterMs start nothing');
    await clock.advance(60_000 * 31);
    await fake.finish('10.0.0.1');
    await clock.advance(1000);
    assert.ok(fake.started.length > 4, 'after reprobeAfterMs the addresses are probed again');
    const stopping = prober.stop();
    for (const address of [...fake.pending.keys()]) await fake.finish(address);
    await stopping; // stop() waits for the probes in flight
  });

  it('drops a queued address that is no longer seen, and probeNow refuses unseen or non-unicast addresses (NB5013)', async () => {
    const clock = new FakeClock();
    const seen = new Map([['10.0.0.1', 'a'], ['10.0.0.2', 'b']]);
    const fake = fakeTransport(clock, new Set());
    const prober = startAmtProber({ seen: () => seen, onAmt: () => {}, clock, transport: fake.transport, limits: { minIntervalMs: 1000, maxConcurrent: 1 } });
    await settle();
    seen.delete('10.0.0.2');
    await fake.finish('10.0.0.1');
    await clock.advance(5000);
    assert.deepEqual(fake.started.map((s) => s.address), ['10.0.0.1']);
    await assert.rejects(prober.probeNow('10.0.0.9'), (err: unknown) => isNetbootError(err, Errors.AmtProbeNotAllowed) && /10\.0\.0\.9/.test(err.message));
    seen.set('239.1.1.1', 'c');
    await assert.rejects(prober.probeNow('239.1.1.1'), (err: unknown) => isNetbootError(err, Errors.AmtProbeNotAllowed));
    await prober.stop();
    seen.set('10.0.0.7', 'd');
    prober.poke();
    await clock.advance(120_000);
    assert.equal(fake.started.length, 1, 'nothing starts after stop()');
  });

  it('probeNow joins a probe already running for the address, and counts as a probe for the schedule', async () => {
    const clock = new FakeClock();
    const seen = new Map([['10.0.0.1', 'a'], ['10.0.0.2', 'b']]);
    const fake = fakeTransport(clock, new Set(['10.0.0.1', '10.0.0.2']));
    const events: AmtProbeEvent[] = [];
    const prober = startAmtProber({ seen: () => seen, onAmt: (e) => events.push(e), clock, transport: fake.transport, limits: { minIntervalMs: 1000, maxConcurrent: 1 } });
    await settle();
    const joined = prober.probeNow('10.0.0.1'); // the first scan is probing it already
    await fake.finish('10.0.0.1');
    assert.equal((await joined).event?.address, '10.0.0.1');
    assert.equal(fake.started.filter((s) => s.address === '10.0.0.1').length, 1);
    const direct = prober.probeNow('10.0.0.2'); // outside the rate limit, and now in flight
    await settle();
    await clock.advance(5000);
    assert.equal(fake.started.filter((s) => s.address === '10.0.0.2').length, 1, 'the queued scan entry does not probe it a second time');
    await fake.finish('10.0.0.2');
    assert.equal((await direct).detected, true);
    assert.deepEqual(events.map((e) => e.address), ['10.0.0.1', '10.0.0.2'], 'on-demand probes emit too');
    await clock.advance(120_000);
    assert.equal(fake.started.length, 2, 'no re-probe within reprobeAfterMs');
    await prober.stop();
  });
});
