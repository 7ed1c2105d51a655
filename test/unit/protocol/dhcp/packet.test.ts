import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BOOTP_MIN_SIZE,
  OptionCode,
  decodePacket,
  encodePacket,
  getOption,
  setOption,
} from '../../../../src/protocol/dhcp/index.ts';
import { ascii, concat, hex, packet, rawPacket, withOption } from './helpers.ts';

/** A reply header written out field by field from RFC 2131 Figure 1. */
const REPLY_HEADER = hex(`
  02 01 06 00                 # op BOOTREPLY, htype Ethernet, hlen 6, hops 0
  deadbeef                    # xid
  0004 8000                   # secs 4, flags broadcast
  00000000                    # ciaddr
  c0000264                    # yiaddr 192.0.2.100
  c0000201                    # siaddr 192.0.2.1
  c6336401                    # giaddr 198.51.100.1
  525400123456 00000000000000000000   # chaddr, padded to 16
`);

const replyValue = packet((p) => {
  Object.assign(p, { op: 2, xid: 0xdeadbeef, secs: 4, flags: 0x8000, yiaddr: '192.0.2.100', siaddr: '192.0.2.1', giaddr: '198.51.100.1' });
  p.sname = 'boot-server';
  p.file = 'ipxe.efi';
});

test('the header encodes field by field and decodes back', () => {
  const bytes = encodePacket(replyValue);
  assert.deepEqual(bytes.subarray(0, 44), REPLY_HEADER);
  assert.deepEqual(bytes.subarray(44, 44 + 12), concat(ascii('boot-server'), hex('00')));
  assert.deepEqual(bytes.subarray(108, 108 + 9), concat(ascii('ipxe.efi'), hex('00')));
  assert.deepEqual(bytes.subarray(236, 240), hex('63825363'));
  assert.deepEqual(decodePacket(bytes), replyValue);
});

test('a small packet is padded with zeros to the 300-byte BOOTP minimum', () => {
  const bytes = encodePacket(packet((p) => setOption(p.options, OptionCode.MessageType, 2)));
  assert.equal(bytes.length, BOOTP_MIN_SIZE);
  assert.deepEqual(bytes.subarray(240, 244), hex('35 01 02 ff'));
  assert.ok(bytes.subarray(244).every((b) => b === 0));
});

test('a packet already over 300 bytes is not padded', () => {
  const bytes = encodePacket(packet(withOption(224, new Uint8Array(100))));
  assert.equal(bytes.length, 240 + 2 + 100 + 1);
  assert.equal(bytes.at(-1), 0xff);
});

test('an option longer than 255 bytes is split into consecutive occurrences and rejoined on decode', () => {
  const long = Uint8Array.from({ length: 300 }, (_, i) => i % 251);
  const bytes = encodePacket(packet(withOption(224, long)));
  assert.deepEqual(bytes.subarray(240, 242), hex('e0 ff'));
  assert.deepEqual(bytes.subarray(242, 497), long.subarray(0, 255));
  assert.deepEqual(bytes.subarray(497, 499), hex('e0 2d'));
  assert.deepEqual(bytes.subarray(499, 544), long.subarray(255));
  assert.equal(bytes[544], 0xff);
  assert.deepEqual(decodePacket(bytes).options.get(224), long);
});

test('an option of exactly 255 bytes is written once; an empty one as code and length 0', () => {
  const bytes = encodePacket(packet(withOption(224, new Uint8Array(255)), withOption(80, new Uint8Array())));
  assert.deepEqual(bytes.subarray(240, 242), hex('e0 ff'));
  assert.deepEqual(bytes.subarray(497, 500), hex('50 00 ff'));
  assert.deepEqual(decodePacket(bytes).options.get(80), new Uint8Array());
});

test('repeated occurrences of one option are concatenated in wire order (RFC 3396)', () => {
  const p = decodePacket(rawPacket(hex('3c 04 50584543  35 01 01  3c 05 6c69656e74  ff')));
  assert.equal(getOption(p.options, OptionCode.VendorClassId), 'PXEClient');
  assert.deepEqual([...p.options.keys()], [60, 53]);
});

test('unknown options pass through byte for byte', () => {
  const options = hex(`
    35 01 01                      # message type DISCOVER
    e0 05 0001020304              # site-specific 224
    f9 03 ffff00                  # 249 (MS classless routes), not in the registry
    02 04 ffffc7c0                # time offset, not in the registry
    fe 00                         # empty 254
    ff`);
  const wire = new Uint8Array(BOOTP_MIN_SIZE);
  wire.set(rawPacket(options));
  const p = decodePacket(wire);
  assert.deepEqual(p.options.get(249), hex('ffff00'));
  assert.deepEqual(encodePacket(p), wire);
});

