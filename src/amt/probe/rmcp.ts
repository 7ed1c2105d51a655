/**
 * RMCP/ASF presence ping and pong (UDP 623), read the way Intel's AMT SDK
 * reads them: bytes in, facts out, never a throw. The only way to learn an
 * unprovisioned AMT's firmware and setup state without credentials.
 *
 * Layout (DMTF DSP0136 "Alert Standard Format 2.0", as freeipmi's
 * tmpl_cmd_asf_presence_pong and ipmitool's asf.h lay it out):
 *
 *   0  RMCP version 0x06 | 1 reserved | 2 sequence (0xFF: no RMCP ACK) | 3 class (0x06 ASF; bit 7 = ACK)
 *   4  ASF IANA enterprise number 4542 (0x000011BE), big endian
 *   8  message type (0x80 ping, 0x40 pong) | 9 tag | 10 reserved | 11 data length (16 in a pong)
 *   12 pong data: OEM IANA (4) | OEM-defined (4) | supported entities | supported interactions | reserved (6)
 *
 * Intel numbers the pong data from 1 ("Use RMCP Ping to Determine the
 * Platform State" and Discovery > "Detailed Description", Intel AMT
 * Implementation and Reference Guide), so Intel's byte n is offset 11 + n:
 *   bytes 1-4   OEM IANA 343 (Intel Corp.)
 *   bytes 5-6   open port: 16992 (HTTP) or 16993 (TLS); 0 = AMT present, setup not performed (6.1+)
 *   byte 7      version, bits 7:4 major, 3:0 minor (0x60 = 6.0); 0 before 6.0
 *   byte 8      setup state 0 not configured, 1 in process, 2 completed
 *   byte 9/10   bit 5 DASH supported (byte 9 in 4.x-5.0, byte 10 from 5.1)
 *   byte 11/12  major/minor when byte 7 is 0 (a major above 15 does not fit a nibble)
 * MeshCentral's amtscanner.js (parseRmcpPacket) reads the same offsets and
 * also treats bit 2 of byte 8 as "both 16992 and 16993 open"; we follow it.
 */

export const RMCP_PORT = 623;
/** IANA enterprise number of the ASF forum: the ASF message header always carries it. */
export const ASF_IANA = 4542;
/** IANA enterprise number of Intel Corporation: an AMT pong carries it as the OEM number. */
export const INTEL_IANA = 343;
export const ASF_PRESENCE_PING = 0x80;
export const ASF_PRESENCE_PONG = 0x40;
export const AMT_HTTP_PORT = 16992;
export const AMT_HTTPS_PORT = 16993;

/** Setup state from byte 8: pre-, in- or post-provisioning. */
export type ProvisioningState = 'pre' | 'in' | 'post' | 'unknown';

/** An AMT firmware version as a pong or a Server header gives it. */
export interface AmtVersion {
  readonly major: number;
  readonly minor: number;
  /** "11.8", or "11.8.50.3425" when a Server header gave more parts. */
  readonly text: string;
}

/** A decoded presence pong; the AMT-specific fields are set only when `amt` is true. */
export interface PresencePong {
  readonly tag: number;
  /** OEM IANA number of the pong data: 343 for Intel AMT, 4542 for a plain ASF/IPMI responder. */
  readonly oemIana: number;
  /** True when the OEM IANA is Intel's (343): the bytes below are AMT's. */
  readonly amt: boolean;
  /** DASH supported (bit 5 of byte 9 or 10). */
  readonly dash: boolean;
  /** IPMI supported (supported entities, bit 7): what a server BMC says, not AMT. */
  readonly ipmi: boolean;
  /** Firmware version (AMT 6.0+); absent when the pong does not carry one. */
  readonly version?: AmtVersion;
  /** The port bytes 5-6 name (0 when setup has not been performed). */
  readonly openPort?: number;
  /** Which AMT web ports the pong says are open. */
  readonly ports?: { readonly http: boolean; readonly https: boolean };
  readonly provisioningState?: ProvisioningState;
}

export type PongResult =
  | { readonly ok: true; readonly pong: PresencePong }
  | { readonly ok: false; readonly reason: string };

/** The 12-byte presence ping with `tag` (0-254; 255 is reserved by ASF). */
export function buildPresencePing(tag: number): Uint8Array {
  if (!Number.isInteger(tag) || tag < 0 || tag > 254) throw new RangeError(`RMCP ping tag must be 0-254, got ${tag}`);
  return Uint8Array.of(0x06, 0x00, 0xff, 0x06, 0x00, 0x00, 0x11, 0xbe, ASF_PRESENCE_PING, tag, 0x00, 0x00);
}

