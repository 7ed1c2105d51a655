/**
 * The DHCP/ProxyDHCP listeners (UDP 67 and 4011) and the packet pipeline:
 * decode -> classify -> discover -> decide -> guard -> persist leases -> send
 * -> record. Only this file and tftp.ts touch DHCP sockets.
 *
 * Two sockets per port: one on 0.0.0.0 receives broadcasts, one on the
 * serving interface's address receives unicasts and sends every reply, so a
 * broadcast reply leaves through that interface (Linux routes a limited
 * broadcast by the source address's device) with our address as its source,
 * even on a multi-homed host.
 */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { classify } from '../boot/classify.ts';
import type { Client } from '../boot/classify.ts';
import { decide, listenersFor } from '../boot/decide.ts';
import type { Decision, Listener } from '../boot/decide.ts';
import { proxySafetyViolation } from '../boot/reply.ts';
import { timestampOf } from '../boot/status.ts';
import type { BootObservation } from '../boot/status.ts';
import { Errors } from '../errors.ts';
import { encodePacket, tryDecodePacket } from '../protocol/dhcp/index.ts';
import type { DhcpPacket } from '../protocol/dhcp/index.ts';
import type { Logger } from '../observability/logger.ts';
import type { AgentMetrics } from '../observability/metrics.ts';
import type { BootStore } from '../store/store.ts';
import type { ServingInterface } from './interfaces.ts';

export interface DhcpDeps {
  readonly store: BootStore;
  readonly iface: ServingInterface;
  readonly ports: { readonly dhcp: number; readonly pxe: number };
  readonly node: string;
  readonly log: Logger;
  readonly metrics: AgentMetrics;
  readonly now: () => number;
  /** Told the client's address when we learn it, so TFTP transfers can be tied to a MAC. */
  readonly onClientAddress?: (address: string, mac: string) => void;
}

/** Last time each agent warned that discovery is capped: once per 10 s, or a MAC flood floods the log too. */
const lastLimitWarning = new WeakMap<DhcpDeps, number>();

const TYPE_NAMES = ['none', 'discover', 'offer', 'request', 'decline', 'ack', 'nak', 'release', 'inform'];

/** Handles one datagram; exported for tests that drive it without sockets. */
export async function handleDatagram(deps: DhcpDeps, listener: Listener, msg: Uint8Array, source: { address: string; port: number }): Promise<{ decision?: Decision; reply?: Uint8Array; reason?: string }> {
  const port = String(listener === 'dhcp' ? deps.ports.dhcp : deps.ports.pxe);
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
  const decision = decide(decoded.packet, client, { plan, listener, serverAddress: deps.iface.serverAddress, source, leases: deps.store.leases(), now: deps.now() });
  if (decision.leases !== undefined) await deps.store.saveLeases(decision.leases);
  const known = plan.machines.has(client.mac);
  if (known && client.messageType === 1) record(deps, client, plan.networkName, { event: 'Discover', phase: 'Discovered' });
  if (decision.kind === 'ignore') {
    deps.metrics.dhcpPackets.inc({ port, type, result: 'ignored' });
    deps.log.debug({ mac: client.mac, type, port, reason: decision.reason }, 'no answer');
    if (known && decision.note !== undefined) record(deps, client, plan.networkName, decision.note);
    return { decision, reason: decision.reason };
  }
  if (plan.network.mode !== 'dhcp') {
    const violation = proxySafetyViolation(decision.packet);
    if (violation !== undefined) {
      deps.log.error({ mac: client.mac, violation }, 'refused to send an unsafe ProxyDHCP reply (bug)');
      deps.metrics.dhcpPackets.inc({ port, type, result: 'unsafe' });
      return { decision, reason: violation };
    }
  }
  const bytes = encodePacket(decision.packet);
  deps.metrics.dhcpPackets.inc({ port, type, result: 'answered' });
  if (known) record(deps, client, plan.networkName, decision.note, decision.packet);
  if (source.address !== '0.0.0.0') deps.onClientAddress?.(source.address, client.mac);
  return { decision, reply: bytes };
}

function record(deps: DhcpDeps, client: Client, network: string, note: NonNullable<Decision['note']>, reply?: DhcpPacket): void {
  const obs: BootObservation = {
    mac: client.mac, network, node: deps.node, time: timestampOf(new Date(deps.now())), event: note.event,
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
    const own = createSocket({ type: 'udp4', reuseAddr: true });
    const onMessage = (msg: Buffer, rinfo: { address: string; port: number }) => {
      handleDatagram(deps, listener, msg, rinfo).then(({ decision, reply }) => {
        if (decision?.kind !== 'reply' || reply === undefined) return;
        own.send(reply, decision.to.port, decision.to.address, (err) => {
          if (err !== null) deps.log.warn({ err: err.message, to: decision.to }, 'sending a DHCP reply failed');
        });
      }).catch((err: unknown) => deps.log.error({ err }, 'DHCP handler failed; packet dropped'));
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
