/**
 * Option 15 and option 81 accessors, which the agent reads for Intel AMT:
 * option 15 is the DNS suffix AMT takes from DHCP, option 81 the FQDN the OS
 * asks for. Byte vectors are written out by hand (RFC 2132 §3.17, RFC 4702).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientFqdn, clientFqdnDomain, decodePacket, domainName, tryDecodePacket } from '../../../../src/protocol/dhcp/index.ts';
import { ascii, concat, hex, packet, rawPacket, withOption } from './helpers.ts';

const END = hex('ff');

test('option 15 reads back as sent, trailing NULs dropped; absent is undefined', () => {
  const cases: { name: string; option: Uint8Array | undefined; want: string | undefined }[] = [
    { name: 'plain', option: concat(hex('0f 0b'), ascii('contoso.com')), want: 'contoso.com' },
    { name: 'NUL-terminated (some Windows servers)', option: concat(hex('0f 0c'), ascii('contoso.com'), hex('00')), want: 'contoso.com' },
    { name: 'mixed case kept', option: concat(hex('0f 11'), ascii('Sales.Contoso.COM')), want: 'Sales.Contoso.COM' },
    { name: 'empty', option: hex('0f 00'), want: '' },
    { name: 'absent', option: undefined, want: undefined },
  ];
  for (const c of cases) {
    const bytes = rawPacket(concat(hex('35 01 02'), c.option ?? new Uint8Array(0), END), { op: 2 });
    assert.equal(domainName(decodePacket(bytes)), c.want, c.name);
  }
});

test('option 81: ASCII and wire-format names, flags kept, domain part lower-cased without the root dot', () => {
  const cases: { name: string; data: Uint8Array; fqdn: string; domain: string | undefined }[] = [
    // flags 0 (ASCII name), rcode1/rcode2 255 as RFC 4702 §2.2 tells clients to send.
    { name: 'ASCII FQDN', data: concat(hex('00 ff ff'), ascii('ws01.Sales.Contoso.com')), fqdn: 'ws01.Sales.Contoso.com', domain: 'sales.contoso.com' },
    // flags 0x05: E (canonical wire format) + S (server does the A update), as Windows sends.
    { name: 'wire-format FQDN', data: concat(hex('05 00 00'), hex('04'), ascii('ws01'), hex('07'), ascii('contoso'), hex('03'), ascii('com'), hex('00')), fqdn: 'ws01.contoso.com.', domain: 'contoso.com' },
    { name: 'wire-format partial name (host label only)', data: concat(hex('04 00 00'), hex('04'), ascii('ws01')), fqdn: 'ws01', domain: undefined },
    { name: 'ASCII host only', data: concat(hex('00 00 00'), ascii('ws01')), fqdn: 'ws01', domain: undefined },
    { name: 'empty name', data: hex('00 00 00'), fqdn: '', domain: undefined },
  ];
  for (const c of cases) {
    const p = packet(withOption(81, c.data));
    assert.equal(clientFqdn(p)?.name, c.fqdn, c.name);
    assert.equal(clientFqdnDomain(p), c.domain, c.name);
  }
  assert.equal(clientFqdn(packet()), undefined);
  assert.equal(clientFqdnDomain(packet()), undefined);
});

test('a malformed option 81 makes the packet malformed, so the accessors never see it', () => {
  // Length 2: shorter than the three fixed bytes.
  const short = rawPacket(concat(hex('35 01 03 51 02 00 00'), END));
  const r = tryDecodePacket(short);
  assert.equal(r.ok, false);
  // A compression pointer (0xc0) inside a wire-format name is forbidden by RFC 4702.
  const pointer = rawPacket(concat(hex('35 01 03 51 06 04 00 00 c0 0c 00'), END));
  assert.equal(tryDecodePacket(pointer).ok, false);
});