/** What an AMT pong says, for {@link buildAmtPong}. */
export interface AmtPongFields {
  readonly tag: number;
  readonly major: number;
  readonly minor: number;
  /** Bytes 5-6; 0 = setup not performed. */
  readonly openPort: number;
  readonly bothPorts?: boolean;
  readonly provisioningState: Exclude<ProvisioningState, 'unknown'>;
}

/**
 * The 28-byte pong an AMT 5.1+ answers with, laid out as in the file comment
 * (DASH in byte 10). Used by the simulated endpoint in tests; the agent never
 * sends a pong.
 */
export function buildAmtPong(f: AmtPongFields): Uint8Array {
  const b = new Uint8Array(28);
  b.set([0x06, 0x00, 0xff, 0x06, 0x00, 0x00, 0x11, 0xbe, ASF_PRESENCE_PONG, f.tag, 0x00, 16]);
  b.set([0x00, 0x00, 0x01, 0x57], 12); // OEM IANA 343
  b[16] = f.openPort >> 8;
  b[17] = f.openPort & 0xff;
  const fits = f.major <= 15 && f.minor <= 15;
  b[18] = fits ? (f.major << 4) | f.minor : 0;
  b[19] = STATES.indexOf(f.provisioningState) | (f.bothPorts === true ? 0x04 : 0);
  b[20] = 0x01; // supported entities: ASF version 1.0, no IPMI
  b[21] = 0x20; // supported interactions: DASH
  if (!fits) { b[22] = f.major; b[23] = f.minor; }
  return b;
}

const STATES: readonly ProvisioningState[] = ['pre', 'in', 'post', 'unknown'];

/** Decodes one UDP payload received from port 623. */
export function parsePresencePong(b: Uint8Array): PongResult {
  if (b.length < 12) return fail(`${b.length} bytes, shorter than the RMCP and ASF headers (12)`);
  if (b[0] !== 0x06) return fail(`RMCP version 0x${hex(b[0])}, want 0x06`);
  const cls = b[3] ?? 0;
  if ((cls & 0x80) !== 0) return fail('an RMCP ACK, not a pong');
  if ((cls & 0x1f) !== 0x06) return fail(`RMCP class ${cls & 0x1f}, want 6 (ASF)`);
  const iana = u32(b, 4);
  if (iana !== ASF_IANA) return fail(`ASF IANA number ${iana}, want ${ASF_IANA}`);
  if (b[8] !== ASF_PRESENCE_PONG) return fail(`ASF message type 0x${hex(b[8])}, want 0x40 (presence pong)`);
  // ASF says 16 data bytes; some responders cut the reserved tail (MeshCentral
  // accepts 20+ bytes). We need the data through byte 10 (interactions) and
  // read missing reserved bytes as zero.
  const length = b[11] ?? 0;
  if (length < 10) return fail(`pong data length ${length}, want 16`);
  if (b.length < 12 + 10) return fail(`pong data ends at byte ${b.length - 12} of 16`);
  const at = (n: number): number => b[11 + n] ?? 0; // Intel's 1-based byte numbers
  const oemIana = u32(b, 12);
  const common = {
    tag: b[9] ?? 0,
    oemIana,
    amt: oemIana === INTEL_IANA,
    dash: (at(9) & 0x20) !== 0 || (at(10) & 0x20) !== 0,
    ipmi: (at(9) & 0x80) !== 0,
  };
  if (!common.amt) return { ok: true, pong: common };
  const openPort = (at(5) << 8) | at(6);
  const both = (at(8) & 0x04) !== 0;
  return {
    ok: true,
    pong: {
      ...common,
      ...versionOf(at(7), at(11), at(12)),
      openPort,
      ports: { http: both || openPort === AMT_HTTP_PORT, https: both || openPort === AMT_HTTPS_PORT },
      provisioningState: STATES[at(8) & 0x03] ?? 'unknown',
    },
  };
}

function versionOf(nibbles: number, major: number, minor: number): { version?: AmtVersion } {
  if (nibbles !== 0) return { version: { major: nibbles >> 4, minor: nibbles & 0x0f, text: `${nibbles >> 4}.${nibbles & 0x0f}` } };
  if (major !== 0) return { version: { major, minor, text: `${major}.${minor}` } };
  return {}; // before Release 6.0: no version in the pong
}

const fail = (reason: string): PongResult => ({ ok: false, reason });
const hex = (n: number | undefined): string => (n ?? 0).toString(16).padStart(2, '0');
const u32 = (b: Uint8Array, i: number): number => (((b[i] ?? 0) << 24) >>> 0) + ((b[i + 1] ?? 0) << 16) + ((b[i + 2] ?? 0) << 8) + (b[i + 3] ?? 0);
