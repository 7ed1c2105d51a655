/**
 * The DHCP/ProxyDHCP listeners (UDP 67 and 4011) and the packet pipeline:
 * decode -> classify -> discover -> decide -> guard -> persist leases -> send
 * -> record. Recording includes the AMT facts of known machines (first
 * sighting, option 81, the option 15 of an ACK we served), and in mode dhcp
 * a machine whose AMT suffix the controller found wrong may get a short
 * lease. Only this file, site-dhcp.ts (the passive UDP 68 listener) and
 * tftp.ts touch DHCP sockets.
 *
 * Two sockets per port: one on 0.0.0.0 receives broadcasts, one on the
 * serving interface's address receives unicasts and sends every reply, so a
 * broadcast reply leaves through that interface (Linux routes a limited
 * broadcast by the source address's device) with our address as its source,
 * even on a multi-homed host.
 */
import { createSocket } from 'node:dgram';
import type { Socket, SocketOptions } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIPv4 } from 'node:net';
import { requestAmtFacts } from '../boot/amt-facts.ts';
import { classify } from '../boot/classify.ts';
import type { Client } from '../boot/classify.ts';
import { decide, listenersFor } from '../boot/decide.ts';
import type { Decision, Listener } from '../boot/decide.ts';
import type { BootPlan } from '../boot/plan.ts';
import { proxySafetyViolation } from '../boot/reply.ts';
import { timestampOf } from '../boot/status.ts';
import type { AmtFactsPatch, BootObservation } from '../boot/status.ts';
import { Errors } from '../errors.ts';
import { MessageType, encodePacket, messageType, tryDecodePacket } from '../protocol/dhcp/index.ts';
import type { DhcpPacket } from '../protocol/dhcp/index.ts';
import type { Logger } from '../observability/logger.ts';
import type { AgentMetrics } from '../observability/metrics.ts';
import type { BootStore } from '../store/store.ts';
import { AmtMachineBook } from './amt-machines.ts';
import type { ServingInterface } from './interfaces.ts';

export interface DhcpDeps {
  readonly store: BootStore;
  readonly iface: ServingInterface;
  readonly ports: { readonly dhcp: number; readonly pxe: number };
  readonly node: string;
  readonly log: Logger;
  readonly metrics: AgentMetrics;
  readonly now: () => number;
  /** Told the client's address when we learn it, so TFTP transfers (and AMT probes) can be tied to a MAC. */
  readonly onClientAddress?: (address: string, mac: string) => void;
  /** Per-MAC facts for AMT (class matching for short leases, UUIDs for Hellos); the agent shares one with its AMT services. */
  readonly amtBook?: AmtMachineBook;
}

/** Last time each agent warned that discovery is capped: once per 10 s, or a MAC flood floods the log too. */
const lastLimitWarning = new WeakMap<DhcpDeps, number>();
/** The AMT book of deps without one (tests that drive handleDatagram alone). */
const ownBooks = new WeakMap<DhcpDeps, AmtMachineBook>();

function bookOf(deps: DhcpDeps): AmtMachineBook {
  if (deps.amtBook !== undefined) return deps.amtBook;
  let book = ownBooks.get(deps);
  if (book === undefined) ownBooks.set(deps, book = new AmtMachineBook());
  return book;
}

const TYPE_NAMES = ['none', 'discover', 'offer', 'request', 'decline', 'ack', 'nak', 'release', 'inform'];

/** What handling one datagram gave: the decision, the reply's bytes when there is one, or why there is none. */
export interface Handled {
  readonly decision?: Decision;
  readonly reply?: Uint8Array;
  readonly reason?: string;
}

/**
 * Handles one datagram (exported for tests that drive it without sockets).
 * No promise when it needs none: only a decision that changes the lease
 * table (mode dhcp) waits, for the table to be durable before the reply goes
 * out, so a ProxyDHCP packet is handled and answered in the turn it arrives.
 */
