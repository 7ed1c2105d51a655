/**
 * Just enough DER (ITU-T X.690) to read a certificate's outer
 * signatureAlgorithm, including the hash inside RSASSA-PSS parameters,
 * which node:crypto does not expose. Definite lengths only, as DER requires;
 * anything else is a returned reason, not an exception.
 */

/** One tag-length-value: `tag` is the identifier octet; the value is bytes[start, end). */
export interface Tlv {
  readonly tag: number;
  readonly start: number;
  readonly end: number;
}

/** Reads the TLV at `offset`, or a reason why it cannot. */
export function readTlv(bytes: Uint8Array, offset: number, limit = bytes.length): Tlv | string {
  if (offset + 2 > limit) return `truncated header at byte ${offset}`;
  const tag = bytes[offset] ?? 0;
  if ((tag & 0x1f) === 0x1f) return `multi-byte tag at byte ${offset} is not used in certificates`;
  const first = bytes[offset + 1] ?? 0;
  let length = first;
  let start = offset + 2;
  if (first & 0x80) {
    const n = first & 0x7f;
    if (n === 0 || n > 4) return `unsupported length form at byte ${offset + 1}`;
    if (start + n > limit) return `truncated length at byte ${offset + 1}`;
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + (bytes[start + i] ?? 0);
    start += n;
  }
  if (start + length > limit) return `value at byte ${offset} runs past its container`;
  return { tag, start, end: start + length };
}

/** The TLVs directly inside a constructed value. */
export function children(bytes: Uint8Array, parent: Tlv): Tlv[] | string {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end;) {
    const t = readTlv(bytes, at, parent.end);
    if (typeof t === 'string') return t;
    out.push(t);
    at = t.end;
  }
  return out;
}

/** Dotted form of an OBJECT IDENTIFIER value; undefined when `t` is not one. */
export function decodeOid(bytes: Uint8Array, t: Tlv): string | undefined {
  if (t.tag !== 0x06 || t.end <= t.start || ((bytes[t.end - 1] ?? 0) & 0x80) !== 0) return undefined;
  const arcs: number[] = [];
  let v = 0;
  for (let i = t.start; i < t.end; i++) {
    const b = bytes[i] ?? 0;
    v = v * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (arcs.length === 0) arcs.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else arcs.push(v);
      v = 0;
    }
  }
  return arcs.join('.');
}

const SEQUENCE = 0x30;
/** id-RSASSA-PSS: its parameters name the hash. */
export const RSASSA_PSS = '1.2.840.113549.1.1.10';
const SHA1 = '1.3.14.3.2.26';

/** The signature algorithm of a DER certificate; for RSASSA-PSS also the hash OID (SHA-1 when absent, per RFC 4055). */
export function signatureAlgorithm(der: Uint8Array): { readonly oid: string; readonly hashOid?: string } | string {
  const cert = readTlv(der, 0);
  if (typeof cert === 'string') return cert;
  if (cert.tag !== SEQUENCE) return 'certificate is not a SEQUENCE';
  const parts = children(der, cert);
  if (typeof parts === 'string') return parts;
  const alg = parts[1];
  if (parts.length !== 3 || alg === undefined || alg.tag !== SEQUENCE) return 'certificate is not tbsCertificate, signatureAlgorithm, signature';
  const algParts = children(der, alg);
  if (typeof algParts === 'string') return algParts;
  const oidTlv = algParts[0];
  if (oidTlv === undefined || oidTlv.tag !== 0x06) return 'signatureAlgorithm has no OID';
  const oid = decodeOid(der, oidTlv);
  if (oid === undefined) return 'signatureAlgorithm OID is malformed';
  if (oid !== RSASSA_PSS) return { oid };
  const params = algParts[1];
  if (params === undefined || params.tag !== SEQUENCE) return { oid, hashOid: SHA1 };
  const fields = children(der, params);
  if (typeof fields === 'string') return fields;
  const hashField = fields.find((f) => f.tag === 0xa0); // [0] EXPLICIT HashAlgorithm
  if (hashField === undefined) return { oid, hashOid: SHA1 };
  const hashAlg = readTlv(der, hashField.start, hashField.end);
  if (typeof hashAlg === 'string' || hashAlg.tag !== SEQUENCE) return 'RSASSA-PSS hashAlgorithm is malformed';
  const hashOidTlv = readTlv(der, hashAlg.start, hashAlg.end);
  if (typeof hashOidTlv === 'string' || hashOidTlv.tag !== 0x06) return 'RSASSA-PSS hashAlgorithm has no OID';
  const hashOid = decodeOid(der, hashOidTlv);
  return hashOid === undefined ? 'RSASSA-PSS hash OID is malformed' : { oid, hashOid };
}
