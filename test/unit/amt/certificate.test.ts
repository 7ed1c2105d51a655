/**
 * Provisioning-certificate checks against certificates made in the test by
 * the real openssl CLI (EC P-256 keys, so generation is fast).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeCertificate, certificateTransitions, certificateTrust, policyCertificateStatus, sameFingerprint } from '../../../src/amt/certificate.ts';
import type { CertificateSummary } from '../../../src/amt/certificate.ts';
import { AmtReason } from '../../../src/amt/reasons.ts';
import { CertLab, INTEL_EKU } from './openssl.ts';
import type { Issued } from './openssl.ts';

const lab = new CertLab();
let root: Issued;
let inter: Issued;
let good: Issued;
// A minute ahead of the wall clock: openssl stamps notBefore with the current second.
const now = new Date(Date.now() + 60_000);
const DAY = 86_400_000;

before(() => {
  // Generation takes well under the minute `now` is ahead.
  root = lab.root();
  inter = lab.intermediate(root);
  good = lab.leaf(inter, { eku: INTEL_EKU, san: 'DNS:rcs.contoso.com' });
});
after(() => lab.dispose());

const check = (s: CertificateSummary, id: string) => s.checks.find((c) => c.id === id);
const opensslFingerprint = (pem: Issued, digest: string): string =>
  lab.openssl(['x509', '-in', pem.certPath, '-noout', '-fingerprint', `-${digest}`]).toString().trim().replace(/^.*Fingerprint=/, '');

test('a complete SHA-256 chain with the Intel EKU OID is trusted; root fingerprints equal openssl\'s', () => {
  const s = analyzeCertificate(good.pem + inter.pem + root.pem, { expectedSuffix: 'contoso.com' });
  assert.deepEqual(s.checks.filter((c) => !c.ok), []);
  assert.equal(s.domain, 'rcs.contoso.com');
  assert.deepEqual(s.names, ['rcs.contoso.com']);
  assert.equal(s.subject, 'O=Contoso, CN=rcs.contoso.com');
  assert.deepEqual(s.chain.map((e) => e.signatureAlgorithm), ['ecdsa-with-SHA256', 'ecdsa-with-SHA256', 'ecdsa-with-SHA256']);
  assert.deepEqual(s.chain.map((e) => e.selfSigned), [false, false, true]);
  assert.equal(s.rootSha256, opensslFingerprint(root, 'sha256'));
  assert.equal(s.rootSha1, opensslFingerprint(root, 'sha1'));
  assert.equal(s.rootSha384, opensslFingerprint(root, 'sha384'));
  assert.match(check(s, 'intel-usage')?.message ?? '', /EKU 2\.16\.840\.1\.113741\.1\.2\.3/);
  const trust = certificateTrust(s, now);
  assert.equal(trust.status, 'True');
  assert.equal(trust.reason, AmtReason.CertificateTrusted);
  assert.match(trust.message, /has not reported its trusted root hashes/);
  const forPolicy = certificateTrust(s, now, 'policy');
  assert.equal(forPolicy.status, 'True');
  assert.doesNotMatch(forPolicy.message, /machine/, 'a policy has no machine to speak of');
  assert.deepEqual(policyCertificateStatus(s), {
    subject: 'O=Contoso, CN=rcs.contoso.com', domain: 'rcs.contoso.com', notAfter: s.chain[0]?.notAfter.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    rootSha256: s.rootSha256, rootSha1: s.rootSha1,
  });
});

test('OU "Intel(R) Client Setup Certificate" stands in for the OID; neither is refused', () => {
  const ou = lab.leaf(inter, { eku: 'serverAuth', ou: 'Intel(R) Client Setup Certificate' });
  const s = analyzeCertificate(ou.pem + inter.pem + root.pem);
  assert.equal(check(s, 'intel-usage')?.ok, true);
  assert.match(check(s, 'intel-usage')?.message ?? '', /OU "Intel\(R\) Client Setup Certificate"/);
  assert.equal(certificateTrust(s, now).status, 'True');

  const plain = lab.leaf(inter, { eku: 'serverAuth' });
  const bad = certificateTrust(analyzeCertificate(plain.pem + inter.pem + root.pem), now);
  assert.equal(bad.status, 'False');
  assert.equal(bad.reason, AmtReason.MissingIntelUsage);
  assert.match(bad.message, /neither OID 2\.16\.840\.1\.113741\.1\.2\.3 .* nor OU "Intel\(R\) Client Setup Certificate"/);

  const noServerAuth = analyzeCertificate(lab.leaf(inter, { eku: '2.16.840.1.113741.1.2.3' }).pem + inter.pem + root.pem);
  assert.equal(check(noServerAuth, 'server-auth')?.severity, 'warning');
  assert.equal(certificateTrust(noServerAuth, now).status, 'True', 'a warning does not untrust');
});

test('a missing intermediate or root is an incomplete chain naming the missing issuer', () => {
  const noInter = certificateTrust(analyzeCertificate(good.pem + root.pem), now);
  assert.equal(noInter.reason, AmtReason.ChainIncomplete);
  assert.match(noInter.message, /CN=rcs\.contoso\.com was issued by O=Netboot Test, CN=Netboot Test Intermediate, which is not in it/);
  const noRoot = analyzeCertificate(good.pem + inter.pem);
  assert.equal(certificateTrust(noRoot, now).reason, AmtReason.ChainIncomplete);
  assert.equal(noRoot.rootSha256, undefined, 'no root, no root fingerprint');
  const stray = analyzeCertificate(good.pem + inter.pem + root.pem + lab.root('Unrelated Root').pem);
  assert.match(certificateTrust(stray, now).message, /CN=Unrelated Root is not part of the leaf's chain/);
});

test('a complete PEM chain out of order is refused; the same set from a PFX is fine', () => {
  const pem = root.pem + good.pem + inter.pem;
  const s = analyzeCertificate(pem);
  const t = certificateTrust(s, now);
  assert.equal(t.reason, AmtReason.ChainUnordered);
  assert.match(t.message, /put the leaf first/);
  assert.deepEqual(s.chain.map((e) => e.subject.replace(/^.*CN=/, '')), ['rcs.contoso.com', 'Netboot Test Intermediate', 'Netboot Test Root'], 'rebuilt leaf to root');
  assert.equal(s.domain, 'rcs.contoso.com', 'the leaf is found wherever it sits');
  assert.equal(certificateTrust(analyzeCertificate(pem, { source: 'pfx' }), now).status, 'True');
});

test('SHA-1 signatures fail; a SHA-1 self-signed root only warns (roots are trusted by hash)', () => {
  const sha1Leaf = lab.leaf(inter, { eku: INTEL_EKU, digest: 'sha1' });
  const t = certificateTrust(analyzeCertificate(sha1Leaf.pem + inter.pem + root.pem), now);
  assert.equal(t.reason, AmtReason.NotSha2);
  assert.match(t.message, /CN=rcs\.contoso\.com \(ecdsa-with-SHA1\)/);

  const sha1Root = lab.root('SHA1 Root', 'sha1');
  const leaf = lab.leaf(sha1Root, { eku: INTEL_EKU });
  const s = analyzeCertificate(leaf.pem + sha1Root.pem);
  assert.equal(check(s, 'root-signature')?.severity, 'warning');
  assert.equal(certificateTrust(s, now).status, 'True');
});

test('validity is judged at the given instant: expired, not yet valid, and the transitions', () => {
  const short = lab.leaf(inter, { eku: INTEL_EKU, days: 1 });
  const s = analyzeCertificate(short.pem + inter.pem + root.pem);
  const leaf = s.chain[0];
  assert.ok(leaf !== undefined);
  assert.equal(certificateTrust(s, new Date(leaf.notAfter.getTime() - 1000)).status, 'True');
  const expired = certificateTrust(s, new Date(leaf.notAfter.getTime()));
  assert.equal(expired.reason, AmtReason.CertificateExpired);
  assert.match(expired.message, /CN=rcs\.contoso\.com expired at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
  assert.equal(certificateTrust(s, new Date(now.getTime() - 2 * DAY)).reason, AmtReason.CertificateNotYetValid);
  assert.ok(certificateTransitions(s).some((d) => d.getTime() === leaf.notAfter.getTime()));
});

test('the machine\'s reported root hashes must include the chain\'s root', () => {
  const s = analyzeCertificate(good.pem + inter.pem + root.pem);
  const hex = (s.rootSha256 ?? '').replaceAll(':', '').toLowerCase();
  assert.ok(sameFingerprint(hex, s.rootSha256 ?? ''));
  assert.equal(certificateTrust(s, now, ['00'.repeat(32), hex]).status, 'True');
  assert.equal(certificateTrust(s, now, [(s.rootSha1 ?? '').replaceAll(':', '')]).status, 'True', 'SHA-1 hashes count too');
  const other = certificateTrust(s, now, ['ab'.repeat(32)]);
  assert.equal(other.reason, AmtReason.RootNotTrusted);
  assert.match(other.message, /add the root's hash in MEBx/);
});

test('leaf names: wildcard CN, SANs, no DNS name, and the policy suffix', () => {
  const wild = analyzeCertificate(lab.leaf(inter, { cn: '*.Contoso.com', eku: INTEL_EKU, san: 'DNS:*.contoso.com,DNS:rcs.sales.contoso.com' }).pem + inter.pem + root.pem, { expectedSuffix: 'contoso.com.' });
  assert.equal(wild.domain, 'contoso.com');
  assert.deepEqual(wild.names, ['contoso.com', 'rcs.sales.contoso.com']);
  assert.equal(check(wild, 'policy-suffix')?.ok, true);
  const elsewhere = analyzeCertificate(good.pem + inter.pem + root.pem, { expectedSuffix: 'fabrikam.com' });
  assert.equal(check(elsewhere, 'policy-suffix')?.ok, false);
  assert.match(check(elsewhere, 'policy-suffix')?.message ?? '', /not under the policy's dnsSuffix fabrikam\.com/);
  const noName = certificateTrust(analyzeCertificate(lab.leaf(inter, { cn: 'Provisioning', eku: INTEL_EKU }).pem + inter.pem + root.pem), now);
  assert.equal(noName.reason, AmtReason.NoLeafDomain);
});

test('unreadable input and foreign PEM blocks', () => {
  for (const [text, why] of [['', /no PEM CERTIFICATE block/], ['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', /certificate 1 does not parse/]] as const) {
    const s = analyzeCertificate(text);
    const t = certificateTrust(s, now);
    assert.equal(t.reason, AmtReason.CertificateUnreadable);
    assert.match(t.message, why);
  }
  const withKey = analyzeCertificate(good.key + good.pem + inter.pem + root.pem);
  assert.equal(certificateTrust(withKey, now).status, 'True', 'a private key block is ignored');
  assert.equal(certificateTrust(undefined, now).reason, AmtReason.NoCertificate);
});
