import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DhcpDecodeError,
  DiscoveryControl,
  MessageType,
  OptionCode,
  clientArchs,
  clientGuid,
  decodePacket,
  decodePxeVendorOptions,
  encodePacket,
  encodePxeVendorOptions,
  ethernetMac,
  getOption,
  messageType,
  pxeVendorOptions,
  replyFrom,
  requestedParams,
  setOption,
  userClasses,
  vendorClass,
  wantsBroadcast,
  type PxeVendorOptions,
} from '../../../../src/protocol/dhcp/index.ts';
import { ascii, concat, hex, packet, withOption } from './helpers.ts';

/**
 * A UEFI x86-64 PXE DISCOVER written from the PXE 2.1 spec (§2.2.1) and
 * RFC 4578, not captured: what the codec must read before any golden packet
 * from real firmware exists.
 */
const PXE_DISCOVER = concat(
  hex(`
    01 01 06 00                       # op BOOTREQUEST, htype Ethernet, hlen 6, hops 0
    5e1f8a21                          # xid
    0004 8000                         # secs 4, flags broadcast: no address yet
    00000000 00000000 00000000 00000000   # ciaddr yiaddr siaddr giaddr
    525400123456 00000000000000000000 # chaddr
  `),
  new Uint8Array(64 + 128), // sname, file
  hex(`
    63825363                          # magic cookie
    35 01 01                          # 53 DHCPDISCOVER
    37 23 01 02 03 04 05 06 0c 0d 0f 11 12 16 17 1c 28 29 2a 2b
          32 33 36 3a 3b 3c 42 43 61 80 81 82 83 84 85 86 87   # 55: RFC 2132 basics, 43, 60, 66, 67, 97, 128-135
    39 02 04ec                        # 57 max message size 1260
    5d 02 0007                        # 93 arch 7: EFI x86-64
    5e 03 01 03 10                    # 94 NDI: UNDI 3.16
    61 11 00 33221100 5544 7766 8899 aabbccddeeff   # 97 type 0 + GUID, SMBIOS byte order
    3c 20
  `),
  ascii('PXEClient:Arch:00007:UNDI:003016'), // 60, UNDI 003016 agrees with option 94
  hex('ff'),
);

test('a hand-built PXE DISCOVER decodes to what boot/ needs', () => {
  const p = decodePacket(PXE_DISCOVER);
  assert.equal(p.op, 1);
  assert.equal(p.xid, 0x5e1f8a21);
  assert.equal(p.secs, 4);
  assert.equal(wantsBroadcast(p), true);
  assert.equal(p.ciaddr, '0.0.0.0');
  assert.equal(ethernetMac(p), '52:54:00:12:34:56');
  assert.equal(messageType(p), MessageType.Discover);
  assert.deepEqual(requestedParams(p), [
    1, 2, 3, 4, 5, 6, 12, 13, 15, 17, 18, 22, 23, 28, 40, 41, 42, 43,
    50, 51, 54, 58, 59, 60, 66, 67, 97, 128, 129, 130, 131, 132, 133, 134, 135,
  ]);
  assert.equal(getOption(p.options, OptionCode.MaxMessageSize), 1260);
  assert.deepEqual(clientArchs(p), [7]);
  assert.deepEqual(getOption(p.options, OptionCode.ClientNdi), { type: 1, major: 3, minor: 16 });
  assert.equal(clientGuid(p), '00112233-4455-6677-8899-aabbccddeeff');
  assert.equal(vendorClass(p), 'PXEClient:Arch:00007:UNDI:003016');
  assert.deepEqual(userClasses(p), []);
  assert.deepEqual([...p.options.keys()], [53, 55, 57, 93, 94, 97, 60]);
});

test('the PXE DISCOVER re-encodes to the same bytes', () => {
  assert.deepEqual(encodePacket(decodePacket(PXE_DISCOVER)), PXE_DISCOVER);
});

test('a ProxyDHCP OFFER built for it has the expected option bytes', () => {
  const offer = replyFrom(decodePacket(PXE_DISCOVER));
  setOption(offer.options, OptionCode.MessageType, MessageType.Offer);
  setOption(offer.options, OptionCode.ServerIdentifier, '192.0.2.1');
  setOption(offer.options, OptionCode.VendorClassId, 'PXEClient');
  setOption(offer.options, OptionCode.VendorSpecific, encodePxeVendorOptions({ discoveryControl: DiscoveryControl.UseBootFile }));
  offer.siaddr = '192.0.2.1';
  offer.file = 'ipxe.efi';
  const bytes = encodePacket(offer);
  assert.equal(bytes.length, 300);
  assert.deepEqual(bytes.subarray(0, 4), hex('02 01 06 00'));
  assert.deepEqual(bytes.subarray(20, 24), hex('c0000201'));
  assert.deepEqual(
    bytes.subarray(240, 240 + 46),
    hex(`35 01 02
         61 11 00 33221100 5544 7766 8899 aabbccddeeff
         36 04 c0000201
         3c 09 505845436c69656e74
         2b 04 06 01 08 ff
         ff`),
  );
});

