/**
 * The shared shape of boot decisions: context in, reply or silence out, and
 * the helpers every mode's handler uses to build a reply.
 */
import { OptionCode, setOption } from '../protocol/dhcp/index.ts';
import type { DhcpPacket } from '../protocol/dhcp/index.ts';
import type { BootPhase } from '../api/v1alpha1/bootmachine.ts';
import type { BootTarget } from './bootfile.ts';
import type { Client } from './classify.ts';
import type { Lease } from './leases.ts';
import type { BootPlan } from './plan.ts';
import type { BootEvent } from './status.ts';

/** The listener a packet arrived on: 'dhcp' is UDP 67, 'pxe' is UDP 4011. */
export type Listener = 'dhcp' | 'pxe';

export interface DecideContext {
  readonly plan: BootPlan;
  readonly listener: Listener;
  /** Our address on the serving interface, or the configured advertise address. */
  readonly serverAddress: string;
  /** Where the request came from (4011 replies go back there). */
  readonly source: { readonly address: string; readonly port: number };
  readonly leases: readonly Lease[];
  readonly now: number;
  /**
   * Mode dhcp: the lease time for this client when it differs from the
   * network's spec.dhcp.leaseSeconds (the agent shortens it while the
   * machine's AMT DNS suffix does not match, if the policy says so).
   */
  readonly leaseSeconds?: number;
}

/** What the agent records for the machine. */
export interface Note {
  readonly event: BootEvent;
  readonly phase?: BootPhase;
  readonly detail?: string;
  readonly stoppedReason?: string;
}

export type Decision =
  | { readonly kind: 'reply'; readonly packet: DhcpPacket; readonly to: { readonly address: string; readonly port: number }; readonly note: Note; readonly leases?: readonly Lease[] }
  | { readonly kind: 'ignore'; readonly reason: string; readonly note?: Note; readonly leases?: readonly Lease[] };

/** Silence, with the reason and optionally a note for the machine's history. */
export const ignore = (reason: string, note?: Note): Decision => ({ kind: 'ignore', reason, ...(note === undefined ? {} : { note }) });

/** Where a reply to `request` goes (RFC 2131 §4.1): relay, then unicast to a configured client, else broadcast. */
export function replyDestination(request: DhcpPacket, listener: Listener, source: DecideContext['source']): { address: string; port: number } {
  if (request.giaddr !== '0.0.0.0') return { address: request.giaddr, port: 67 };
  if (listener === 'pxe') return { address: source.address, port: source.port };
  if (request.ciaddr !== '0.0.0.0') return { address: request.ciaddr, port: 68 };
  return { address: '255.255.255.255', port: 68 };
}

/** Adds the boot fields every boot reply carries. */
export function withBoot(reply: DhcpPacket, client: Client, target: Extract<BootTarget, { ok: true }>, serverAddress: string): void {
  reply.siaddr = serverAddress;
  reply.file = target.file.length <= 127 ? target.file : '';
  setOption(reply.options, OptionCode.VendorClassId, client.stage === 'http' ? 'HTTPClient' : 'PXEClient');
  setOption(reply.options, OptionCode.BootFileName, target.file);
  if (target.kind === 'loader') setOption(reply.options, OptionCode.TftpServerName, serverAddress);
}

export const noteFor = (target: Extract<BootTarget, { ok: true }>, event: BootEvent, phase: BootPhase): Note =>
  ({ event, phase, detail: `${target.kind === 'loader' ? 'loader' : target.kind === 'script' ? 'script' : 'http boot'} ${target.file} (profile ${target.profile} via ${target.via})` });


/** Options a ProxyDHCP reply must never carry: they would configure the client's address. */
const PROXY_FORBIDDEN = [OptionCode.SubnetMask, OptionCode.Routers, OptionCode.DnsServers, OptionCode.LeaseTime] as const;

/**
 * Why `packet` must not be sent by a proxy-mode network, or undefined when it
 * is safe. The agent checks every proxy reply with this before it leaves, as
 * a last guard against a bug handing out an address on someone else's LAN.
 */
export function proxySafetyViolation(packet: DhcpPacket): string | undefined {
  if (packet.yiaddr !== '0.0.0.0') return `yiaddr ${packet.yiaddr} is not 0.0.0.0`;
  const bad = PROXY_FORBIDDEN.find((code) => packet.options.has(code));
  return bad === undefined ? undefined : `option ${bad} is an address-assignment option`;
}
