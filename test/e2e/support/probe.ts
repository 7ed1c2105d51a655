/**
 * Typed front end of test/protocol/support/dhcp-probe.py (scapy, run with
 * /usr/bin/python3 inside a lab host): the steps to send and the replies
 * seen, decoded. See the script's docstring for every step field.
 */
import { PROBE_PY } from './lab.ts';
import type { Lab } from './lab.ts';

export interface ProbeStep {
  readonly name: string;
  readonly kind?: 'dhcp' | 'raw';
  /** kind raw: the UDP payload as hex. */
  readonly hex?: string;
  readonly type?: 'discover' | 'request' | 'inform' | 'decline' | 'release' | number;
  readonly pxe?: boolean;
  readonly vendorClass?: string | null;
  readonly arch?: number;
  readonly ipxe?: boolean;
  readonly serverId?: string;
  readonly requestedIp?: string;
  readonly bootItem?: readonly [number, number];
  /** Extra options: code -> value hex. */
  readonly options?: Readonly<Record<string, string>>;
  readonly xid?: number;
  readonly mac?: string;
  readonly ciaddr?: string;
  readonly flags?: number;
  readonly to?: string;
  readonly dport?: number;
  readonly sport?: number;
  readonly wait?: number;
}

export interface ProbeReply {
  readonly src: string;
  readonly sport: number;
  readonly dst: string;
  readonly dport: number;
  /** Seconds after the step's datagram left. */
  readonly at: number;
  readonly op?: number;
  readonly xid?: number;
  readonly ciaddr?: string;
  readonly yiaddr?: string;
  readonly siaddr?: string;
  readonly giaddr?: string;
  readonly sname?: string;
  readonly file?: string;
  readonly messageType?: number;
  /** code -> value hex */
  readonly options?: Readonly<Record<string, string>>;
  readonly malformed?: string;
}

export interface ProbeStepResult {
  readonly name: string;
  readonly xid: number;
  readonly sent: { readonly from: string; readonly sport: number; readonly to: string; readonly dport: number; readonly bytes: number };
  readonly replies: readonly ProbeReply[];
}

export interface ProbeResult {
  readonly mac: string;
  readonly ip: string;
  readonly steps: readonly ProbeStepResult[];
}

/** Runs the probe in host NAME's namespace; throws with its stderr when it fails. */
export async function runProbe(lab: Lab, host: string, steps: readonly ProbeStep[]): Promise<ProbeResult> {
  const budget = steps.reduce((s, st) => s + (st.wait ?? 1), 0);
  const r = await lab.exec(host, ['/usr/bin/python3', PROBE_PY, '--iface', 'eth0', '-'], { input: JSON.stringify(steps), timeoutMs: Math.ceil((budget + 60) * 1000) });
  if (r.code !== 0) throw new Error(`dhcp-probe.py exited ${r.code}:\n${r.stderr}`);
  return JSON.parse(r.stdout) as ProbeResult;
}

/** The step's result by name; throws when the probe has none. */
export function step(result: ProbeResult, name: string): ProbeStepResult {
  const s = result.steps.find((x) => x.name === name);
  if (s === undefined) throw new Error(`the probe reported no step "${name}"`);
  return s;
}

/** An option's value as text (hex decoded as latin1). */
export function optionText(reply: ProbeReply, code: number): string | undefined {
  const hex = reply.options?.[String(code)];
  return hex === undefined ? undefined : Buffer.from(hex, 'hex').toString('latin1');
}

/** An option's value as a dotted IPv4 address. */
export function optionIp(reply: ProbeReply, code: number): string | undefined {
  const hex = reply.options?.[String(code)];
  return hex === undefined || hex.length !== 8 ? undefined : [...Buffer.from(hex, 'hex')].join('.');
}

/** One line per reply, for assertion messages. */
export function describeReplies(s: ProbeStepResult): string {
  if (s.replies.length === 0) return `    ${s.name}: no replies`;
  return s.replies.map((r) => `    ${s.name}: ${r.src}:${r.sport} -> ${r.dst}:${r.dport} type ${r.messageType ?? '?'} yiaddr ${r.yiaddr} siaddr ${r.siaddr} file "${r.file}" options ${Object.keys(r.options ?? {}).join(',')}${r.malformed === undefined ? '' : ` MALFORMED ${r.malformed}`}`).join('\n');
}
