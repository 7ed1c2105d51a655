import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { children, decodeOid, readTlv, signatureAlgorithm } from '../../../src/amt/der.ts';
import { analyzeCertificate } from '../../../src/amt/certificate.ts';
import { CertLab, INTEL_EKU } from './openssl.ts';

const lab = new CertLab();
after(() => lab.dispose());

const bytes = (hex: string) => Uint8Array.from(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
const tlv = (tag: number, body: Uint8Array): Uint8Array => {
  const len = body.length < 128 ? [body.length] : body.length < 256 ? [0x81, body.length] : [0x82, body.length >> 8, body.length & 0xff];
  return Uint8Array.from([tag, ...len, ...body]);
};
const cat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
const oid = (hex: string) => tlv(0x06, bytes(hex));
const PSS = '2A864886F70D01010A';

test('OIDs decode, including the first two arcs and multi-byte arcs', () => {
  const cases: [string, string | undefined][] = [
    ['06092A864886F70D01010B', '1.2.840.113549.1.1.11'],
    ['0603551D25', '2.5.29.37'],
    ['06028837', '2.999'],
    ['060A6086480186F84D010203', '2.16.840.1.113741.1.2.3'],
    ['0601', undefined], // length 1, no byte: readTlv refuses it
    ['0402AABB', undefined],
  ];
  for (const [hex, want] of cases) {
    const b = bytes(hex);
    const t = readTlv(b, 0);
    if (typeof t === 'string') {
      assert.equal(want, undefined, `${hex}: ${t}`);
      continue;
    }
    assert.equal(decodeOid(b, t), want, hex);
  }
  assert.equal(decodeOid(bytes('060186'), { tag: 6, start: 2, end: 3 }), undefined, 'a dangling continuation byte is malformed');
});

test('lengths: short and long form, truncation and overruns are reasons, not exceptions', () => {
  const long = tlv(0x04, new Uint8Array(300));
  const t = readTlv(long, 0);
  assert.deepEqual(t, { tag: 4, start: 4, end: 304 });
  assert.match(String(readTlv(long.subarray(0, 100), 0)), /runs past its container/);
  assert.match(String(readTlv(bytes('30'), 0)), /truncated header/);
  assert.match(String(readTlv(bytes('3085'), 0)), /unsupported length form/);
  assert.match(String(readTlv(bytes('3080'), 0)), /unsupported length form/, 'indefinite length is not DER');
  assert.match(String(readTlv(bytes('1F0100'), 0)), /multi-byte tag/);
  assert.match(String(children(bytes('3003020101FF'), { tag: 0x30, start: 2, end: 6 })), /truncated/);
});

test('signatureAlgorithm agrees with node:crypto on openssl certificates (EC SHA-256, SHA-1)', () => {
  const root = lab.root();
  const sha1 = lab.leaf(root, { eku: INTEL_EKU, digest: 'sha1' });
  const sha384 = lab.leaf(root, { eku: INTEL_EKU, digest: 'sha384' });
  for (const [pem, want] of [[root.pem, '1.2.840.10045.4.3.2'], [sha1.pem, '1.2.840.10045.4.1'], [sha384.pem, '1.2.840.10045.4.3.3']] as const) {
    const x = new X509Certificate(pem);
    const got = signatureAlgorithm(new Uint8Array(x.raw));
    assert.deepEqual(got, { oid: want });
    assert.equal(x.signatureAlgorithmOid, want, 'node agrees');
  }
});

test('RSASSA-PSS: the hash comes from the parameters, SHA-1 when they are absent', () => {
  for (const [digest, hash, name] of [['sha256', '2.16.840.1.101.3.4.2.1', 'RSASSA-PSS with SHA-256'], ['sha384', '2.16.840.1.101.3.4.2.2', 'RSASSA-PSS with SHA-384']] as const) {
    const pem = lab.pssSelfSigned(digest);
    assert.deepEqual(signatureAlgorithm(new Uint8Array(new X509Certificate(pem).raw)), { oid: '1.2.840.113549.1.1.10', hashOid: hash });
    const entry = analyzeCertificate(pem).chain[0];
    assert.equal(entry?.signatureAlgorithm, name);
    assert.equal(entry?.sha2, true);
  }
  // Certificate { tbs, AlgorithmIdentifier { id-RSASSA-PSS, params }, BIT STRING }, hand-built.
  const cert = (algBody: Uint8Array) => tlv(0x30, cat(tlv(0x30, new Uint8Array()), tlv(0x30, algBody), tlv(0x03, bytes('00'))));
  assert.deepEqual(signatureAlgorithm(cert(oid(PSS))), { oid: '1.2.840.113549.1.1.10', hashOid: '1.3.14.3.2.26' }, 'no parameters: SHA-1 default');
  assert.deepEqual(signatureAlgorithm(cert(cat(oid(PSS), tlv(0x30, new Uint8Array())))), { oid: '1.2.840.113549.1.1.10', hashOid: '1.3.14.3.2.26' }, 'empty parameters: SHA-1 default');
  const sha512 = tlv(0xa0, tlv(0x30, cat(oid('608648016503040203'), bytes('0500'))));
  assert.deepEqual(signatureAlgorithm(cert(cat(oid(PSS), tlv(0x30, sha512)))), { oid: '1.2.840.113549.1.1.10', hashOid: '2.16.840.1.101.3.4.2.3' });
  assert.match(String(signatureAlgorithm(cert(cat(oid(PSS), tlv(0x30, tlv(0xa0, bytes('0500'))))))), /hashAlgorithm is malformed/);
});

test('structural errors in the certificate are reasons', () => {
  assert.match(String(signatureAlgorithm(bytes('020100'))), /not a SEQUENCE/);
  assert.match(String(signatureAlgorithm(tlv(0x30, tlv(0x30, new Uint8Array())))), /not tbsCertificate, signatureAlgorithm, signature/);
  assert.match(String(signatureAlgorithm(tlv(0x30, cat(tlv(0x30, new Uint8Array()), tlv(0x30, bytes('0500')), tlv(0x03, bytes('00')))))), /has no OID/);
});
