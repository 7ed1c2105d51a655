/**
 * The ICMP TTL heuristic (seed 000 and DOMAIN.md §3: AMT answers with TTL
 * 255, Windows 128, Linux 64) and reading the TTL out of `ping` output in
 * the formats iputils, BusyBox and Windows print.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyTtl, ttlFromPingOutput } from '../../../src/amt/probe/ttl.ts';

test('TTL table: 255 is AMT, 128 and 64 are the OS, each labelled a heuristic with the hops it assumed', () => {
  const rows: readonly [number, 'amt' | 'os', number, number][] = [
    [255, 'amt', 255, 0],
    [254, 'amt', 255, 1],
    [129, 'amt', 255, 126],
    [128, 'os', 128, 0],
    [120, 'os', 128, 8],
    [65, 'os', 128, 63],
    [64, 'os', 64, 0],
    [1, 'os', 64, 63],
  ];
  for (const [ttl, verdict, initialTtl, hops] of rows) {
    const h = classifyTtl(ttl);
    assert.equal(h.verdict, verdict, `ttl ${ttl}`);
    assert.equal(h.initialTtl, initialTtl, `ttl ${ttl}`);
    assert.equal(h.hops, hops, `ttl ${ttl}`);
    assert.equal(h.heuristic, true);
    assert.match(h.reason, /^heuristic: /);
  }
  assert.match(classifyTtl(255).reason, /only AMT answered, the OS is likely down/);
  assert.match(classifyTtl(128).reason, /Windows.*the OS answered/);
});

test('no TTL, or a nonsense one, is unknown and says why', () => {
  const skipped = classifyTtl(undefined, 'NB5014: ping command not found (ping); install iputils-ping');
  assert.equal(skipped.verdict, 'unknown');
  assert.equal(skipped.heuristic, true);
  assert.match(skipped.reason, /NB5014: ping command not found/);
  assert.match(classifyTtl(undefined).reason, /no echo reply/);
  for (const bad of [0, 256, -1, 1.5]) assert.equal(classifyTtl(bad).verdict, 'unknown', String(bad));
});

test('the TTL of the first echo reply is read from iputils, BusyBox and Windows ping output', () => {
  const iputils = 'PING 10.0.0.5 (10.0.0.5) 56(84) bytes of data.\n64 bytes from 10.0.0.5: icmp_seq=1 ttl=255 time=0.412 ms\n\n--- 10.0.0.5 ping statistics ---\n1 packets transmitted, 1 received, 0% packet loss, time 0ms\n';
  const busybox = 'PING 10.0.0.5 (10.0.0.5): 56 data bytes\n64 bytes from 10.0.0.5: seq=0 ttl=64 time=0.098 ms\n';
  const windows = 'Pinging 10.0.0.5 with 32 bytes of data:\r\nReply from 10.0.0.5: bytes=32 time<1ms TTL=128\r\n';
  const lost = 'PING 10.0.0.9 (10.0.0.9) 56(84) bytes of data.\n\n--- 10.0.0.9 ping statistics ---\n1 packets transmitted, 0 received, 100% packet loss, time 0ms\n';
  const unreachable = 'From 10.0.0.1 icmp_seq=1 Destination Host Unreachable\n';
  assert.equal(ttlFromPingOutput(iputils), 255);
  assert.equal(ttlFromPingOutput(busybox), 64);
  assert.equal(ttlFromPingOutput(windows), 128);
  assert.equal(ttlFromPingOutput(lost), undefined);
  assert.equal(ttlFromPingOutput(unreachable), undefined);
  assert.equal(ttlFromPingOutput('64 bytes from x: icmp_seq=1 ttl=300 time=1 ms'), undefined);
});
