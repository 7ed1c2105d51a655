/**
 * decide(request, client, context): the reply to one classified DHCP request,
 * or silence with the reason. One handler per mode and port, chosen from a
 * table. Pure: leases and the clock are inputs, a new lease table is output.
 *
 * Safety rules of the proxy modes, which tests enforce on every reply: only
 * boot clients (option 60 PXEClient/HTTPClient) are answered; yiaddr is
 * always 0.0.0.0; no subnet mask, router, DNS server or lease time is sent;
 * a REQUEST naming another server is never answered.
 */
import type { DhcpPacket } from '../protocol/dhcp/index.ts';
import type { Client } from './classify.ts';
import { dhcpServer } from './dhcp-mode.ts';
import type { BootPlan } from './plan.ts';
import { proxyDiscover, pxeRequest } from './proxy-mode.ts';
import { ignore } from './reply.ts';
import type { DecideContext, Decision, Listener } from './reply.ts';

export type { DecideContext, Decision, Listener, Note } from './reply.ts';

type Handler = (request: DhcpPacket, client: Client, ctx: DecideContext) => Decision;

/** Mode x listener -> handler; a missing entry means the listener is not opened in that mode. */
const HANDLERS: Readonly<Record<BootPlan['network']['mode'], Partial<Record<Listener, Handler>>>> = {
  'proxy': { dhcp: proxyDiscover, pxe: pxeRequest },
  'proxy-colocated': { pxe: pxeRequest },
  'dhcp': { dhcp: dhcpServer, pxe: pxeRequest },
};

/** The listeners a mode opens. */
export function listenersFor(mode: BootPlan['network']['mode']): Listener[] {
  return Object.keys(HANDLERS[mode]) as Listener[];
}

/** The decision for one classified request. Non-boot clients are only ever answered by a dhcp-mode network's port 67. */
export function decide(request: DhcpPacket, client: Client, ctx: DecideContext): Decision {
  const handler = HANDLERS[ctx.plan.network.mode][ctx.listener];
  if (handler === undefined) return ignore(`mode ${ctx.plan.network.mode} does not serve port ${ctx.listener === 'dhcp' ? 67 : 4011}`);
  if (!client.isBootClient && !(ctx.plan.network.mode === 'dhcp' && ctx.listener === 'dhcp')) {
    return ignore(client.vendorClass === undefined ? 'option 60 missing: client is not a PXE client' : `option 60 "${client.vendorClass}" is not PXEClient or HTTPClient`);
  }
  return handler(request, client, ctx);
}
