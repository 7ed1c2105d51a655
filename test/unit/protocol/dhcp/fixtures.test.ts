/**
 * Golden packets from real firmware, read from test/fixtures/dhcp/.
 *
 * Convention for whoever adds them: each `<name>.bin` is one DHCP message
 * exactly as the UDP payload arrived (no Ethernet/IP/UDP headers), for
 * instance `tshark -r boot.pcap -Y 'udp.port==67' -T fields -e udp.payload |
 * sed -n 1p | xxd -r -p > ovmf-discover.bin`. An optional `<name>.json` next
 * to it states what the accessors must return; keys that are absent are not
 * checked:
 *
 *     { "messageType": 1, "mac": "52:54:00:12:34:56", "clientArchs": [7],
 *       "vendorClass": "PXEClient:Arch:00007:UNDI:003016", "userClasses": [],
 *       "clientGuid": "12345678-1234-5678-9abc-def012345678" }
 *
 * Every packet must decode, and decoding its re-encoding must give the same
 * value. Until the directory exists the test is skipped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import {
  clientArchs,
  clientGuid,
  decodePacket,
  encodePacket,
  macString,
  messageType,
  requestedParams,
  userClasses,
  vendorClass,
  type DhcpPacket,
} from '../../../../src/protocol/dhcp/index.ts';

const dir = new URL('../../../fixtures/dhcp/', import.meta.url);
const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.bin')).sort() : [];

const readers: Record<string, (p: DhcpPacket) => unknown> = {
  messageType,
  mac: macString,
  clientArchs,
  vendorClass,
  userClasses,
  clientGuid,
  requestedParams,
};

test('golden DHCP packets from real firmware', { skip: files.length === 0 ? 'no files in test/fixtures/dhcp/ yet' : false }, async (t) => {
  for (const file of files) {
    await t.test(file, () => {
      const packet = decodePacket(readFileSync(new URL(file, dir)));
      assert.deepEqual(decodePacket(encodePacket(packet)), packet);
      const expectUrl = new URL(file.replace(/\.bin$/, '.json'), dir);
      if (!existsSync(expectUrl)) return;
      const expected = JSON.parse(readFileSync(expectUrl, 'utf8')) as Record<string, unknown>;
      for (const [key, want] of Object.entries(expected)) {
        const read = readers[key];
        assert.ok(read, `${file}: unknown expectation key ${key}`);
        assert.deepEqual(read(packet), want, `${file}: ${key}`);
      }
    });
  }
});
