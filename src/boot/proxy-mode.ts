/**
 * The ProxyDHCP handlers: mode proxy on UDP 67 (an OFFER that assigns no
 * address) and every mode on UDP 4011 (the boot server ACK).
 */
import { DiscoveryControl, MessageType, OptionCode, encodePxeVendorOptions, pxeVendorOptions, replyFrom, setOption } from '../protocol/dhcp/index.ts';
import type { DhcpPacket, PxeBootItem } from '../protocol/dhcp/index.ts';
import { bootTarget } from './bootfile.ts';
import type { Client } from './classify.ts';
import { ignore, noteFor, replyDestination, withBoot } from './reply.ts';
import type { DecideContext, Decision } from './reply.ts';

/** Mode proxy, UDP 67: OFFER with yiaddr 0.0.0.0 and the boot file, to PXE DISCOVERs only. */
export function proxyDiscover(request: DhcpPacket, client: Client, ctx: DecideContext): Decision {
  if (client.messageType !== MessageType.Discover) return ignore(`proxy mode answers only DISCOVER on port 67, not message type ${client.messageType}`);
  const target = bootTarget(client, ctx.plan, ctx.serverAddress);
  if (!target.ok) return ignore(target.reason, { event: 'Ignored', phase: 'Stopped', stoppedReason: target.reason });
  const reply = replyFrom(request);
  setOption(reply.options, OptionCode.MessageType, MessageType.Offer);
  setOption(reply.options, OptionCode.ServerIdentifier, ctx.serverAddress);
  withBoot(reply, client, target, ctx.serverAddress);
  // BIOS PXE ROMs take the file from this OFFER when told to skip discovery.
  // EFI clients get no option 43, so EDK2 goes on to the 4011 step, which it
  // handles more reliably than a proxy OFFER's boot file (pixiecore does the same).
  if (client.arch === 'bios' && client.stage === 'pxe') {
    setOption(reply.options, OptionCode.VendorSpecific, encodePxeVendorOptions({ discoveryControl: DiscoveryControl.UseBootFile }));
  }
  return { kind: 'reply', packet: reply, to: replyDestination(request, ctx.listener, ctx.source), note: noteFor(target, 'ProxyOffer', 'Offered') };
}

/** UDP 4011 (every mode): the boot server ACK with the boot file, back to the request's source port. */
export function pxeRequest(request: DhcpPacket, client: Client, ctx: DecideContext): Decision {
  if (client.messageType !== MessageType.Request && client.messageType !== MessageType.Inform) {
    return ignore(`port 4011 answers REQUEST or INFORM, not message type ${client.messageType}`);
  }
  const target = bootTarget(client, ctx.plan, ctx.serverAddress);
  if (!target.ok) return ignore(target.reason, { event: 'Ignored', phase: 'Stopped', stoppedReason: target.reason });
  const reply = replyFrom(request);
  setOption(reply.options, OptionCode.MessageType, MessageType.Ack);
  setOption(reply.options, OptionCode.ServerIdentifier, ctx.serverAddress);
  withBoot(reply, client, target, ctx.serverAddress);
  // PXE 2.1: the ACK names the boot item it serves, the one the client asked for.
  const asked = requestedBootItem(request);
  if (asked !== undefined && client.stage === 'pxe') setOption(reply.options, OptionCode.VendorSpecific, encodePxeVendorOptions({ bootItem: asked }));
  return { kind: 'reply', packet: reply, to: replyDestination(request, ctx.listener, ctx.source), note: noteFor(target, 'PxeAck', 'BootFileSent') };
}


/** The boot item (option 43 sub-option 71) the client asked for; a malformed option 43 counts as none. */
function requestedBootItem(request: DhcpPacket): PxeBootItem | undefined {
  try {
    return pxeVendorOptions(request)?.bootItem;
  } catch {
    return undefined;
  }
}
