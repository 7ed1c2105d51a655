/**
 * The AMT facts read from DHCP traffic, pure: a request (and our reply) from
 * a known machine, and a site DHCP server's reply overheard on UDP 68.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { recordableDomain, requestAmtFacts, siteReply } from '../../../src/boot/amt-facts.ts';
import { classify } from '../../../src/boot/classify.ts';
import type { Client } from '../../../src/boot/classify.ts';
import { BootOp, MessageType, OptionCode, decodePacket, encodePacket, replyFrom, setOption } from '../../../src/protocol/dhcp/index.ts';
import type { DhcpPacket } from '../../../src/protocol/dhcp/index.ts';
import { notPxe, request, withType } from '../../support/dhcp.ts';

const T = '2026-11-23T10:00:00Z';
const clientOf = (p: DhcpPacket): Client => {
  const c = classify(p);
  assert.ok(c.ok);
  return c.client;
};
const withFqdn = (name: string, flags = 0) => (p: DhcpPacket) => setOption(p.options, OptionCode.ClientFqdn, { flags, rcode1: 0, rcode2: 0, name });

/** A server reply to `req`: type, yiaddr and options as given, through the real codec. */
function reply(req: DhcpPacket, type: number, yiaddr: string, options: Partial<{ server: string; domain: string }> = {}): DhcpPacket {
  const r = replyFrom(req);
  r.yiaddr = yiaddr;
  setOption(r.options, OptionCode.MessageType, type);
  if (options.server !== undefined) setOption(r.options, OptionCode.ServerIdentifier, options.server);
  if (options.domain !== undefined) setOption(r.options, OptionCode.DomainName, options.domain);
  return decodePacket(encodePacket(r));
}

test('a request carries the sighting; a REQUEST with option 81 the OS domain; an address ACK the option 15 served', () => {
  const discover = request();
  assert.deepEqual(requestAmtFacts(discover, clientOf(discover), T), { firstSeenAt: T });
  const osRequest = request(notPxe(), withType(MessageType.Request), withFqdn('ws01.Sales.Contoso.com.', 0x04));
  assert.deepEqual(requestAmtFacts(osRequest, clientOf(osRequest), T), { firstSeenAt: T, osRequestedDomain: 'sales.contoso.com' });
  const discoverWithFqdn = request(withFqdn('ws01.contoso.com'));
  assert.equal(requestAmtFacts(discoverWithFqdn, clientOf(discoverWithFqdn), T).osRequestedDomain, undefined, 'only a REQUEST says what the OS asks for');
  const hostOnly = request(withType(MessageType.Request), withFqdn('ws01'));
  assert.equal(requestAmtFacts(hostOnly, clientOf(hostOnly), T).osRequestedDomain, undefined);

  const req = request(withType(MessageType.Request));
  assert.equal(requestAmtFacts(req, clientOf(req), T, reply(req, MessageType.Ack, '10.9.0.100', { domain: 'lab.example.com' })).servedOption15, 'lab.example.com');
  assert.equal(requestAmtFacts(req, clientOf(req), T, reply(req, MessageType.Ack, '10.9.0.100')).servedOption15, '', 'an ACK without option 15 is recorded as blank');
  assert.equal(requestAmtFacts(req, clientOf(req), T, reply(req, MessageType.Offer, '10.9.0.100', { domain: 'lab.example.com' })).servedOption15, undefined, 'an OFFER binds nothing');
  assert.equal(requestAmtFacts(req, clientOf(req), T, reply(req, MessageType.Ack, '0.0.0.0')).servedOption15, undefined, 'a ProxyDHCP/4011 ACK assigns no lease');
  assert.equal(requestAmtFacts(req, clientOf(req), T, reply(req, MessageType.Nak, '0.0.0.0')).servedOption15, undefined);
});

test('recordable domains: printable ASCII up to 253 characters, blank allowed', () => {
  for (const ok of ['', 'contoso.com', 'a'.repeat(253), 'Sales.Contoso.COM.']) assert.ok(recordableDomain(ok), ok);
  for (const bad of ['a'.repeat(254), 'has space.com', 'nul\0.com', 'caf\u00e9.com']) assert.ok(!recordableDomain(bad), JSON.stringify(bad));
});

test('site replies: a lease from another server is read; our own, ProxyDHCP, foreign subnets and non-leases are not', () => {
  const own = ['10.9.0.3'];
  const req = request();
  const cases: { name: string; packet: DhcpPacket; ok: boolean; reason?: RegExp; option15?: string; type?: 'offer' | 'ack' }[] = [
    { name: 'site OFFER with option 15', packet: reply(req, MessageType.Offer, '10.9.0.77', { server: '10.9.0.1', domain: 'contoso.com' }), ok: true, option15: 'contoso.com', type: 'offer' },
    { name: 'site ACK without option 15', packet: reply(req, MessageType.Ack, '10.9.0.77', { server: '10.9.0.1' }), ok: true, option15: '', type: 'ack' },
    { name: 'site ACK without a server identifier', packet: reply(req, MessageType.Ack, '10.9.0.77', { domain: 'contoso.com' }), ok: true, option15: 'contoso.com', type: 'ack' },
    { name: 'our own reply', packet: reply(req, MessageType.Offer, '10.9.0.77', { server: '10.9.0.3', domain: 'x.com' }), ok: false, reason: /our own reply/ },
    { name: 'a ProxyDHCP offer from another proxy', packet: reply(req, MessageType.Offer, '0.0.0.0', { server: '10.9.0.9' }), ok: false, reason: /yiaddr 0\.0\.0\.0/ },
    { name: 'a lease on another segment', packet: reply(req, MessageType.Ack, '192.168.1.5', { server: '192.168.1.1', domain: 'x.com' }), ok: false, reason: /outside 10\.9\.0\.0\/24/ },
    { name: 'a NAK', packet: reply(req, MessageType.Nak, '0.0.0.0', { server: '10.9.0.1' }), ok: false, reason: /not OFFER or ACK/ },
    { name: 'a request (a client on the same host)', packet: request(withType(MessageType.Request)), ok: false, reason: /not a BOOTREPLY/ },
    { name: 'option 15 with a control byte', packet: reply(req, MessageType.Offer, '10.9.0.77', { server: '10.9.0.1', domain: 'bad\u0001.com' }), ok: false, reason: /option 15 is not a domain name/ },
  ];
  for (const c of cases) {
    const r = siteReply(c.packet, own, '10.9.0.0/24');
    assert.equal(r.ok, c.ok, c.name);
    if (r.ok) {
      assert.equal(r.lease.mac, '52:54:00:12:34:56', c.name);
      assert.equal(r.lease.yiaddr, '10.9.0.77', c.name);
      assert.equal(r.lease.option15, c.option15, c.name);
      assert.equal(r.lease.type, c.type, c.name);
    } else {
      assert.match(r.reason, c.reason ?? /./, c.name);
    }
  }
  const ethernet = reply(req, MessageType.Offer, '10.9.0.77', { server: '10.9.0.1' });
  assert.equal(siteReply({ ...ethernet, htype: 6 }, own).ok, false, 'not Ethernet');
  assert.equal(siteReply({ ...ethernet, op: BootOp.Request }, own).ok, false);
});
