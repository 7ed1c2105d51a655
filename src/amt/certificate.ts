/**
 * Checks of an AMT provisioning certificate (shared/DOMAIN.md section 4),
 * from PEM text: the leaf's DNS name, Intel's setup usage (EKU OID
 * 2.16.840.1.113741.1.2.3 or OU "Intel(R) Client Setup Certificate"), a
 * complete chain ordered leaf to self-signed root, SHA-2 signatures, and the
 * root's fingerprints to compare with the root hashes a machine reports.
 *
 * `analyzeCertificate` holds the checks that do not depend on time, so the
 * controller analyses a Secret once; `certificateTrust` adds validity at
 * `now`. A PFX is converted to PEM outside src/amt (src/store/pfx.ts).
 */
import { X509Certificate, createHash } from 'node:crypto';
import { AmtReason } from './reasons.ts';
import type { AmtReasonName } from './reasons.ts';
import { RSASSA_PSS, signatureAlgorithm } from './der.ts';
import { normalizeSuffix } from './suffix.ts';
import { rfc3339 } from './time.ts';

/** Intel AMT setup-and-configuration EKU. */
export const INTEL_SETUP_OID = '2.16.840.1.113741.1.2.3';
/** The OU Intel accepts instead of the EKU OID. */
export const INTEL_SETUP_OU = 'Intel(R) Client Setup Certificate';
const SERVER_AUTH_OID = '1.3.6.1.5.5.7.3.1';

/** Signature algorithms by OID: name, and whether the hash is SHA-2. */
const SIGNATURE_ALGORITHMS: Record<string, { readonly name: string; readonly sha2: boolean }> = {
  '1.2.840.113549.1.1.2': { name: 'md2WithRSAEncryption', sha2: false },
  '1.2.840.113549.1.1.4': { name: 'md5WithRSAEncryption', sha2: false },
  '1.2.840.113549.1.1.5': { name: 'sha1WithRSAEncryption', sha2: false },
  '1.2.840.113549.1.1.11': { name: 'sha256WithRSAEncryption', sha2: true },
  '1.2.840.113549.1.1.12': { name: 'sha384WithRSAEncryption', sha2: true },
  '1.2.840.113549.1.1.13': { name: 'sha512WithRSAEncryption', sha2: true },
  '1.2.840.113549.1.1.14': { name: 'sha224WithRSAEncryption', sha2: true },
  '1.2.840.10045.4.1': { name: 'ecdsa-with-SHA1', sha2: false },
  '1.2.840.10045.4.3.1': { name: 'ecdsa-with-SHA224', sha2: true },
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', sha2: true },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', sha2: true },
  '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', sha2: true },
  '1.2.840.10040.4.3': { name: 'dsa-with-sha1', sha2: false },
  '2.16.840.1.101.3.4.3.2': { name: 'dsa-with-sha256', sha2: true },
  '1.3.101.112': { name: 'Ed25519', sha2: false },
  '1.3.101.113': { name: 'Ed448', sha2: false },
};
/** Hashes inside RSASSA-PSS parameters. */
const PSS_HASHES: Record<string, { readonly name: string; readonly sha2: boolean }> = {
  '1.3.14.3.2.26': { name: 'SHA-1', sha2: false },
  '2.16.840.1.101.3.4.2.1': { name: 'SHA-256', sha2: true },
  '2.16.840.1.101.3.4.2.2': { name: 'SHA-384', sha2: true },
  '2.16.840.1.101.3.4.2.3': { name: 'SHA-512', sha2: true },
  '2.16.840.1.101.3.4.2.4': { name: 'SHA-224', sha2: true },
};

