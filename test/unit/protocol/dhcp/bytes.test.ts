import { test } from 'node:test';
import assert from 'node:assert/strict';
import { latin1, latin1Bytes, writeIpv4, writeUint } from '../../../../src/protocol/dhcp/bytes.ts';

test('latin1 maps every byte to one code unit, also past the chunk size, and latin1Bytes gives the bytes back', () => {
  for (const length of [0, 1, 255, 4096, 4097, 10_000]) {
    const bytes = Uint8Array.from({ length }, (_, i) => (i * 7) % 256);
    const text = latin1(bytes);
    assert.equal(text.length, length);
    for (let i = 0; i < length; i += 997) assert.equal(text.charCodeAt(i), bytes[i], `length ${length}, index ${i}`);
    assert.deepEqual(latin1Bytes(text), bytes);
  }
});

test('writeUint and writeIpv4 write at the offset, touch nothing else, and refuse what does not fit', () => {
  const out = new Uint8Array(12).fill(0xee);
  writeUint(out, 1, 0x0102, 2);
  writeIpv4(out, 4, '10.9.0.254');
  writeUint(out, 8, 0xdeadbeef, 4);
  assert.deepEqual([...out], [0xee, 1, 2, 0xee, 10, 9, 0, 254, 0xde, 0xad, 0xbe, 0xef]);
  assert.throws(() => writeUint(out, 0, 256, 1), RangeError);
  assert.throws(() => writeUint(out, 0, -1, 2), RangeError);
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', '1.2.3.4 ', '1234.1.1.1']) assert.throws(() => writeIpv4(out, 0, bad), RangeError, bad);
});
