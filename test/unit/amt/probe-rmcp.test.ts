/**
 * The RMCP presence ping/pong codec against the byte layouts in the sources:
 * - DMTF DSP0136 (ASF 2.0) as freeipmi's tmpl_cmd_asf_presence_ping/pong and
 *   ipmitool src/plugins/lanplus/asf.h lay it out (ASF IANA 4542 = 0x000011BE,
 *   ping 0x80, pong 0x40, data length 16);
 * - Intel AMT Implementation and Reference Guide, "Use RMCP Ping to Determine
 *   the Platform State" and Discovery > "Detailed Description" (Intel's data
 *   bytes 1-12: IANA 343, port 16992/16993 or 0, version nibbles "6.0 would
 *   be 0x60", setup state 0/1/2, DASH bit 5 of byte 9 or 10, bytes 11/12 when
 *   byte 7 is 0);
 * - MeshCentral amtscanner.js buildRmcpPing/parseRmcpPacket (same offsets;
 *   bit 2 of byte 8 = both ports open).
 * No captured AMT pong was found in public sources, so the AMT vectors below
 * are assembled byte by byte from Intel's table; each byte names its source.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAmtPong, buildPresencePing, parsePresencePong } from '../../../src/amt/probe/rmcp.ts';
import type { PongResult } from '../../../src/amt/probe/rmcp.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/[\s|]/g, ''), 'hex'));
const HEADER = (tag: string) => `06 00 ff 06 | 00 00 11 be | 40 ${tag} 00 10`; // RMCP v1.0, seq 0xFF, class ASF | IANA 4542 | pong, tag, len 16

function pong(r: PongResult) {
  assert.ok(r.ok, r.ok ? '' : r.reason);
  return r.pong;
}

test('the presence ping is the 12 bytes of ASF 2.0 (ipmitool/freeipmi); MeshCentral sends the same ASF part', () => {
  assert.equal(Buffer.from(buildPresencePing(0)).toString('hex'), '0600ff06000011be80000000');
  assert.equal(Buffer.from(buildPresencePing(0x37)).toString('hex'), '0600ff06000011be80370000');
  // MeshCentral amtscanner.js: hex2rstr('06000006000011BE80000000') with the tag at byte 9. It asks
  // sequence 0; we send 0xFF, ASF's "no RMCP ACK wanted". Everything from byte 3 on is identical.
  assert.deepEqual(buildPresencePing(5).subarray(3), Uint8Array.from(Buffer.from('06000011BE80050000', 'hex')));
  assert.throws(() => buildPresencePing(255), RangeError); // 255 is reserved by ASF
  assert.throws(() => buildPresencePing(-1), RangeError);
});

// Intel's byte n of the pong data is offset 11 + n. Columns: IANA | port | ver | state | entities | interactions | reserved
const VECTORS: readonly { name: string; bytes: string; want: Record<string, unknown> }[] = [
  {
    name: 'Release 6.0, TLS off (16992), configured: Intel\'s own example byte 0x60',
    bytes: `${HEADER('07')} | 00 00 01 57 | 42 60 | 60 | 02 | 01 | 20 | 00 00 00 00 00 00`,
    want: { tag: 7, amt: true, dash: true, ipmi: false, version: { major: 6, minor: 0, text: '6.0' }, openPort: 16992, ports: { http: true, https: false }, provisioningState: 'post' },
  },
  {
    name: 'Release 11.8, not set up yet: port 0 (6.1+ answers before setup), state 0',
    bytes: `${HEADER('01')} | 00 00 01 57 | 00 00 | b8 | 00 | 01 | 20 | 00 00 00 00 00 00`,
    want: { tag: 1, amt: true, dash: true, version: { major: 11, minor: 8, text: '11.8' }, openPort: 0, ports: { http: false, https: false }, provisioningState: 'pre' },
  },
  {
    name: 'TLS on (16993), configuration in process',
    bytes: `${HEADER('02')} | 00 00 01 57 | 42 61 | 95 | 01 | 01 | 20 | 00 00 00 00 00 00`,
    want: { openPort: 16993, ports: { http: false, https: true }, provisioningState: 'in', version: { major: 9, minor: 5, text: '9.5' } },
  },
  {
    name: 'byte 7 zero: major and minor in bytes 11 and 12 (16.1)',
    bytes: `${HEADER('03')} | 00 00 01 57 | 42 61 | 00 | 02 | 01 | 20 | 10 01 00 00 00 00`,
    want: { version: { major: 16, minor: 1, text: '16.1' }, provisioningState: 'post' },
  },
  {
    name: 'MeshCentral\'s dual-port bit (byte 8 bit 2) opens both ports',
    bytes: `${HEADER('04')} | 00 00 01 57 | 42 60 | 70 | 06 | 01 | 20 | 00 00 00 00 00 00`,
    want: { ports: { http: true, https: true }, provisioningState: 'post', version: { major: 7, minor: 0, text: '7.0' } },
  },
  {
    name: 'Release 4.x/5.0: DASH in bit 5 of byte 9, no version before 6.0',
    bytes: `${HEADER('05')} | 00 00 01 57 | 42 60 | 00 | 02 | 21 | 00 | 00 00 00 00 00 00`,
    want: { dash: true, version: undefined, provisioningState: 'post' },
  },
  {
    name: 'state value 3 is not defined: unknown',
    bytes: `${HEADER('06')} | 00 00 01 57 | 42 60 | b8 | 03 | 01 | 20 | 00 00 00 00 00 00`,
    want: { provisioningState: 'unknown' },
  },
  {
    // A server BMC: OEM IANA = ASF's own 4542, supported entities 0x81 (IPMI, ASF 1.0), as in freeipmi's
    // pong template. Not AMT, so none of the AMT fields are read.
    name: 'an IPMI BMC pong is decoded but is not AMT',
    bytes: `${HEADER('00')} | 00 00 11 be | 00 00 | 00 | 00 | 81 | 00 | 00 00 00 00 00 00`,
    want: { amt: false, ipmi: true, oemIana: 4542, version: undefined, ports: undefined, provisioningState: undefined },
  },
  {
    name: 'a pong cut after the reserved area starts (26 bytes) still decodes',
    bytes: '0600ff06000011be40000010000011be00000000810000000000',
    want: { amt: false, ipmi: true },
  },
];

for (const v of VECTORS) {
  test(`pong: ${v.name}`, () => {
    const p = pong(parsePresencePong(hex(v.bytes)));
    for (const [key, value] of Object.entries(v.want)) assert.deepEqual((p as unknown as Record<string, unknown>)[key], value, key);
    assert.equal(p.amt, p.oemIana === 343);
  });
}

test('anything that is not a presence pong is refused with a reason, never thrown', () => {
  const good = `${HEADER('07')} 00 00 01 57 42 60 60 02 01 20 00 00 00 00 00 00`;
  const cases: readonly [string, string, RegExp][] = [
    ['short', '0600ff06', /shorter than/],
    ['RMCP version', good.replace(/^06/, '07'), /RMCP version 0x07/],
    ['RMCP ACK', good.replace(/^06 00 ff 06/, '06 00 ff 86'), /ACK/],
    ['IPMI class', good.replace(/^06 00 ff 06/, '06 00 ff 07'), /class 7/],
    ['ASF IANA', good.replace('00 00 11 be', '00 00 01 57'), /ASF IANA number 343/],
    ['our own ping', '0600ff06000011be80070000', /type 0x80/],
    ['data length', `06 00 ff 06 00 00 11 be 40 07 00 04 00 00 01 57`, /data length 4/],
    ['data cut short', `${HEADER('07')} 00 00 01 57 42 60`, /ends at byte 6/],
  ];
  for (const [name, bytes, reason] of cases) {
    const r = parsePresencePong(hex(bytes));
    assert.equal(r.ok, false, name);
    if (!r.ok) assert.match(r.reason, reason, name);
  }
  for (let i = 0; i < 3000; i++) {
    const b = new Uint8Array(Math.floor(Math.random() * 40));
    for (let j = 0; j < b.length; j++) b[j] = Math.floor(Math.random() * 256);
    if (i % 2 === 0 && b.length >= 12) b.set([0x06, 0x00, 0xff, 0x06, 0x00, 0x00, 0x11, 0xbe, 0x40]);
    parsePresencePong(b); // must not throw
  }
});

test('the simulator\'s pong (buildAmtPong) decodes to what it was built from, nibble and byte-11/12 versions alike', () => {
  const built = buildAmtPong({ tag: 9, major: 6, minor: 0, openPort: 16992, provisioningState: 'post' });
  assert.deepEqual(built, hex(`${HEADER('09')} | 00 00 01 57 | 42 60 | 60 | 02 | 01 | 20 | 00 00 00 00 00 00`));
  for (const f of [
    { tag: 1, major: 11, minor: 8, openPort: 0, provisioningState: 'pre' as const },
    { tag: 2, major: 16, minor: 1, openPort: 16993, provisioningState: 'in' as const },
    { tag: 3, major: 12, minor: 0, openPort: 16992, bothPorts: true, provisioningState: 'post' as const },
  ]) {
    const p = pong(parsePresencePong(buildAmtPong(f)));
    assert.equal(p.tag, f.tag);
    assert.deepEqual(p.version, { major: f.major, minor: f.minor, text: `${f.major}.${f.minor}` });
    assert.equal(p.openPort, f.openPort);
    assert.equal(p.provisioningState, f.provisioningState);
    assert.equal(p.ports?.https, f.openPort === 16993 || f.bothPorts === true);
  }
});
