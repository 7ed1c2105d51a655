/**
 * Mode dhcp, UDP 67: a full DHCP server for a segment netboot owns. Offers
 * hold an address for OFFER_HOLD_MS so two clients are never offered the
 * same one; the lease table comes back in the decision and the agent makes
 * it durable before it sends the reply.
 */
import { MessageType, OptionCode, replyFrom, setOption } from '../protocol/dhcp/index.ts';
import type { DhcpPacket } from '../protocol/dhcp/index.ts';
import { bootTarget } from './bootfile.ts';
import type { Client } from './classify.ts';
import { allocate, bind, release } from './leases.ts';
import type { Lease } from './leases.ts';
import { ignore, noteFor, replyDestination, withBoot } from './reply.ts';
import type { DecideContext, Decision, Note } from './reply.ts';

/** How long an OFFERed address stays reserved for the client's REQUEST. */
export const OFFER_HOLD_MS = 60_000;

/** The dotted subnet mask of a CIDR prefix length. */
export function maskOf(cidr: string): string {
  const len = Number.parseInt(cidr.split('/')[1] ?? '32', 10);
  const bits = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return [24, 16, 8, 0].map((s) => (bits >>> s) & 0xff).join('.');
}

/** The lease this client gets: the context's override (a short AMT remediation lease), else the network's. */
function leaseSecondsFor(ctx: DecideContext, dhcp: { readonly leaseSeconds: number }): number {
  return ctx.leaseSeconds ?? dhcp.leaseSeconds;
}

function reservations(ctx: DecideContext): Map<string, string> {
  const out = new Map<string, string>();
  for (const [mac, m] of ctx.plan.machines) if (m.spec.ipAddress !== undefined) out.set(mac, m.spec.ipAddress);
  return out;
}

/** An OFFER or ACK carrying the address, the network's options, and boot info for boot clients. */
function addressReply(request: DhcpPacket, client: Client, ctx: DecideContext, type: number, ip: string, leases: readonly Lease[]): Decision {
  const net = ctx.plan.network;
  const dhcp = net.dhcp;
  if (dhcp === undefined) return ignore(`BootNetwork ${ctx.plan.networkName} is mode dhcp without spec.dhcp`);
  const reply = replyFrom(request);
  reply.yiaddr = ip;
  setOption(reply.options, OptionCode.MessageType, type);
  setOption(reply.options, OptionCode.ServerIdentifier, ctx.serverAddress);
  setOption(reply.options, OptionCode.LeaseTime, leaseSecondsFor(ctx, dhcp));
  setOption(reply.options, OptionCode.SubnetMask, maskOf(net.subnet));
  setOption(reply.options, OptionCode.Routers, [dhcp.router]);
  if (dhcp.dnsServers !== undefined && dhcp.dnsServers.length > 0) setOption(reply.options, OptionCode.DnsServers, dhcp.dnsServers);
  if (dhcp.domainName !== undefined) setOption(reply.options, OptionCode.DomainName, dhcp.domainName);
  const hostname = ctx.plan.machines.get(client.mac)?.spec.hostname;
  if (hostname !== undefined) setOption(reply.options, OptionCode.HostName, hostname);
  const event = type === MessageType.Offer ? 'Offer' : 'Ack';
  const shortened = ctx.leaseSeconds !== undefined && ctx.leaseSeconds !== dhcp.leaseSeconds ? `, short lease ${ctx.leaseSeconds} s` : '';
  let note: Note = { event, detail: `address ${ip}${shortened}` };
  if (client.isBootClient) {
    const target = bootTarget(client, ctx.plan, ctx.serverAddress);
    if (target.ok) {
      withBoot(reply, client, target, ctx.serverAddress);
      note = { ...noteFor(target, event, type === MessageType.Offer ? 'Offered' : 'BootFileSent'), detail: `address ${ip}${shortened}, ${noteFor(target, event, 'Offered').detail ?? ''}` };
    } else {
      note = { event, detail: `address ${ip}${shortened} without boot info`, stoppedReason: target.reason, phase: 'Stopped' };
    }
  }
  const to = replyDestination(request, ctx.listener, ctx.source);
  return { kind: 'reply', packet: reply, to, note, leases };
}

/** The mode-dhcp handler for UDP 67. */
export function dhcpServer(request: DhcpPacket, client: Client, ctx: DecideContext): Decision {
  const dhcp = ctx.plan.network.dhcp;
  if (dhcp === undefined) return ignore(`BootNetwork ${ctx.plan.networkName} is mode dhcp without spec.dhcp`);
  const excluded = new Set([dhcp.router, ctx.serverAddress]);
  const ask = (requested: string | undefined) => allocate(ctx.leases, { mac: client.mac, pool: dhcp.pool, reservations: reservations(ctx), excluded, now: ctx.now, ...(requested === undefined ? {} : { requested }) });
  switch (client.messageType) {
    case MessageType.Discover: {
      const a = ask(client.requestedIp);
      if (!a.ok) return ignore(a.reason, { event: 'Ignored', phase: 'Stopped', stoppedReason: a.reason });
      return addressReply(request, client, ctx, MessageType.Offer, a.ip, bind(ctx.leases, client.mac, a.ip, ctx.now + OFFER_HOLD_MS));
    }
    case MessageType.Request: {
      if (client.serverId !== undefined && client.serverId !== ctx.serverAddress) {
        return { ...ignore(`REQUEST for server ${client.serverId}, not us`), leases: release(ctx.leases, client.mac) };
      }
      const wanted = client.requestedIp ?? (request.ciaddr !== '0.0.0.0' ? request.ciaddr : undefined);
      const a = ask(wanted);
      if (!a.ok || (wanted !== undefined && a.ip !== wanted)) {
        const nak = replyFrom(request);
        setOption(nak.options, OptionCode.MessageType, MessageType.Nak);
        setOption(nak.options, OptionCode.ServerIdentifier, ctx.serverAddress);
        const why = a.ok ? `requested ${wanted ?? '?'} is not available to ${client.mac}` : a.reason;
        return { kind: 'reply', packet: nak, to: { address: request.giaddr !== '0.0.0.0' ? request.giaddr : '255.255.255.255', port: request.giaddr !== '0.0.0.0' ? 67 : 68 }, note: { event: 'Ignored', detail: `NAK: ${why}` } };
      }
      return addressReply(request, client, ctx, MessageType.Ack, a.ip, bind(ctx.leases, client.mac, a.ip, ctx.now + leaseSecondsFor(ctx, dhcp) * 1000));
    }
    case MessageType.Release:
    case MessageType.Decline:
      return { ...ignore(client.messageType === MessageType.Release ? 'lease released' : 'address declined by client'), leases: release(ctx.leases, client.mac) };
    default:
      return ignore(`message type ${client.messageType} is not handled on port 67`);
  }
}