const fullValue: PxeVendorOptions = {
  discoveryControl: DiscoveryControl.DisableBroadcast | DiscoveryControl.DisableMulticast | DiscoveryControl.OnlyListedServers,
  bootServers: [{ type: 0x8000, addresses: ['192.0.2.1', '192.0.2.2'] }],
  bootMenu: [{ type: 0x8000, description: 'Boot netboot' }, { type: 0, description: 'Local disk' }],
  menuPrompt: { timeout: 5, prompt: 'Press F8' },
  bootItem: { type: 0x8000, layer: 0 },
  other: [{ code: 1, data: hex('e0000102') }],
};

const fullBytes = hex(`
  06 01 07                                     # discovery control
  08 0b 8000 02 c0000201 c0000202              # boot servers: type, count, addresses
  09 1c 8000 0c ${Buffer.from('Boot netboot').toString('hex')} 0000 0a ${Buffer.from('Local disk').toString('hex')}
  0a 09 05 ${Buffer.from('Press F8').toString('hex')}
  47 04 8000 0000                              # boot item
  01 04 e0000102                               # MTFTP address, kept raw
  ff`);

test('PXE vendor options encode to their bytes and decode back', () => {
  assert.deepEqual(encodePxeVendorOptions(fullValue), fullBytes);
  assert.deepEqual(decodePxeVendorOptions(fullBytes), fullValue);
});

test('the usual proxy option 43 is discovery control 8 and the end marker', () => {
  assert.deepEqual(encodePxeVendorOptions({ discoveryControl: DiscoveryControl.UseBootFile }), hex('06 01 08 ff'));
  assert.deepEqual(decodePxeVendorOptions(hex('06 01 08 ff')), { discoveryControl: 8 });
  assert.deepEqual(encodePxeVendorOptions({}), hex('ff'));
});

test('pxeVendorOptions reads option 43 of a packet', () => {
  assert.deepEqual(pxeVendorOptions(packet(withOption(43, hex('47 04 8000 0001 ff')))), { bootItem: { type: 0x8000, layer: 1 } });
  assert.equal(pxeVendorOptions(packet()), undefined);
});

const malformedPxe: { data: Uint8Array; reason: string }[] = [
  { data: hex('06 05 08'), reason: 'option 43 sub-option 6 runs past end' },
  { data: hex('06 02 0808'), reason: 'option 43 sub-option 6 length 2, want 1' },
  { data: hex('08 04 8000 02 c0'), reason: 'option 43 sub-option 8 entry runs past end' },
  { data: hex('09 04 0000 05 41'), reason: 'option 43 sub-option 9 entry runs past end' },
  { data: hex('0a 00'), reason: 'option 43 sub-option 10 length 0, want at least 1' },
  { data: hex('47 03 800000'), reason: 'option 43 sub-option 71 length 3, want 4' },
  { data: hex('06 01 08 06 01 00'), reason: 'option 43 sub-option 6 appears twice' },
];

for (const { data, reason } of malformedPxe) {
  test(`malformed PXE options: ${reason}`, () => {
    assert.throws(() => decodePxeVendorOptions(data), (err: unknown) => err instanceof DhcpDecodeError && err.reason === reason);
  });
}

test('PXE options that would not fit one option 43 are refused', () => {
  // 16 items of 15 bytes fit one sub-option (242 bytes) but not, with the rest, one option.
  const bootMenu = Array.from({ length: 16 }, (_, i) => ({ type: 0x8000 + i, description: `Menu item ${String(i).padStart(2, '0')}` }));
  const value = { discoveryControl: 0, bootMenu, menuPrompt: { timeout: 5, prompt: 'Press F8' } };
  assert.throws(() => encodePxeVendorOptions(value), /PXE vendor options are 257 bytes; option 43 holds 255/);
  assert.equal(encodePxeVendorOptions({ ...value, menuPrompt: { timeout: 5, prompt: 'F8' } }).length, 251);
  assert.throws(() => encodePxeVendorOptions({ menuPrompt: { timeout: 1, prompt: 'x'.repeat(255) } }), RangeError);
  assert.throws(() => encodePxeVendorOptions({ bootMenu: [{ type: 0, description: 'x'.repeat(256) }] }), RangeError);
});
