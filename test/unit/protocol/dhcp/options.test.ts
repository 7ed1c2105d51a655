import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DhcpDecodeError,
  OPTIONS,
  OptionCode,
  decodeOptionValue,
  decodePacket,
  encodeOptionValue,
  encodePacket,
  getOption,
  optionName,
  setOption,
  type KnownOptionCode,
} from '../../../../src/protocol/dhcp/index.ts';
import { ascii, hex, packet } from './helpers.ts';

const GUID = hex('33221100 5544 7766 8899 aabbccddeeff');

/** One value and its exact data bytes per registered option. */
const roundTrips: { code: KnownOptionCode; value: unknown; data: Uint8Array }[] = [
  { code: 1, value: '255.255.255.0', data: hex('ffffff00') },
  { code: 3, value: ['192.0.2.1'], data: hex('c0000201') },
  { code: 6, value: ['192.0.2.53', '198.51.100.53'], data: hex('c0000235 c6336435') },
  { code: 12, value: 'node-01', data: ascii('node-01') },
  { code: 15, value: 'lab.example.com', data: ascii('lab.example.com') },
  { code: 43, value: hex('060108ff'), data: hex('060108ff') },
  { code: 50, value: '192.0.2.10', data: hex('c000020a') },
  { code: 51, value: 86400, data: hex('00015180') },
  { code: 52, value: 3, data: hex('03') },
  { code: 53, value: 5, data: hex('05') },
  { code: 54, value: '192.0.2.1', data: hex('c0000201') },
  { code: 55, value: [1, 3, 6, 66, 67], data: hex('0103064243') },
  { code: 56, value: 'address in use', data: ascii('address in use') },
  { code: 57, value: 1260, data: hex('04ec') },
  { code: 58, value: 43200, data: hex('0000a8c0') },
  { code: 59, value: 75600, data: hex('00012750') },
  { code: 60, value: 'PXEClient:Arch:00007:UNDI:003016', data: ascii('PXEClient:Arch:00007:UNDI:003016') },
  { code: 61, value: hex('01525400123456'), data: hex('01525400123456') },
  { code: 66, value: '192.0.2.1', data: ascii('192.0.2.1') },
  { code: 67, value: 'ipxe.efi', data: ascii('ipxe.efi') },
  { code: 77, value: ['iPXE', 'lab'], data: hex('04 69505845 03 6c6162') },
  {
    code: 81,
    value: { flags: 0x05, rcode1: 0, rcode2: 0, name: 'node-01.example.com.' },
    data: hex('05 00 00  07 6e6f64652d3031  07 6578616d706c65  03 636f6d  00'),
  },
  {
    code: 82,
    value: { raw: hex('01 04 00010203  02 02 abcd'), subOptions: [{ code: 1, data: hex('00010203') }, { code: 2, data: hex('abcd') }] },
    data: hex('01 04 00010203  02 02 abcd'),
  },
  { code: 93, value: [0, 7], data: hex('0000 0007') },
  { code: 94, value: { type: 1, major: 3, minor: 16 }, data: hex('010310') },
  { code: 97, value: { kind: 'guid', type: 0, guid: GUID }, data: hex('00 33221100 5544 7766 8899 aabbccddeeff') },
  {
    code: 175,
    value: [{ code: 0xb1, data: hex('01 8086 100e') }, { code: 0xeb, data: hex('010203') }],
    data: hex('b1 05 018086100e  eb 03 010203'),
  },
];

test('every registered option has a round-trip case', () => {
  const covered = new Set(roundTrips.map((c) => c.code));
  const missing = Object.keys(OPTIONS).map(Number).filter((c) => !covered.has(c as KnownOptionCode));
  assert.deepEqual(missing, []);
});

for (const { code, value, data } of roundTrips) {
  test(`option ${code} (${optionName(code)}) encodes to its bytes and decodes back`, () => {
    assert.deepEqual(encodeOptionValue(code, value as never), data);
    assert.deepEqual(decodeOptionValue(code, data), value);
  });

  // 52 is framing: the encoder never writes it (see the packet tests).
  if (code !== 52) {
    test(`option ${code} (${optionName(code)}) survives a whole packet round trip`, () => {
      const p = packet((q) => setOption(q.options, code, value as never));
      const back = decodePacket(encodePacket(p));
      assert.deepEqual(back.options.get(code), data);
      assert.deepEqual(getOption(back.options, code), value);
    });
  }
}