/** One certificate of the chain, as status and messages show it. */
export interface ChainEntry {
  readonly subject: string;
  readonly issuer: string;
  readonly signatureAlgorithm: string;
  readonly sha2: boolean;
  readonly selfSigned: boolean;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** One time-independent check. Errors make the certificate untrusted; warnings only inform. */
export interface CertificateCheck {
  readonly id: 'readable' | 'chain' | 'sha2' | 'intel-usage' | 'leaf-domain' | 'server-auth' | 'policy-suffix' | 'root-signature';
  readonly ok: boolean;
  readonly severity: 'error' | 'warning';
  /** The AmtCertificateTrusted reason when this error fails. */
  readonly reason?: AmtReasonName;
  readonly message: string;
}

export interface CertificateSummary {
  readonly source: 'pem' | 'pfx';
  /** Leaf subject, one line ("O=Contoso, CN=rcs.contoso.com"). */
  readonly subject?: string;
  /** The leaf's DNS name used as the certificate's suffix: CN, else the first DNS SAN, without "*.". */
  readonly domain?: string;
  /** Every DNS name of the leaf (CN and SANs, lowercase, "*." stripped). */
  readonly names: readonly string[];
  /** The chain leaf to root (rebuilt when the input was out of order); empty when unreadable. */
  readonly chain: readonly ChainEntry[];
  /** Fingerprints of the self-signed root ending the chain, colon-separated uppercase hex. */
  readonly rootSha256?: string;
  readonly rootSha1?: string;
  readonly rootSha384?: string;
  readonly checks: readonly CertificateCheck[];
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** "O=Contoso\nCN=x" (node:crypto's form) -> attribute pairs. */
function nameAttributes(name: string): [string, string][] {
  return name.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]);
}
const oneLine = (name: string): string => nameAttributes(name).map(([k, v]) => `${k}=${v}`).join(', ');
const colonHex = (buf: Buffer): string => buf.toString('hex').toUpperCase().replace(/(..)(?!$)/g, '$1:');

function algorithmOf(cert: X509Certificate): { readonly name: string; readonly sha2: boolean } {
  const sig = signatureAlgorithm(new Uint8Array(cert.raw));
  if (typeof sig === 'string') return { name: `unreadable (${sig})`, sha2: false };
  if (sig.oid === RSASSA_PSS) {
    const hash = PSS_HASHES[sig.hashOid ?? ''];
    return { name: `RSASSA-PSS with ${hash?.name ?? sig.hashOid ?? '?'}`, sha2: hash?.sha2 ?? false };
  }
  return SIGNATURE_ALGORITHMS[sig.oid] ?? { name: sig.oid, sha2: false };
}

const issuedBy = (child: X509Certificate, parent: X509Certificate): boolean => {
  try {
    return child.checkIssued(parent) && child.verify(parent.publicKey);
  } catch {
    return false;
  }
};
const DNS_LIKE = /^(\*\.)?([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function leafNames(leaf: X509Certificate): string[] {
  const cn = nameAttributes(leaf.subject).filter(([k]) => k === 'CN').map(([, v]) => v.toLowerCase());
  const sans = (leaf.subjectAltName ?? '').split(/,\s*/).filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4).toLowerCase());
  const names = [...cn, ...sans].filter((n) => DNS_LIKE.test(n)).map((n) => n.replace(/^\*\./, ''));
  return [...new Set(names)];
}

interface Ordered { readonly chain: X509Certificate[]; readonly problem?: string; readonly reason?: AmtReasonName }

/** The chain from the leaf up: input order when it is right, else rebuilt, with what was wrong. */
function orderChain(certs: X509Certificate[], source: 'pem' | 'pfx'): Ordered {
  const selfSigned = (c: X509Certificate) => issuedBy(c, c);
  const inOrder = certs.every((c, i) => i === certs.length - 1 ? selfSigned(c) : issuedBy(c, certs[i + 1] as X509Certificate));
  if (inOrder) return { chain: certs };
  // The leaf issues nothing else in the set; walk up from it by issuer.
  const leaf = certs.find((c) => !certs.some((o) => o !== c && issuedBy(o, c))) ?? (certs[0] as X509Certificate);
  const chain = [leaf];
  for (let c = leaf; !selfSigned(c);) {
    const parent = certs.find((p) => p !== c && !chain.includes(p) && issuedBy(c, p));
    if (parent === undefined) {
      return { chain, reason: AmtReason.ChainIncomplete, problem: `the chain is incomplete: ${oneLine(c.subject)} was issued by ${oneLine(c.issuer)}, which is not in it; add every intermediate and the root` };
    }
    chain.push(parent);
    c = parent;
  }
  const stray = certs.filter((c) => !chain.includes(c));
  if (stray.length > 0) return { chain, reason: AmtReason.ChainIncomplete, problem: `${stray.map((c) => oneLine(c.subject)).join('; ')} is not part of the leaf's chain; remove it` };
  if (source === 'pfx') return { chain };
  return { chain, reason: AmtReason.ChainUnordered, problem: `the chain is complete but out of order: put the leaf first and each issuer after the certificate it signed (${chain.map((c) => oneLine(c.subject)).join(' -> ')})` };
}

/**
 * Analyses a PEM chain (leaf first; other PEM blocks such as keys are
 * ignored). `source` pfx accepts any order, since a PKCS#12 file keeps its
 * certificates as a set. `expectedSuffix` is the policy's dnsSuffix, checked
 * against the leaf's names.
 */
export function analyzeCertificate(pem: string, options: { readonly source?: 'pem' | 'pfx'; readonly expectedSuffix?: string | undefined } = {}): CertificateSummary {
  const source = options.source ?? 'pem';
  const certs: X509Certificate[] = [];
  for (const block of pem.match(PEM_CERT) ?? []) {
    try {
      certs.push(new X509Certificate(block));
    } catch (err) {
      return unreadable(source, `certificate ${certs.length + 1} does not parse: ${(err as Error).message}`);
    }
  }
  if (certs.length === 0) return unreadable(source, 'no PEM CERTIFICATE block found');
  const ordered = orderChain(certs, source);
  const chain = ordered.chain;
  const leaf = chain[0] as X509Certificate;
  const top = chain[chain.length - 1] as X509Certificate;
  const entries = chain.map((c): ChainEntry => {
    const alg = algorithmOf(c);
    return { subject: oneLine(c.subject), issuer: oneLine(c.issuer), signatureAlgorithm: alg.name, sha2: alg.sha2, selfSigned: issuedBy(c, c), notBefore: c.validFromDate, notAfter: c.validToDate };
  });
  const names = leafNames(leaf);
  const eku = leaf.keyUsage ?? [];
  const ous = nameAttributes(leaf.subject).filter(([k]) => k === 'OU').map(([, v]) => v);
  const checks: CertificateCheck[] = [{ id: 'readable', ok: true, severity: 'error', message: `${certs.length} certificate(s) read` }];
  checks.push(ordered.reason === undefined
    ? { id: 'chain', ok: true, severity: 'error', message: `chain complete: ${entries.map((e) => e.subject).join(' -> ')}` }
    : { id: 'chain', ok: false, severity: 'error', reason: ordered.reason, message: ordered.problem ?? '' });
  const signed = entries.filter((e) => !e.selfSigned);
  const weak = signed.filter((e) => !e.sha2);
  checks.push(weak.length === 0
    ? { id: 'sha2', ok: true, severity: 'error', message: 'every certificate is signed with SHA-2' }
    : { id: 'sha2', ok: false, severity: 'error', reason: AmtReason.NotSha2, message: `not signed with SHA-2: ${weak.map((e) => `${e.subject} (${e.signatureAlgorithm})`).join('; ')}; AMT requires SHA-2 throughout` });
  const root = entries.find((e) => e.selfSigned);
  if (root !== undefined && !root.sha2) {
    // Roots are trusted by hash, never by their self-signature, so this only informs.
    checks.push({ id: 'root-signature', ok: false, severity: 'warning', message: `the root ${root.subject} signs itself with ${root.signatureAlgorithm}; AMT trusts roots by hash, so only its signatures on other certificates matter` });
  }
  const usage = eku.includes(INTEL_SETUP_OID) ? `EKU ${INTEL_SETUP_OID}` : ous.includes(INTEL_SETUP_OU) ? `OU "${INTEL_SETUP_OU}"` : undefined;
  checks.push(usage !== undefined
    ? { id: 'intel-usage', ok: true, severity: 'error', message: `the leaf carries ${usage}` }
    : { id: 'intel-usage', ok: false, severity: 'error', reason: AmtReason.MissingIntelUsage, message: `the leaf has neither OID ${INTEL_SETUP_OID} in its extended key usage nor OU "${INTEL_SETUP_OU}"` });
  if (eku.length > 0 && !eku.includes(SERVER_AUTH_OID)) {
    checks.push({ id: 'server-auth', ok: false, severity: 'warning', message: `the leaf's extended key usage lacks serverAuth (${SERVER_AUTH_OID}), which Intel's provisioning certificates carry` });
  }
  checks.push(names[0] !== undefined
    ? { id: 'leaf-domain', ok: true, severity: 'error', message: `the leaf is for ${names.join(', ')}` }
    : { id: 'leaf-domain', ok: false, severity: 'error', reason: AmtReason.NoLeafDomain, message: 'the leaf has no DNS name in its CN or subjectAltName to compare with AMT\'s DNS suffix' });
  if (options.expectedSuffix !== undefined && names.length > 0) {
    const want = normalizeSuffix(options.expectedSuffix);
    const covered = names.some((n) => n === want || n.endsWith(`.${want}`));
    checks.push({ id: 'policy-suffix', ok: covered, severity: 'warning',
      message: covered ? `the leaf is under the policy's dnsSuffix ${want}` : `the leaf (${names.join(', ')}) is not under the policy's dnsSuffix ${want}; the leaf's name is what AMT compares` });
  }
  const rootFingerprints = issuedBy(top, top)
    ? { rootSha256: top.fingerprint256, rootSha1: top.fingerprint, rootSha384: colonHex(createHash('sha384').update(top.raw).digest()) }
    : {};
  return {
    source, subject: oneLine(leaf.subject), ...(names[0] === undefined ? {} : { domain: names[0] }), names, chain: entries, ...rootFingerprints, checks,
  };
}

function unreadable(source: 'pem' | 'pfx', why: string): CertificateSummary {
  return { source, names: [], chain: [], checks: [{ id: 'readable', ok: false, severity: 'error', reason: AmtReason.CertificateUnreadable, message: `the provisioning certificate is unreadable: ${why}` }] };
}

/** Hex fingerprints compare equal whatever their case, colons or spaces. */
export function sameFingerprint(a: string, b: string): boolean {
  const n = (s: string) => s.replace(/[^0-9a-f]/gi, '').toLowerCase();
  return n(a) !== '' && n(a) === n(b);
}

/** AmtCertificateTrusted, as a verdict. */
export interface CertificateTrust {
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: AmtReasonName;
  readonly message: string;
}

/**
 * The certificate's trust at `now`: every error check, each certificate's
 * validity, and, when the machine reported the root hashes it trusts (a
 * Hello), whether the chain's root is among them. Several problems are all
 * named; the reason is the first in chain, SHA-2, usage, name, time, root order.
 */
export function certificateTrust(summary: CertificateSummary | undefined, now: Date, machineRootHashes?: readonly string[] | 'policy'): CertificateTrust {
  if (summary === undefined) return { status: 'Unknown', reason: AmtReason.NoCertificate, message: 'no provisioning certificate to check: set the policy\'s certificate' };
  const problems: { reason: AmtReasonName; message: string }[] = summary.checks
    .filter((c) => !c.ok && c.severity === 'error')
    .map((c) => ({ reason: c.reason ?? AmtReason.CertificateUnreadable, message: c.message }));
  const t = now.getTime();
  for (const e of summary.chain) {
    if (e.notAfter.getTime() <= t) problems.push({ reason: AmtReason.CertificateExpired, message: `${e.subject} expired at ${rfc3339(e.notAfter)}` });
    else if (e.notBefore.getTime() > t) problems.push({ reason: AmtReason.CertificateNotYetValid, message: `${e.subject} is not valid before ${rfc3339(e.notBefore)}` });
  }
  // 'policy': judged for an AmtNetworkPolicy, where no machine's hashes apply.
  const hashes = machineRootHashes === undefined || machineRootHashes === 'policy' ? [] : machineRootHashes;
  const rootHashes = [summary.rootSha256, summary.rootSha1, summary.rootSha384].filter((h): h is string => h !== undefined);
  if (hashes.length > 0 && rootHashes.length > 0 && !hashes.some((h) => rootHashes.some((r) => sameFingerprint(h, r)))) {
    problems.push({ reason: AmtReason.RootNotTrusted, message: `the machine's trusted root hashes do not include this chain's root (SHA-256 ${summary.rootSha256 ?? '?'}): add the root's hash in MEBx or use a certificate from a CA AMT trusts` });
  }
  const first = problems[0];
  if (first !== undefined) return { status: 'False', reason: first.reason, message: problems.map((p) => p.message).join('; ') };
  const leaf = summary.chain[0];
  const rootNote = machineRootHashes === 'policy' ? '' : hashes.length > 0 ? '; its root is among the hashes the machine reported' : '; the machine has not reported its trusted root hashes yet';
  return { status: 'True', reason: AmtReason.CertificateTrusted,
    message: `${leaf?.subject ?? 'the leaf'} passes Intel's checks, valid until ${leaf === undefined ? '?' : rfc3339(leaf.notAfter)}${rootNote}` };
}

/** Instants at which some certificate of the chain becomes valid or expires. */
export function certificateTransitions(summary: CertificateSummary | undefined): Date[] {
  return (summary?.chain ?? []).flatMap((e) => [e.notBefore, e.notAfter]);
}

/** The AmtNetworkPolicy status.certificate block. */
export function policyCertificateStatus(summary: CertificateSummary): { subject?: string; domain?: string; notAfter?: string; rootSha256?: string; rootSha1?: string } {
  const leaf = summary.chain[0];
  return {
    ...(summary.subject === undefined ? {} : { subject: summary.subject.slice(0, 1024) }),
    ...(summary.domain === undefined ? {} : { domain: summary.domain }),
    ...(leaf === undefined ? {} : { notAfter: rfc3339(leaf.notAfter) }),
    ...(summary.rootSha256 === undefined ? {} : { rootSha256: summary.rootSha256 }),
    ...(summary.rootSha1 === undefined ? {} : { rootSha1: summary.rootSha1 }),
  };
}
