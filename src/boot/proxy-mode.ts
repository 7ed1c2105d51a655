/**
 * The ProxyDHCP handlers: mode proxy on UDP 67 (an OFFER that assigns no
 * address) and every mode on UDP 4011 (the boot server ACK).
 */
import { DiscoveryControl, MessageType, OptionCode, encodePxeVendorOptions, pxeVendorOptions, replyFrom, setOption } from '../protocol/dhcp/index.ts';
import type { DhcpPacket, PxeBootItem } from '../protocol/dhcp/index.ts';
import { bootTarget } from './bootfile.ts';
import type { Client } from './classify.ts';
import type { ProfileSpec } from './plan.ts';
import { ignore, noteFor, replyDestination, withBoot } from './reply.ts';
import type { DecideContext, Decision } from './reply.ts';

/** Option 43 of an OFFER without a menu: take the boot file from this OFFER. The same bytes for every client (encodePacket copies them). */
const USE_BOOT_FILE = encodePxeVendorOptions({ discoveryControl: DiscoveryControl.UseBootFile });

/** Mode proxy, UDP 67: OFFER with yiaddr 0.0.0.0 and the boot file, to PXE DISCOVERs only. */
export function proxyDiscover(request: DhcpPacket, client: Client, ctx: DecideContext): Decision {
  if (client.messageType !== MessageType.Discover) return ignore(`proxy mode answers only DISCOVER on port 67, not message type ${client.messageType}`);
  const target = bootTarget(client, ctx.plan, ctx.serverAddress);
  if (!target.ok) return ignore(target.reason, { event: 'Ignored', phase: 'Stopped', stoppedReason: target.reason });
  const reply = replyFrom(request);
  setOption(reply.options, OptionCode.MessageType, MessageType.Offer);
  setOption(reply.options, OptionCode.ServerIdentifier, ctx.serverAddress);
  withBoot(reply, client, target, ctx.serverAddress);
  let note = noteFor(target, 'ProxyOffer', 'Offered');
  // BIOS PXE ROMs take the file from this OFFER when told to skip discovery,
  // or show the profile's menu and ask on 4011 for the item chosen. EFI
  // clients get no option 43, so EDK2 goes on to the 4011 step, which it
  // handles more reliably than a proxy OFFER's boot file (pixiecore does the same).
  if (client.arch === 'bios' && client.stage === 'pxe') {
    const menu = menuOption(ctx.plan.profiles.get(target.profile)?.menu, ctx.serverAddress);
    if (menu.ok) {
      reply.file = '';
      reply.options.delete(OptionCode.BootFileName);
    }
    setOption(reply.options, OptionCode.VendorSpecific, menu.ok ? menu.bytes : USE_BOOT_FILE);
    if (!menu.ok && menu.reason !== undefined) note = { ...note, detail: `${note.detail ?? ''}; menu left out: ${menu.reason}` };
  }
  return { kind: 'reply', packet: reply, to: replyDestination(request, ctx.listener, ctx.source), note };
}

/** UDP 4011 (every mode): the boot server ACK with the boot file, back to the request's source port. */
export function pxeRequest(request: DhcpPacket, client: Client, ctx: DecideContext): Decision {
  if (client.messageType !== MessageType.Request && client.messageType !== MessageType.Inform) {
    return ignore(`port 4011 answers REQUEST or INFORM, not message type ${client.messageType}`);
  }
  const target = bootTarget(client, ctx.plan, ctx.serverAddress);
  if (!target.ok) return ignore(target.reason, { event: 'Ignored', phase: 'Stopped', stoppedReason: target.reason });
  const reply = replyFrom(request);
  reply.ciaddr = request.ciaddr; // RFC 2131 table 3: an ACK may echo ciaddr; dnsmasq does, and relays expect it
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

type Menu = NonNullable<ProfileSpec['menu']>;

/**
 * Option 43 for a PXE boot menu: the items (sub-option 9), the prompt
 * (10), and this server as the boot server of every item type (8), with
 * broadcast and multicast discovery off (6 = 3) so the ROM asks us on 4011.
 * PXE 2.1 has no way to split option 43, so a menu over 255 bytes is left
 * out, with the reason, rather than sent broken.
 */
export function menuOption(menu: Menu | undefined, serverAddress: string): { ok: true; bytes: Uint8Array } | { ok: false; reason?: string } {
  if (menu === undefined || menu.items.length === 0) return { ok: false };
  const types = [...new Set(menu.items.map((i) => i.bootServerType))];
  try {
    return {
      ok: true,
      bytes: encodePxeVendorOptions({
        discoveryControl: DiscoveryControl.DisableBroadcast | DiscoveryControl.DisableMulticast,
        bootServers: types.map((type) => ({ type, addresses: [serverAddress] })),
        bootMenu: menu.items.map((i) => ({ type: i.bootServerType, description: i.label })),
        menuPrompt: { timeout: menu.timeoutSeconds, prompt: menu.prompt },
      }),
    };
  } catch (err) {
    return { ok: false, reason: `the PXE menu does not fit in option 43 (${(err as Error).message})` };
  }
}