/** Data the decoders accept although it is not what they would write. */
const tolerated: { name: string; code: KnownOptionCode; data: Uint8Array; value: unknown }[] = [
  { name: 'iPXE bare user class', code: 77, data: ascii('iPXE'), value: ['iPXE'] },
  { name: 'empty user class', code: 77, data: hex(''), value: [] },
  { name: 'user class whose length prefix overruns', code: 77, data: hex('05 6162'), value: ['\x05ab'] },
  { name: 'GUID without its type byte', code: 97, data: GUID, value: { kind: 'guid', type: undefined, guid: GUID } },
  { name: 'machine id of the wrong length', code: 97, data: hex('0001020304'), value: { kind: 'raw', bytes: hex('0001020304') } },
  { name: 'empty machine id', code: 97, data: hex(''), value: { kind: 'raw', bytes: hex('') } },
  { name: 'hostname with trailing NULs', code: 12, data: hex('686f7374 0000'), value: 'host' },
  { name: 'ASCII client FQDN', code: 81, data: hex('00 ff ff 686f7374'), value: { flags: 0, rcode1: 255, rcode2: 255, name: 'host' } },
  { name: 'partial wire client FQDN', code: 81, data: hex('04 00 00 04 686f7374'), value: { flags: 4, rcode1: 0, rcode2: 0, name: 'host' } },
  { name: 'relay info that is not a TLV list', code: 82, data: hex('01 09 00'), value: { raw: hex('01 09 00'), subOptions: undefined } },
  { name: 'iPXE options with pad and end', code: 175, data: hex('00 eb 01 07 ff 99'), value: [{ code: 0xeb, data: hex('07') }] },
  { name: 'root-only wire client FQDN', code: 81, data: hex('04 00 00 00'), value: { flags: 4, rcode1: 0, rcode2: 0, name: '.' } },
  { name: 'no architectures', code: 93, data: hex(''), value: [] },
];

for (const { name, code, data, value } of tolerated) {
  test(`tolerated: ${name}`, () => assert.deepEqual(decodeOptionValue(code, data), value));
}

const malformedValues: { code: KnownOptionCode; data: Uint8Array; reason: string }[] = [
  { code: 1, data: hex('ffffff'), reason: 'option 1 length 3, want 4' },
  { code: 3, data: hex('c000020101'), reason: 'option 3 length 5 is not a positive multiple of 4' },
  { code: 6, data: hex(''), reason: 'option 6 length 0 is not a positive multiple of 4' },
  { code: 51, data: hex('0001'), reason: 'option 51 length 2, want 4' },
  { code: 52, data: hex('04'), reason: 'option 52 value 4 is not 1, 2 or 3' },
  { code: 53, data: hex(''), reason: 'option 53 length 0, want 1' },
  { code: 54, data: hex('c00002'), reason: 'option 54 length 3, want 4' },
  { code: 57, data: hex('04'), reason: 'option 57 length 1, want 2' },
  { code: 81, data: hex('0400'), reason: 'option 81 length 2, want at least 3' },
  { code: 81, data: hex('040000 c00c'), reason: 'option 81 domain name label length 192 exceeds 63' },
  { code: 81, data: hex('040000 05 6162'), reason: 'option 81 domain name runs past end' },
  { code: 81, data: hex('040000 01 61 00 01'), reason: 'option 81 bytes after the root label of the domain name' },
  { code: 93, data: hex('000700'), reason: 'option 93 length 3 is not a multiple of 2' },
  { code: 94, data: hex('0103'), reason: 'option 94 length 2, want 3' },
  { code: 175, data: hex('b1 05 0180'), reason: 'option 175 sub-option 177 runs past end' },
];

for (const { code, data, reason } of malformedValues) {
  test(`malformed value: ${reason}`, () => {
    assert.throws(() => decodeOptionValue(code, data), (err: unknown) => err instanceof DhcpDecodeError && err.reason === reason);
  });
}

const unencodable: { name: string; encode: () => unknown }[] = [
  { name: 'address with letters', encode: () => encodeOptionValue(54, 'a.b.c.d') },
  { name: 'address octet over 255', encode: () => encodeOptionValue(1, '256.0.0.1') },
  { name: 'empty router list', encode: () => encodeOptionValue(3, []) },
  { name: 'lease time over 32 bits', encode: () => encodeOptionValue(51, 2 ** 32) },
  { name: 'negative message type', encode: () => encodeOptionValue(53, -1) },
  { name: 'empty user class string', encode: () => encodeOptionValue(77, ['']) },
  { name: 'FQDN label over 63 bytes', encode: () => encodeOptionValue(81, { flags: 4, rcode1: 0, rcode2: 0, name: 'x'.repeat(64) }) },
  { name: 'FQDN with an empty label', encode: () => encodeOptionValue(81, { flags: 4, rcode1: 0, rcode2: 0, name: 'a..b' }) },
  { name: 'GUID of 15 bytes', encode: () => encodeOptionValue(97, { kind: 'guid', type: 0, guid: new Uint8Array(15) }) },
  { name: 'hostname outside Latin-1', encode: () => encodeOptionValue(12, 'n\u0153ud') },
];

for (const { name, encode } of unencodable) {
  test(`encode refuses: ${name}`, () => assert.throws(encode, RangeError));
}

test('OptionCode is derived from the registry names', () => {
  assert.equal(OptionCode.VendorClassId, 60);
  assert.equal(OptionCode.ClientSystemArch, 93);
  assert.equal(OptionCode.IpxeEncapsulated, 175);
  const names = Object.values(OPTIONS).map((s) => s.name);
  assert.equal(new Set(names).size, names.length, 'registry names must be unique');
  assert.equal(Object.keys(OptionCode).length, names.length);
});

test('optionName falls back to the code for unknown options', () => {
  assert.equal(optionName(60), 'VendorClassId');
  assert.equal(optionName(249), 'Option249');
});

test('getOption is undefined for an absent option and setOption replaces', () => {
  const options = new Map<number, Uint8Array>();
  assert.equal(getOption(options, OptionCode.HostName), undefined);
  setOption(options, OptionCode.HostName, 'a');
  setOption(options, OptionCode.HostName, 'b');
  assert.deepEqual(options.get(12), ascii('b'));
});
