/**
 * Proxy modes only: a passive listener on UDP 68 that overhears the site
 * DHCP server's OFFER and ACK to a machine and records the option 15 it
 * carried (status.boot.amt.siteOption15), since AMT takes its DNS suffix
 * from that option while its provisioning window is open.
 *
 * Passive means it: this socket is only ever read, never written, so the
 * agent cannot answer a client from port 68 by mistake.
 *
 * What it can see: replies the server broadcasts (clients that set the
 * broadcast flag, as PXE ROMs and many OSes do). A unicast reply goes to the
 * client's new address, which a switch delivers to that machine only.
 *
 * A DHCP client on the same host keeps working. ISC dhclient, dhcpcd,
 * systemd-networkd and NetworkManager receive their replies on packet
 * sockets (AF_PACKET), which see every frame whatever UDP sockets exist.
 * The UDP socket some of them also hold on port 68 is bound with
 * SO_REUSEADDR (ISC dhclient's fallback socket, used to send) or to the
 * leased address (systemd-networkd, NetworkManager, for renewals): ours is
 * bound to 0.0.0.0 with SO_REUSEADDR, so both binds succeed, and for a
 * unicast to the leased address Linux prefers the socket bound to that
 * exact address. If port 68 is held without SO_REUSEADDR our bind fails:
 * the agent logs NB5020 and serves on without these facts.
 */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { siteReply } from '../boot/amt-facts.ts';
import type { SiteLease } from '../boot/amt-facts.ts';
import { timestampOf } from '../boot/status.ts';
import { Errors } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { tryDecodePacket } from '../protocol/dhcp/index.ts';
import type { BootStore } from '../store/store.ts';
import type { ServingInterface } from './interfaces.ts';

/** Where DHCP servers send replies (RFC 2131 §4.1). */
export const DHCP_CLIENT_PORT = 68;

export interface SiteDhcpDeps {
  readonly store: BootStore;
  readonly iface: ServingInterface;
  /** Default 68; a dry run shifts it like the other ports. */
  readonly port?: number;
  readonly node: string;
  readonly log: Logger;
  readonly now: () => number;
  /** Told the address an ACK gave a known machine (the agent probes addresses seen on its segment). */
  readonly onClientAddress?: (address: string, mac: string) => void;
}

/** Handles one overheard datagram; exported for tests that drive it without sockets. */
export function handleSiteDatagram(deps: SiteDhcpDeps, msg: Uint8Array, from: { address: string; port: number }): { lease?: SiteLease; reason?: string } {
  const drop = (reason: string) => {
    deps.log.debug({ code: Errors.AmtSiteReplyIgnored.code, from: from.address, reason }, 'ignored a DHCP reply on the client port');
    return { reason };
  };
  const decoded = tryDecodePacket(msg);
  if (!decoded.ok) return drop(`malformed: ${decoded.reason}`);
  const plan = deps.store.plan();
  const r = siteReply(decoded.packet, [deps.iface.address, deps.iface.serverAddress], plan.network.subnet);
  if (!r.ok) return drop(r.reason);
  const lease = r.lease;
  if (!plan.machines.has(lease.mac)) return drop(`${lease.mac} has no BootMachine on BootNetwork ${plan.networkName}`);
  deps.store.report({ mac: lease.mac, network: plan.networkName, node: deps.node, time: timestampOf(new Date(deps.now())), amt: { siteOption15: lease.option15 } });
  if (lease.type === 'ack') deps.onClientAddress?.(lease.yiaddr, lease.mac);
  return { lease };
}

/** The listener; close() is idempotent. */
export interface SiteDhcpListener {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Binds the passive listener: to 0.0.0.0 (broadcasts arrive there) with
 * SO_REUSEADDR, or to the loopback address on a dry run. Resolves undefined
 * (after logging NB5020) when the port cannot be bound: these facts are
 * optional, serving is not.
 */
export async function startSiteDhcpListener(deps: SiteDhcpDeps): Promise<SiteDhcpListener | undefined> {
  const port = deps.port ?? DHCP_CLIENT_PORT;
  const address = deps.iface.address === '127.0.0.1' ? '127.0.0.1' : '0.0.0.0';
  const socket: Socket = createSocket({ type: 'udp4', reuseAddr: true });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port, address, exclusive: false }, () => { socket.off('error', reject); resolve(); });
    });
  } catch (err) {
    deps.log.warn({ code: Errors.AmtSiteListenFailed.code, port, address, err: err instanceof Error ? err.message : String(err) },
      'cannot overhear the site DHCP server on the client port; option 15 it hands out is not recorded');
    try { socket.close(); } catch { /* never bound */ }
    return undefined;
  }
  socket.on('message', (msg, rinfo) => {
    try {
      handleSiteDatagram(deps, msg, rinfo);
    } catch (err) {
      deps.log.error({ err }, 'site DHCP reply handler failed; packet dropped');
    }
  });
  socket.on('error', (err) => deps.log.warn({ err: err.message, port }, 'site DHCP listener error'));
  deps.log.info({ port, address }, 'listening for the site DHCP server\'s replies (passive, proxy mode)');
  let closed: Promise<void> | undefined;
  return {
    port: socket.address().port,
    close() {
      closed ??= new Promise<void>((resolve) => { try { socket.close(() => resolve()); } catch { resolve(); } });
      return closed;
    },
  };
}