export function handleDatagram(deps: DhcpDeps, listener: Listener, msg: Uint8Array, source: { address: string; port: number }): Handled | Promise<Handled> {
  const port = String(listener === 'dhcp' ? deps.ports.dhcp : deps.ports.pxe);
  const standby = listener === 'dhcp' && deps.store.plan().network.mode === 'dhcp' ? deps.store.dhcpStandby?.() : undefined;
  if (standby !== undefined) {
    deps.metrics.dhcpPackets.inc({ port, type: 'unknown', result: 'standby' });
    return { reason: standby };
  }
  const decoded = tryDecodePacket(msg);
  if (!decoded.ok) {
    deps.metrics.dhcpPackets.inc({ port, type: 'unknown', result: 'malformed' });
    deps.log.debug({ code: Errors.PacketMalformed.code, from: source.address, reason: decoded.reason }, 'dropped malformed DHCP packet');
    return { reason: decoded.reason };
  }
  const classified = classify(decoded.packet);
  if (!classified.ok) {
    deps.metrics.dhcpPackets.inc({ port, type: 'unknown', result: 'ignored' });
    deps.log.debug({ from: source.address, reason: classified.reason }, 'ignored DHCP packet');
    return { reason: classified.reason };
  }
  const client = classified.client;
  const book = bookOf(deps);
  book.note(client);
  const type = TYPE_NAMES[client.messageType] ?? String(client.messageType);
  let plan = deps.store.plan();
  if (client.isBootClient && !plan.machines.has(client.mac) && plan.network.unknownMachines !== 'ignore') {
    const verdict = deps.store.discover(client.mac, deps.now());
    if (verdict !== 'create' && verdict !== 'exists' && deps.now() - (lastLimitWarning.get(deps) ?? -Infinity) >= 10_000) {
      lastLimitWarning.set(deps, deps.now());
      deps.log.warn({ mac: client.mac, verdict }, 'discovery limit reached; new machines are not recorded (logged at most every 10 s)');
    }
    plan = deps.store.plan();
  }
  const leaseSeconds = listener === 'dhcp' ? book.shortLease(plan, client.mac, client) : undefined;
  const decision = decide(decoded.packet, client, { plan, listener, serverAddress: deps.iface.serverAddress, source, leases: deps.store.leases(), now: deps.now(), ...(leaseSeconds === undefined ? {} : { leaseSeconds }) });
  if (decision.leases !== undefined) return deps.store.saveLeases(decision.leases).then(() => answer(deps, port, type, decoded.packet, client, plan, decision, source));
  return answer(deps, port, type, decoded.packet, client, plan, decision, source);
}

/** The rest of handleDatagram once the decision stands (and its leases are saved): record, count, encode. */
function answer(deps: DhcpDeps, port: string, type: string, request: DhcpPacket, client: Client, plan: BootPlan, decision: Decision, source: { address: string; port: number }): Handled {
  const known = plan.machines.has(client.mac);
  // AMT facts ride on the first observation recorded for this packet, or go alone (an OS request we do not answer).
  // Only an ACK that binds an address carries a served option 15, so a ProxyDHCP reply (yiaddr 0.0.0.0) adds none.
  let amt: AmtFactsPatch | undefined = known ? requestAmtFacts(request, client, timestampOf(new Date(deps.now())), decision.kind === 'reply' ? decision.packet : undefined) : undefined;
  const rec = (note: Decision['note'], reply?: DhcpPacket) => {
    if (note === undefined && amt === undefined) return;
    record(deps, client, plan.networkName, note, reply, amt);
    amt = undefined;
  };
  if (known && client.messageType === 1) rec({ event: 'Discover', phase: 'Discovered' });
  if (decision.kind === 'ignore') {
    deps.metrics.dhcpPackets.inc({ port, type, result: 'ignored' });
    deps.log.debug({ mac: client.mac, type, port, reason: decision.reason }, 'no answer');
    if (known) rec(decision.note);
    return { decision, reason: decision.reason };
  }
  if (plan.network.mode !== 'dhcp') {
    const violation = proxySafetyViolation(decision.packet);
    if (violation !== undefined) {
      deps.log.error({ mac: client.mac, violation }, 'refused to send an unsafe ProxyDHCP reply (bug)');
      deps.metrics.dhcpPackets.inc({ port, type, result: 'unsafe' });
      if (known) rec(undefined);
      return { decision, reason: violation };
    }
  }
  const bytes = encodePacket(decision.packet);
  deps.metrics.dhcpPackets.inc({ port, type, result: 'answered' });
  if (known) rec(decision.note, decision.packet);
  if (source.address !== '0.0.0.0') deps.onClientAddress?.(source.address, client.mac);
  // The address we just bound is the machine's on this segment (AMT shares it in DHCP mode): probes may go there.
  if (decision.packet.yiaddr !== '0.0.0.0' && messageType(decision.packet) === MessageType.Ack) deps.onClientAddress?.(decision.packet.yiaddr, client.mac);
  return { decision, reply: bytes };
}

