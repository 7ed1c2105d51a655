import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  clientArchs,
  clientGuid,
  ethernetMac,
  formatGuid,
  formatMac,
  macString,
  messageType,
  parseGuid,
  parseMac,
  requestedParams,
  userClasses,
  vendorClass,
  wantsBroadcast,
} from '../../../../src/protocol/dhcp/index.ts';
import { ascii, hex, packet, withOption } from './helpers.ts';

const guids: { name: string; wire: Uint8Array; text: string }[] = [
  // The first three fields are little-endian on the wire (SMBIOS 2.6+, EFI, PXE).
  { name: 'bytes 00..0f', wire: hex('00010203 0405 0607 0809 0a0b0c0d0e0f'), text: '03020100-0504-0706-0809-0a0b0c0d0e0f' },
  // What QEMU puts in option 97 for -uuid 12345678-1234-5678-9abc-def012345678.
  { name: 'a QEMU -uuid', wire: hex('78563412 3412 7856 9abc def012345678'), text: '12345678-1234-5678-9abc-def012345678' },
];

for (const { name, wire, text } of guids) {
  test(`GUID ${name} renders mixed-endian and parses back`, () => {
    assert.equal(formatGuid(wire), text);
    assert.deepEqual(parseGuid(text), wire);
    assert.deepEqual(parseGuid(text.toUpperCase()), wire);
  });
}

test('GUID helpers refuse what is not a GUID', () => {
  assert.throws(() => formatGuid(new Uint8Array(15)), RangeError);
  for (const bad of ['', '12345678123456781234567812345678', '1234567-1234-5678-9abc-def012345678', '12345678-1234-5678-9abc-def01234567g']) {
    assert.throws(() => parseGuid(bad), RangeError, bad);
  }
});

const clientGuidCases: { name: string; data: Uint8Array | undefined; want: string | undefined }[] = [
  { name: 'type 0 + 16 bytes', data: hex('00 78563412 3412 7856 9abc def012345678'), want: '12345678-1234-5678-9abc-def012345678' },
  { name: '16 bytes without type (Intel quirk)', data: hex('78563412 3412 7856 9abc def012345678'), want: '12345678-1234-5678-9abc-def012345678' },
  { name: 'wrong length', data: hex('00 7856341234'), want: undefined },
  { name: 'absent', data: undefined, want: undefined },
];

for (const { name, data, want } of clientGuidCases) {
  test(`clientGuid: ${name}`, () => {
    assert.equal(clientGuid(packet(...(data ? [withOption(97, data)] : []))), want);
  });
}

test('user classes from RFC 3004 and from iPXE', () => {
  assert.deepEqual(userClasses(packet(withOption(77, hex('04 69505845 05 6c6162656c')))), ['iPXE', 'label']);
  assert.deepEqual(userClasses(packet(withOption(77, ascii('iPXE')))), ['iPXE']);
  assert.deepEqual(userClasses(packet()), []);
});

test('MAC text: any htype from macString, Ethernet only from ethernetMac', () => {
  assert.equal(macString(packet()), '52:54:00:12:34:56');
  assert.equal(ethernetMac(packet()), '52:54:00:12:34:56');
  const ieee802 = packet((p) => (p.htype = 6));
  assert.equal(macString(ieee802), '52:54:00:12:34:56');
  assert.equal(ethernetMac(ieee802), undefined);
  const long = packet((p) => Object.assign(p, { hlen: 8, chaddr: hex('5254001234560102') }));
  assert.equal(ethernetMac(long), undefined);
  assert.equal(macString(long), '52:54:00:12:34:56:01:02');
});

test('formatMac and parseMac', () => {
  assert.equal(formatMac(hex('AABBCCDDEEFF')), 'aa:bb:cc:dd:ee:ff');
  assert.deepEqual(parseMac('AA-BB-cc:dd:ee:ff'), hex('aabbccddeeff'));
  assert.throws(() => parseMac('aa:bb:c'), RangeError);
});

test('absent options read as undefined or empty lists', () => {
  const p = packet();
  assert.equal(messageType(p), undefined);
  assert.equal(vendorClass(p), undefined);
  assert.deepEqual(clientArchs(p), []);
  assert.deepEqual(requestedParams(p), []);
  assert.equal(wantsBroadcast(p), false);
});

test('several architectures are read in order', () => {
  assert.deepEqual(clientArchs(packet(withOption(93, hex('0007 0009 0000')))), [7, 9, 0]);
});
