import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DhcpDecodeError,
  clientArchs,
  clientGuid,
  decodePacket,
  encodePacket,
  ethernetMac,
  messageType,
  pxeVendorOptions,
  requestedParams,
  tryDecodePacket,
  userClasses,
  vendorClass,
} from '../../../../src/protocol/dhcp/index.ts';
import { ascii, hex, prng, rawPacket } from './helpers.ts';

const cases: { name: string; bytes: Uint8Array; reason: string }[] = [
  { name: 'zero-length packet', bytes: new Uint8Array(), reason: 'packet is empty' },
  { name: 'truncated header', bytes: rawPacket(hex('')).subarray(0, 100), reason: 'packet is 100 bytes, shorter than the 240-byte header and cookie' },
  { name: 'cookie cut short', bytes: rawPacket(hex('')).subarray(0, 239), reason: 'packet is 239 bytes, shorter than the 240-byte header and cookie' },
  { name: 'no cookie (plain BOOTP)', bytes: rawPacket(hex('ff'), { cookie: hex('00000000') }), reason: 'bad magic cookie 0x00000000' },
  { name: 'byte-swapped cookie', bytes: rawPacket(hex('ff'), { cookie: hex('63538263') }), reason: 'bad magic cookie 0x63538263' },
  { name: 'op neither request nor reply', bytes: rawPacket(hex('ff'), { op: 3 }), reason: 'op 3 is neither 1 (request) nor 2 (reply)' },
  { name: 'hlen over 16', bytes: rawPacket(hex('ff'), { hlen: 20 }), reason: 'hlen 20 exceeds 16' },
  { name: 'option length past end', bytes: rawPacket(hex('35 01 01  5d 04 0007')), reason: 'option 93 runs past end of packet' },
  { name: 'option code without a length byte', bytes: rawPacket(hex('35 01 01  3c')), reason: 'option 60 runs past end of packet' },
  {
    // A short ASCII name often walks cleanly ('p' = code 112, 'x' = length 120
    // fits in 128); garbage whose length byte overruns the field does not.
    name: 'overload pointing to garbage in file',
    bytes: rawPacket(hex('34 01 01 ff'), { file: hex('e0 f0 0102') }),
    reason: 'option 224 runs past end of file field',
  },
  {
    name: 'overload pointing to a server name',
    bytes: rawPacket(hex('34 01 02 ff'), { sname: ascii('server-name') }),
    reason: 'option 115 runs past end of sname field',
  },
  { name: 'overload value 0', bytes: rawPacket(hex('34 01 00 ff')), reason: 'option 52 value 0 is not 1, 2 or 3' },
  { name: 'overload of length 2', bytes: rawPacket(hex('34 02 0101 ff')), reason: 'option 52 length 2, want 1' },
  { name: 'malformed server identifier', bytes: rawPacket(hex('36 03 c00002 ff')), reason: 'option 54 length 3, want 4' },
  {
    name: 'malformed option inside the overloaded file field',
    bytes: rawPacket(hex('34 01 01 ff'), { file: hex('35 00 ff') }),
    reason: 'option 53 length 0, want 1',
  },
  { name: 'odd-length architecture list', bytes: rawPacket(hex('5d 03 000700 ff')), reason: 'option 93 length 3 is not a multiple of 2' },
];

for (const { name, bytes, reason } of cases) {
  test(`refused: ${name}`, () => {
    assert.throws(() => decodePacket(bytes), (err: unknown) => err instanceof DhcpDecodeError && err.reason === reason);
    assert.deepEqual(tryDecodePacket(bytes), { ok: false, reason });
  });
}

test('the error message carries the reason for logs', () => {
  const r = tryDecodePacket(new Uint8Array(3));
  assert.equal(r.ok, false);
  assert.throws(() => decodePacket(new Uint8Array(3)), { name: 'DhcpDecodeError', message: 'malformed DHCP packet: packet is 3 bytes, shorter than the 240-byte header and cookie' });
});

/** Everything a handler might do with a decoded packet; none of it may crash. */
function exercise(bytes: Uint8Array): void {
  const r = tryDecodePacket(bytes);
  if (!r.ok) return;
  const p = r.packet;
  messageType(p), vendorClass(p), clientArchs(p), userClasses(p), clientGuid(p), ethernetMac(p), requestedParams(p);
  try {
    pxeVendorOptions(p);
  } catch (err) {
    assert.ok(err instanceof DhcpDecodeError, `pxeVendorOptions threw ${String(err)}`);
  }
  let again: Uint8Array;
  try {
    again = encodePacket(p);
  } catch (err) {
    // A decoded sname/file that filled its field has no NUL left to encode.
    assert.ok(err instanceof RangeError && /^(sname|file) is/.test(err.message), `encodePacket threw ${String(err)}`);
    return;
  }
  assert.deepEqual(decodePacket(again), p, 'decode(encode(decode(x))) must equal decode(x)');
}

test('random bytes are refused with a reason or decoded, never crash', () => {
  const next = prng(0xd4c9);
  for (let i = 0; i < 2000; i++) {
    const bytes = Uint8Array.from({ length: next() % 400 }, () => next() & 0xff);
    if (bytes.length >= 240 && next() % 2 === 0) bytes.set(hex('63825363'), 236);
    exercise(bytes);
  }
});

test('mutated valid packets are refused with a reason or decoded, never crash', () => {
  const base = rawPacket(hex(`
    35 01 01  37 05 0103064243  3c 09 505845436c69656e74  5d 02 0007  5e 03 010310
    61 11 00 33221100 5544 7766 8899 aabbccddeeff  4d 04 69505845  51 05 04 00 00 01 61
    52 06 01 04 00010203  2b 06 06 01 08 0a 01 00  af 03 eb 01 01  ff`));
  const next = prng(0x5eed);
  for (let i = 0; i < 3000; i++) {
    const bytes = base.slice(0, base.length - (next() % 8 === 0 ? next() % 40 : 0));
    for (let flips = 1 + (next() % 4); flips > 0; flips--) {
      const at = next() % 2 === 0 ? 240 + (next() % (bytes.length - 240 || 1)) : next() % bytes.length;
      bytes[at] = next() & 0xff;
    }
    exercise(bytes);
  }
});
