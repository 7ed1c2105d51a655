/**
 * The AMT facts in DHCP traffic, pure: what a request from a known machine
 * and our reply to it tell (first sighting, the domain the OS asked for in
 * option 81, the option 15 we served), and what a site DHCP server's
 * OFFER/ACK overheard on UDP 68 tells (the option 15 AMT may have taken).
 * AMT shares the NIC's MAC with the OS, so every packet of the MAC counts.
 */
import { BootOp, HTYPE_ETHERNET, MessageType, clientFqdnDomain, domainName, getOption, macString, messageType, OptionCode } from '../protocol/dhcp/index.ts';
import type { DhcpPacket } from '../protocol/dhcp/index.ts';
import { ipInCidr } from '../api/v1alpha1/ip.ts';
import type { AmtFactsPatch } from './amt-observation.ts';
import type { Client } from './classify.ts';

/** Longest domain status.boot.amt takes (the schema's maxLength, a DNS name's limit). */
const MAX_DOMAIN = 253;

/** A domain we can record: printable ASCII without spaces, at most 253 characters ('' allowed). */
export function recordableDomain(value: string): boolean {
  return value.length <= MAX_DOMAIN && /^[\x21-\x7e]*$/.test(value);
}

/**
 * The AMT facts of one request from a known machine, and of `reply` when we
 * answered: always the sighting (firstSeenAt, kept once set); for a REQUEST
 * carrying option 81, the domain the OS asked for; for an ACK that assigns an
 * address (mode dhcp), the option 15 it carried ('' when none), which is what
 * AMT learns its DNS suffix from.
 */
export function requestAmtFacts(request: DhcpPacket, client: Client, time: string, reply?: DhcpPacket): AmtFactsPatch {
  const asked = client.messageType === MessageType.Request ? clientFqdnDomain(request) : undefined;
  const served = reply !== undefined && messageType(reply) === MessageType.Ack && reply.yiaddr !== '0.0.0.0' ? domainName(reply) ?? '' : undefined;
  return {
    firstSeenAt: time,
    ...(asked !== undefined && recordableDomain(asked) ? { osRequestedDomain: asked } : {}),
    ...(served !== undefined && recordableDomain(served) ? { servedOption15: served } : {}),
  };
}

/** A site DHCP server's lease seen on UDP 68: whose, the address, and its option 15 ('' when none). */
export interface SiteLease {
  readonly mac: string;
  readonly type: 'offer' | 'ack';
  readonly yiaddr: string;
  readonly option15: string;
  readonly server?: string;
}

export type SiteReply = { readonly ok: true; readonly lease: SiteLease } | { readonly ok: false; readonly reason: string };

/**
 * Reads an OFFER or ACK overheard on UDP 68. `own` are our addresses: our
 * own ProxyDHCP replies go to port 68 too and must not be taken for the site
 * server's. A ProxyDHCP reply from anyone (yiaddr 0.0.0.0) assigns no lease,
 * so it says nothing about the option 15 a machine got. A lease outside
 * `subnet` belongs to another segment the host is attached to.
 */
export function siteReply(packet: DhcpPacket, own: readonly string[], subnet?: string): SiteReply {
  if (packet.op !== BootOp.Reply) return { ok: false, reason: `op ${packet.op} is not a BOOTREPLY` };
  if (packet.htype !== HTYPE_ETHERNET || packet.hlen !== 6) return { ok: false, reason: `htype ${packet.htype}/hlen ${packet.hlen} is not Ethernet` };
  const type = messageType(packet);
  if (type !== MessageType.Offer && type !== MessageType.Ack) return { ok: false, reason: `message type ${type ?? 'none'} is not OFFER or ACK` };
  const server = getOption(packet.options, OptionCode.ServerIdentifier);
  if (server !== undefined && own.includes(server)) return { ok: false, reason: `our own reply (server identifier ${server})` };
  if (packet.yiaddr === '0.0.0.0') return { ok: false, reason: 'yiaddr 0.0.0.0: a ProxyDHCP reply or an INFORM answer, not a lease' };
  if (subnet !== undefined && !ipInCidr(packet.yiaddr, subnet)) return { ok: false, reason: `yiaddr ${packet.yiaddr} is outside ${subnet}: a lease on another segment` };
  const option15 = domainName(packet) ?? '';
  if (!recordableDomain(option15)) return { ok: false, reason: `option 15 is not a domain name (${option15.length} bytes, or not printable ASCII)` };
  return {
    ok: true,
    lease: { mac: macString(packet), type: type === MessageType.Offer ? 'offer' : 'ack', yiaddr: packet.yiaddr, option15, ...(server === undefined ? {} : { server }) },
  };
}