/** Records `note` (a boot event) and/or `amt` (AMT facts) for a known machine. */
function record(deps: DhcpDeps, client: Client, network: string, note: Decision['note'], reply?: DhcpPacket, amt?: AmtFactsPatch): void {
  if (note === undefined) {
    if (amt !== undefined) deps.store.report({ mac: client.mac, network, node: deps.node, time: timestampOf(new Date(deps.now())), amt });
    return;
  }
  const obs: BootObservation = {
    mac: client.mac, network, node: deps.node, time: timestampOf(new Date(deps.now())), event: note.event,
    ...(amt === undefined ? {} : { amt }),
    ...(note.phase === undefined ? {} : { phase: note.phase }),
    ...(note.detail === undefined ? {} : { detail: note.detail }),
    ...(note.stoppedReason === undefined ? {} : { stoppedReason: note.stoppedReason }),
    firmware: { stage: client.stage, ...(client.arch === undefined ? {} : { arch: client.arch }), ...(client.vendorClass === undefined ? {} : { vendorClass: client.vendorClass }), ...(client.userClass === undefined ? {} : { userClass: client.userClass }) },
    ...(reply !== undefined && reply.yiaddr !== '0.0.0.0' ? { ipAddress: reply.yiaddr } : {}),
  };
  deps.store.report(obs);
}

function bind(socket: Socket, port: number, address: string): Promise<void> {
  return new Promise((res, rej) => {
    socket.once('error', rej);
    socket.bind({ port, address, exclusive: false }, () => { socket.off('error', rej); res(); });
  });
}

/**
 * dgram's address lookup for the reply socket. Replies always go to an IPv4
 * literal, and dgram's default (dns.lookup) answers even those a turn of the
 * event loop later; this answers at once.
 */
const literalLookup: NonNullable<SocketOptions['lookup']> = (address, options, callback) => {
  if (isIPv4(address)) callback(null, address, 4);
  else dnsLookup(address, options, callback);
};

/** The open listeners of one agent. */
export interface DhcpListeners {
  close(): Promise<void>;
}

/** Opens the listeners the network's mode needs and serves until closed. */
export async function startDhcp(deps: DhcpDeps): Promise<DhcpListeners> {
  const sockets: Socket[] = [];
  for (const listener of listenersFor(deps.store.plan().network.mode)) {
    const port = listener === 'dhcp' ? deps.ports.dhcp : deps.ports.pxe;
    const any = createSocket({ type: 'udp4', reuseAddr: true });
    const own = createSocket({ type: 'udp4', reuseAddr: true, lookup: literalLookup });
    const failed = (err: unknown) => deps.log.error({ err }, 'DHCP handler failed; packet dropped');
    const send = ({ decision, reply }: Handled) => {
      if (decision?.kind !== 'reply' || reply === undefined) return;
      own.send(reply, decision.to.port, decision.to.address, (err) => {
        if (err !== null) deps.log.warn({ err: err.message, to: decision.to }, 'sending a DHCP reply failed');
      });
    };
    const onMessage = (msg: Buffer, rinfo: { address: string; port: number }) => {
      try {
        const handled = handleDatagram(deps, listener, msg, rinfo);
        if (handled instanceof Promise) handled.then(send).catch(failed);
        else send(handled);
      } catch (err) {
        failed(err);
      }
    };
    for (const s of [any, own]) {
      s.on('message', onMessage);
      s.on('error', (err) => deps.log.error({ err: err.message, port }, 'DHCP socket error'));
      sockets.push(s);
    }
    if (deps.iface.address !== '127.0.0.1') await bind(any, port, '0.0.0.0');
    await bind(own, port, deps.iface.address);
    own.setBroadcast(true);
    deps.log.info({ port, address: deps.iface.address, listener }, 'DHCP listener ready');
  }
  return {
    async close() {
      await Promise.all(sockets.map((s) => new Promise<void>((r) => { try { s.close(() => r()); } catch { r(); } })));
    },
  };
}
