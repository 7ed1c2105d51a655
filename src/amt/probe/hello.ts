/**
 * The PKI "Hello" an unprovisioned AMT in bare-metal (network) setup sends to
 * ProvisionServer.<domain> on TCP 9971: once a minute for 5 minutes, every 5
 * minutes for an hour, hourly after (DOMAIN.md §4). Each Hello is a
 * provisioning attempt, and it lists the root certificate hashes the
 * firmware trusts.
 *
 * Layout (Intel AMT Implementation and Reference Guide, "Setup Mode Hello
 * Messages"; the hash list as MeshCentral's amtprovisioningserver.js
 * parseHelloData reads it). Little endian:
 *   0  u16 admin credentials set (0 or 1)
 *   2  u16 interface version: 3 = PKI (2 = PSK, removed in AMT 11.0)
 *   4  u32 retry count (0-14 per Intel)
 *   8  16 bytes device UUID (SMBIOS order: first three fields little endian)
 *   24 u8  number of hashes, then per hash: u8 algorithm (1 SHA-1, 2 SHA-256,
 *      3 SHA-384), u8 length (20, 32, 48), the hash bytes
 */

export type HashAlgorithm = 'sha1' | 'sha256' | 'sha384';

/** A trusted root certificate hash from a Hello: lower-case hex, no separators. */
export interface RootHash {
  readonly algorithm: HashAlgorithm;
  readonly hex: string;
}

export interface PkiHello {
  readonly adminCredentialsSet: boolean;
  readonly interfaceVersion: 3;
  readonly retryCount: number;
  /** The UUID as SMBIOS and the OS show it (same text as MeshCentral's guidToStr). */
  readonly uuid: string;
  readonly rootHashes: readonly RootHash[];
}

export type HelloResult =
  | { readonly ok: true; readonly hello: PkiHello; readonly length: number }
  | { readonly ok: false; readonly reason: string }
  | { readonly ok: false; readonly incomplete: true };

/** Most hashes we accept (AMT holds ~33: 20 + 3 custom + 10 more from Release 7.0). */
export const MAX_HASHES = 64;
/** Largest Hello we accept: 25 header bytes + 64 SHA-384 entries, rounded up. */
export const MAX_HELLO_BYTES = 4096;

const ALGORITHMS: Readonly<Record<number, { readonly name: HashAlgorithm; readonly length: number }>> = {
  1: { name: 'sha1', length: 20 },
  2: { name: 'sha256', length: 32 },
  3: { name: 'sha384', length: 48 },
};

/**
 * Decodes a Hello from the bytes received so far on one connection:
 * `incomplete` until the last hash has arrived, then the Hello and how many
 * bytes it used (anything after it is not ours to read).
 */
export function parseHello(b: Uint8Array): HelloResult {
  if (b.length >= 2 && u16(b, 0) > 1) return fail(`admin-credentials field ${u16(b, 0)}, want 0 or 1`);
  if (b.length >= 4 && u16(b, 2) !== 3) {
    const v = u16(b, 2);
    return fail(v === 2 ? 'a PSK Hello (interface version 2); only PKI Hellos (version 3) carry root hashes' : `interface version ${v}, want 3 (PKI)`);
  }
  if (b.length < 25) return incomplete();
  const retryCount = u32(b, 4);
  const count = b[24] ?? 0;
  if (count > MAX_HASHES) return fail(`${count} root hashes, more than firmware holds (${MAX_HASHES})`);
  const rootHashes: RootHash[] = [];
  let at = 25;
  for (let i = 0; i < count; i++) {
    if (b.length < at + 2) return incomplete();
    const algorithm = ALGORITHMS[b[at] ?? 0];
    const length = b[at + 1] ?? 0;
    if (algorithm === undefined) return fail(`hash ${i + 1}: algorithm ${b[at]}, want 1, 2 or 3`);
    if (length !== algorithm.length) return fail(`hash ${i + 1}: ${algorithm.name} of ${length} bytes, want ${algorithm.length}`);
    if (b.length < at + 2 + length) return incomplete();
    rootHashes.push({ algorithm: algorithm.name, hex: toHex(b.subarray(at + 2, at + 2 + length)) });
    at += 2 + length;
  }
  return {
    ok: true,
    length: at,
    hello: { adminCredentialsSet: u16(b, 0) === 1, interfaceVersion: 3, retryCount, uuid: uuidText(b.subarray(8, 24)), rootHashes },
  };
}

/** The bytes of a Hello (for the simulated endpoint in tests; the agent never sends one). */
export function encodeHello(h: Omit<PkiHello, 'interfaceVersion'>): Uint8Array {
  const hashes = h.rootHashes.map((r) => {
    const code = Number(Object.entries(ALGORITHMS).find(([, a]) => a.name === r.algorithm)?.[0]);
    return Uint8Array.of(code, r.hex.length / 2, ...fromHex(r.hex));
  });
  const head = new Uint8Array(25);
  const view = new DataView(head.buffer);
  view.setUint16(0, h.adminCredentialsSet ? 1 : 0, true);
  view.setUint16(2, 3, true);
  view.setUint32(4, h.retryCount, true);
  head.set(uuidBytes(h.uuid), 8);
  head[24] = hashes.length;
  const out = new Uint8Array(25 + hashes.reduce((n, x) => n + x.length, 0));
  out.set(head);
  let at = 25;
  for (const x of hashes) { out.set(x, at); at += x.length; }
  return out;
}

/** SMBIOS UUID order: time_low, time_mid, time_hi little endian; the rest as is. */
const SWAP = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];

function uuidText(raw: Uint8Array): string {
  const h = SWAP.map((i) => (raw[i] ?? 0).toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function uuidBytes(uuid: string): Uint8Array {
  const text = fromHex(uuid.replace(/-/g, ''));
  const raw = new Uint8Array(16);
  SWAP.forEach((from, to) => { raw[to] = text[from] ?? 0; });
  return raw;
}

const fail = (reason: string): HelloResult => ({ ok: false, reason });
const incomplete = (): HelloResult => ({ ok: false, incomplete: true });
const u16 = (b: Uint8Array, i: number): number => (b[i] ?? 0) | ((b[i + 1] ?? 0) << 8);
const u32 = (b: Uint8Array, i: number): number => (u16(b, i) + u16(b, i + 2) * 0x10000);
const toHex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const fromHex = (s: string): number[] => Array.from({ length: s.length >> 1 }, (_, i) => Number.parseInt(s.slice(i * 2, i * 2 + 2), 16));
