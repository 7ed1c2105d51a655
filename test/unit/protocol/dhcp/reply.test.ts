import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ECHOED_OPTIONS, decodePacket, encodePacket, replyFrom } from '../../../../src/protocol/dhcp/index.ts';
import { ascii, hex, packet, withOption } from './helpers.ts';

/** A relayed request with every header field and many options set, so a wrong copy shows. */
const request = packet(
  (p) => Object.assign(p, {
    hops: 2, xid: 0xcafef00d, secs: 9, flags: 0x8000,
    ciaddr: '10.0.0.9', yiaddr: '10.0.0.8', siaddr: '10.0.0.7', giaddr: '198.51.100.1',
    sname: 'someone', file: 'something.efi',
  }),
  withOption(53, hex('03')),
  withOption(50, hex('c000020a')),
  withOption(54, hex('c0000201')),
  withOption(55, hex('0103064243')),
  withOption(60, ascii('PXEClient')),
  withOption(61, hex('01525400123456')),
  withOption(82, hex('0104 00010203')),
  withOption(93, hex('0007')),
  withOption(97, hex('00 33221100 5544 7766 8899 aabbccddeeff')),
  withOption(224, hex('aa')),
);

test('replyFrom copies xid, htype, hlen, chaddr, flags, giaddr and options 61, 82, 97, and nothing else', () => {
  assert.deepEqual(replyFrom(request), {
    op: 2, htype: 1, hlen: 6, hops: 0, xid: 0xcafef00d, secs: 0, flags: 0x8000,
    ciaddr: '0.0.0.0', yiaddr: '0.0.0.0', siaddr: '0.0.0.0', giaddr: '198.51.100.1',
    chaddr: hex('525400123456'), sname: '', file: '',
    options: new Map([
      [61, hex('01525400123456')],
      [82, hex('0104 00010203')],
      [97, hex('00 33221100 5544 7766 8899 aabbccddeeff')],
    ]),
  });
});

test('replyFrom of a request without those options has no options', () => {
  assert.deepEqual(replyFrom(packet(withOption(53, hex('01')))).options, new Map());
});

test('replyFrom keeps a non-Ethernet hardware type and address length', () => {
  const reply = replyFrom(packet((p) => Object.assign(p, { htype: 32, hlen: 16, chaddr: new Uint8Array(16).fill(7) })));
  assert.equal(reply.htype, 32);
  assert.equal(reply.hlen, 16);
  assert.deepEqual(reply.chaddr, new Uint8Array(16).fill(7));
});

test('editing the reply never changes the request', () => {
  const reply = replyFrom(request);
  reply.chaddr[0] = 0xff;
  reply.options.get(82)?.fill(0);
  reply.options.set(53, hex('05'));
  assert.deepEqual(request.chaddr, hex('525400123456'));
  assert.deepEqual(request.options.get(82), hex('0104 00010203'));
  assert.deepEqual(request.options.get(53), hex('03'));
});

test('an encoded reply carries the echoed relay information last', () => {
  const reply = replyFrom(request);
  reply.options.set(53, hex('05'));
  const bytes = encodePacket(reply);
  const area = hex(`
    35 01 05
    3d 07 01525400123456
    61 11 00 33221100 5544 7766 8899 aabbccddeeff
    52 06 0104 00010203
    ff`);
  assert.deepEqual(bytes.subarray(240, 240 + area.length), area);
  assert.deepEqual(decodePacket(bytes).options, reply.options);
});

test('every echoed option says why', () => {
  assert.deepEqual(ECHOED_OPTIONS.map((o) => o.code), [61, 82, 97]);
  for (const o of ECHOED_OPTIONS) assert.match(o.why, /RFC|PXE/);
});