test('message type is written first and relay agent information last', () => {
  const p = packet(withOption(82, hex('0102abcd')), withOption(60, ascii('x')), withOption(53, hex('02')), withOption(1, hex('ffffff00')));
  assert.deepEqual(encodePacket(p).subarray(240, 240 + 19), hex('35 01 02  3c 01 78  01 04 ffffff00  52 04 0102abcd  ff'));
});

test('options continue in file when option 52 is 1, and file reads as empty', () => {
  const p = decodePacket(rawPacket(hex('34 01 01  35 01 01  ff'), { file: hex('3c 09 505845436c69656e74 ff'), sname: ascii('srv') }));
  assert.equal(getOption(p.options, OptionCode.VendorClassId), 'PXEClient');
  assert.equal(p.file, '');
  assert.equal(p.sname, 'srv');
  assert.equal(p.options.has(52), false, 'overload is framing and is consumed');
});

test('options continue in sname when option 52 is 2', () => {
  const p = decodePacket(rawPacket(hex('34 01 02 ff'), { sname: hex('0c 04 686f7374 ff'), file: ascii('pxelinux.0') }));
  assert.equal(getOption(p.options, OptionCode.HostName), 'host');
  assert.equal(p.sname, '');
  assert.equal(p.file, 'pxelinux.0');
});

test('with option 52 = 3, data is joined in the order options, file, sname', () => {
  const p = decodePacket(rawPacket(hex('34 01 03  0c 01 61 ff'), { file: hex('0c 01 62 ff'), sname: hex('0c 01 63') }));
  assert.equal(getOption(p.options, OptionCode.HostName), 'abc');
});

test('file and sname are not read as options without option 52', () => {
  const p = decodePacket(rawPacket(hex('ff'), { file: hex('3c 01 41 ff') }));
  assert.equal(p.options.has(60), false);
  assert.equal(p.file, '<\x01A\xff');
});

test('option 52 is never written: the encoder does not overload', () => {
  const bytes = encodePacket(packet(withOption(52, hex('01')), (p) => (p.file = 'ipxe.efi')));
  assert.deepEqual(bytes.subarray(240, 241), hex('ff'));
});

test('bytes after the end option are ignored and a missing end option is tolerated', () => {
  assert.deepEqual([...decodePacket(rawPacket(hex('35 01 01 ff 3c 99 00'))).options.keys()], [53]);
  assert.deepEqual([...decodePacket(rawPacket(hex('35 01 01 00 00'))).options.keys()], [53]);
});

test('a Buffer at a non-zero offset decodes to plain, independent arrays', () => {
  const wire = rawPacket(hex('e0 02 aabb ff'));
  const pool = Buffer.alloc(wire.length + 7);
  pool.set(wire, 7);
  const p = decodePacket(pool.subarray(7));
  assert.equal(Object.getPrototypeOf(p.chaddr), Uint8Array.prototype);
  assert.deepEqual(p.options.get(224), hex('aabb'));
  pool.fill(0);
  assert.deepEqual(p.chaddr, hex('525400123456'), 'decoded arrays must not alias the input');
});

const unencodable: { name: string; mod: (p: ReturnType<typeof packet>) => void }[] = [
  { name: 'sname of 64 bytes leaves no NUL', mod: (p) => (p.sname = 's'.repeat(64)) },
  { name: 'file of 128 bytes leaves no NUL', mod: (p) => (p.file = 'f'.repeat(128)) },
  { name: 'chaddr of 17 bytes', mod: (p) => (p.chaddr = new Uint8Array(17)) },
  { name: 'hlen 17', mod: (p) => (p.hlen = 17) },
  { name: 'siaddr not a dotted quad', mod: (p) => (p.siaddr = '192.0.2') },
  { name: 'xid over 32 bits', mod: (p) => (p.xid = 2 ** 32) },
  { name: 'option code 0', mod: (p) => p.options.set(0, hex('00')) },
  { name: 'option code 255', mod: (p) => p.options.set(255, hex('00')) },
];

for (const { name, mod } of unencodable) {
  test(`encodePacket refuses: ${name}`, () => assert.throws(() => encodePacket(packet(mod)), RangeError));
}

test('the longest sname and file that fit encode and decode back', () => {
  const p = packet((q) => Object.assign(q, { sname: 's'.repeat(63), file: 'f'.repeat(127) }));
  const back = decodePacket(encodePacket(p));
  assert.equal(back.sname, p.sname);
  assert.equal(back.file, p.file);
});
