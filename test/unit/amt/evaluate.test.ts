/**
 * evaluateAmt end to end on a fixed clock, with seed 004's scenario: a new
 * machine learns the wrong DNS suffix from DHCP in its first day, the fix
 * arrives after the window closed, a provisioning attempt reopens it, a
 * lease renewal inside it corrects AMT.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AmtNetworkPolicySpec, AmtNetworkPolicyStatus } from '../../../src/api/v1alpha1/amtnetworkpolicy.ts';
import { AmtMachineStatus } from '../../../src/api/v1alpha1/amtstatus.ts';
import { setConditions } from '../../../src/api/v1alpha1/conditions.ts';
import { amtPolicyStatus, countMachines, evaluateAmt } from '../../../src/amt/evaluate.ts';
import type { AmtEvaluation, AmtMachineFacts, AmtPolicyInput } from '../../../src/amt/evaluate.ts';
import type { CertificateSummary } from '../../../src/amt/certificate.ts';
import { AmtConditionType, AmtReason } from '../../../src/amt/reasons.ts';

const T0 = Date.UTC(2026, 10, 23, 10, 0, 0);
const at = (h: number) => new Date(T0 + h * 3_600_000);

const policy = (over: Record<string, unknown> = {}, name = 'vpro-desktops'): AmtPolicyInput => ({
  name,
  spec: AmtNetworkPolicySpec.parse({ minimumFirmware: '11.8', dnsSuffix: 'contoso.com', certificate: { pem: { name: 'amt-cert', key: 'tls.crt' } }, ...over }),
});

/** A certificate summary as analyzeCertificate returns it (the real analysis is tested in certificate.test.ts). */
const cert = (over: Partial<CertificateSummary> = {}): CertificateSummary => ({
  source: 'pem', subject: 'O=Contoso, CN=rcs.contoso.com', domain: 'rcs.contoso.com', names: ['rcs.contoso.com'],
  chain: [
    { subject: 'O=Contoso, CN=rcs.contoso.com', issuer: 'CN=Root', signatureAlgorithm: 'ecdsa-with-SHA256', sha2: true, selfSigned: false, notBefore: at(-1000), notAfter: at(2000) },
    { subject: 'CN=Root', issuer: 'CN=Root', signatureAlgorithm: 'ecdsa-with-SHA256', sha2: true, selfSigned: true, notBefore: at(-1000), notAfter: at(90000) },
  ],
  rootSha256: 'AA:BB', rootSha1: 'CC:DD', checks: [{ id: 'readable', ok: true, severity: 'error', message: 'ok' }], ...over,
});

const lab = { name: 'lab', mode: 'dhcp' as const, domainName: 'corp.fabrikam.com', leaseSeconds: 86400 };
const cond = (e: AmtEvaluation, type: string) => e.conditions.find((c) => c.type === type);
const brief = (e: AmtEvaluation) => Object.fromEntries(e.conditions.map((c) => [c.type, `${c.status}/${c.reason}`]));

test('seed 004, step by step on a fixed clock', () => {
  const base: AmtMachineFacts = {
    version: { httpServerHeader: '11.8.50' }, provisioningState: 'pre', firstSeen: at(0), network: lab,
    observed: { hostDhcp: true, hostAddress: '10.0.0.5', amtAddress: '10.0.0.5' },
    suffix: { servedOption15: [{ value: 'corp.fabrikam.com', at: at(0) }], osRequestedDomain: 'corp.fabrikam.com' },
  };
  // Day 1: DHCP hands out the wrong domain while AMT's interface is open.
  const day1 = evaluateAmt(base, policy(), cert(), at(1));
  assert.deepEqual(brief(day1), {
    AmtNetworkConfigValid: 'True/NetworkConfigValid', AmtDnsSuffixMatched: 'False/SuffixMismatch',
    AmtProvisioningWindowOpen: 'True/WindowOpen', AmtCertificateTrusted: 'True/CertificateTrusted',
  });
  assert.equal(day1.status.remediation, 'set option 15 on BootNetwork lab to contoso.com, then renew the lease before 2026-11-24T10:00Z (ipconfig /renew or dhclient).'
    + ' Use a short lease (for example 300 s; now 86400 s) so the machine picks up the corrected suffix sooner, or set spec.remediation.shortenLease on AmtNetworkPolicy vpro-desktops to shorten it for mismatched machines only.');
  assert.equal(day1.nextTransition?.toISOString(), '2026-11-24T10:00:00.000Z', 'requeue when the window closes');
  assert.deepEqual(day1.status, {
    version: { value: '11.8.50', source: 'http-server-header' }, provisioningState: 'pre',
    dnsSuffix: { value: 'corp.fabrikam.com', source: 'served-option15' }, osRequestedDomain: 'corp.fabrikam.com',
    certificateSuffix: 'contoso.com', suffixRule: 'last-two-labels', suffixMatch: 'Mismatch',
    suffixMessage: 'AMT suffix corp.fabrikam.com does not match certificate suffix contoso.com: fabrikam.com differs from contoso.com (last-two-labels rule, AMT 11.8.50)',
    remediation: day1.status.remediation, firstSeenAt: '2026-11-23T10:00:00Z',
    window: { openedAt: '2026-11-23T10:00:00Z', openedBy: 'first-seen', closesAt: '2026-11-24T10:00:00Z', open: true },
  });
  assert.ok(AmtMachineStatus.safeParse(day1.status).success, 'status.amt validates against the CRD schema');
  assert.match(cond(day1, AmtConditionType.DnsSuffixMatched)?.message ?? '', /AMT's suffix comes from the option 15 we served; to fix: set option 15 on BootNetwork lab/);

  // +30 h: the window closed at 24 h (a restarted controller computes the same from the facts).
  const closed = evaluateAmt(base, policy(), cert(), at(30));
  assert.equal(cond(closed, AmtConditionType.ProvisioningWindowOpen)?.reason, AmtReason.WindowClosed);
  assert.equal(closed.status.window?.open, false);
  assert.equal(closed.nextTransition?.toISOString(), at(2000).toISOString(), 'nothing in the window is pending; the next flip is the leaf expiring');

  // +36 h: option 15 fixed on the network, the OS renews: AMT's window is closed, so AMT keeps the old suffix.
  const fixedNet = { ...lab, domainName: 'contoso.com' };
  const renewedLate: AmtMachineFacts = { ...base, network: fixedNet, suffix: { ...base.suffix, servedOption15: [{ value: 'corp.fabrikam.com', at: at(0) }, { value: 'contoso.com', at: at(36) }] } };
  const late = evaluateAmt(renewedLate, policy(), cert(), at(37));
  assert.equal(late.status.dnsSuffix?.value, 'corp.fabrikam.com');
  assert.match(late.status.suffixMessage ?? '', /option 15 contoso\.com we served at 2026-11-24T22:00:00Z did not reach AMT: its provisioning window was closed/);
  assert.match(late.status.remediation ?? '', /^option 15 on BootNetwork lab is already contoso\.com; AMT's window closed at 2026-11-24T10:00Z: start a provisioning attempt/);

  // +40 h: a provisioning attempt (Hello) fails and reopens the window for 24 h; the in-band retry is due at +64 h.
  const attempted: AmtMachineFacts = { ...renewedLate, attempts: { count: 1, last: at(40) } };
  const reopened = evaluateAmt(attempted, policy(), cert(), at(41));
  assert.equal(cond(reopened, AmtConditionType.ProvisioningWindowOpen)?.status, 'True');
  assert.deepEqual(reopened.status.window, { openedAt: '2026-11-25T02:00:00Z', openedBy: 'attempt', closesAt: '2026-11-26T02:00:00Z', open: true });
  assert.equal(reopened.status.nextRetryAt, '2026-11-26T02:00:00Z');
  assert.equal(reopened.status.lastAttemptAt, '2026-11-25T02:00:00Z');
  assert.equal(reopened.status.attempts, 1);
  assert.match(reopened.status.remediation ?? '', /^option 15 on BootNetwork lab is already contoso\.com: renew the lease before 2026-11-26T02:00Z/);
  assert.equal(reopened.nextTransition?.toISOString(), '2026-11-26T02:00:00.000Z');

  // +42 h: the lease renewed inside the reopened window carries contoso.com: AMT takes it.
  const renewed: AmtMachineFacts = { ...attempted, suffix: { ...attempted.suffix, servedOption15: [...(renewedLate.suffix?.servedOption15 ?? []), { value: 'contoso.com', at: at(42) }] } };
  const ok = evaluateAmt(renewed, policy(), cert(), at(43));
  assert.equal(cond(ok, AmtConditionType.DnsSuffixMatched)?.status, 'True');
  assert.equal(ok.status.suffixMessage, 'AMT suffix contoso.com matches certificate suffix contoso.com on contoso.com (last-two-labels rule, AMT 11.8.50)');
  assert.equal(ok.status.remediation, undefined);
});

test('conditions go through setConditions with stable transition times', () => {
  const facts: AmtMachineFacts = { firstSeen: at(0), suffix: { spec: 'contoso.com' } };
  const open = evaluateAmt(facts, policy(), cert(), at(1));
  const c1 = setConditions(undefined, open.conditions, 1, at(1));
  const closed = evaluateAmt(facts, policy(), cert(), at(24));
  const c2 = setConditions(c1, closed.conditions, 1, at(24));
  const w = c2.find((c) => c.type === AmtConditionType.ProvisioningWindowOpen);
  assert.equal(w?.status, 'False');
  assert.equal(w?.lastTransitionTime, '2026-11-24T10:00:00Z', 'flips exactly at closesAt');
  assert.equal(c2.find((c) => c.type === AmtConditionType.DnsSuffixMatched)?.lastTransitionTime, '2026-11-23T11:00:00Z');
});

test('remediation by where the suffix came from and by network mode', () => {
  const mismatch = { version: { spec: '11.8' }, firstSeen: at(0) };
  const proxy = evaluateAmt({ ...mismatch, network: { name: 'office', mode: 'proxy' }, suffix: { siteOption15: [{ value: 'fabrikam.com', at: at(0) }] } }, policy(), cert(), at(2));
  assert.equal(proxy.status.remediation, 'set option 15 (domain name) to contoso.com on the site DHCP server of BootNetwork office, then renew the lease before 2026-11-24T10:00Z (ipconfig /renew or dhclient).'
    + ' Use a short lease time on the site DHCP server for these machines so they pick up the corrected suffix sooner.');
  assert.equal(proxy.shortLeaseSeconds, undefined, 'only a dhcp-mode agent hands out leases');

  const mebx = evaluateAmt({ ...mismatch, network: lab, suffix: { spec: 'fabrikam.com' } }, policy(), cert(), at(2));
  assert.match(mebx.status.remediation ?? '', /was set in MEBx \(spec\.amt\.dnsSuffix\): change the PKI DNS suffix in MEBx to contoso\.com/);

  const shorten = evaluateAmt({ ...mismatch, network: lab, suffix: { servedOption15: [{ value: '' }] } }, policy({ remediation: { shortenLease: true, shortLeaseSeconds: 120 } }), cert(), at(2));
  assert.equal(cond(shorten, AmtConditionType.DnsSuffixMatched)?.reason, AmtReason.SuffixBlank);
  assert.equal(shorten.shortLeaseSeconds, 120);
  assert.match(shorten.status.remediation ?? '', /The agent hands this machine a 120 s lease until its suffix matches\.$/);

  const zero = evaluateAmt({ ...mismatch, network: lab, suffix: { servedOption15: [{ value: 'fabrikam.com' }] } }, policy({ windowHours: 0 }), cert(), at(2));
  assert.equal(cond(zero, AmtConditionType.ProvisioningWindowOpen)?.reason, AmtReason.WindowDisabled);
  assert.match(zero.status.remediation ?? '', /window is 0 hours .* set the PKI DNS suffix in MEBx to contoso\.com/);

  const provisioned = evaluateAmt({ ...mismatch, provisioningState: 'post', network: lab, suffix: { servedOption15: [{ value: 'fabrikam.com' }] } }, policy({ remediation: { shortenLease: true, shortLeaseSeconds: 120 } }), cert(), at(2));
  assert.equal(provisioned.status.remediation, undefined);
  assert.equal(provisioned.shortLeaseSeconds, undefined);
  assert.match(cond(provisioned, AmtConditionType.DnsSuffixMatched)?.message ?? '', /already provisioned/);
});

test('the six-hour OEM window: the deadline follows windowHours', () => {
  const e = evaluateAmt({ version: { spec: '11.8' }, firstSeen: at(0), network: lab, suffix: { servedOption15: [{ value: 'fabrikam.com', at: at(0) }] } }, policy({ windowHours: 6 }), cert(), at(1));
  assert.match(e.status.remediation ?? '', /renew the lease before 2026-11-23T16:00Z/);
  assert.equal(e.nextTransition?.toISOString(), '2026-11-23T16:00:00.000Z');
  // An attempt at +30 h reopened it until +36 h; at +40 h it is closed and the in-band retry at +54 h is the next chance.
  const later = evaluateAmt({ version: { spec: '11.8' }, firstSeen: at(0), attempts: { count: 1, last: at(30) }, network: lab, suffix: { servedOption15: [{ value: 'fabrikam.com', at: at(0) }] } },
    policy({ windowHours: 6 }), cert(), at(40));
  assert.match(later.status.remediation ?? '', /^set option 15 on BootNetwork lab to contoso\.com; AMT's window closed at 2026-11-24T22:00Z: the next in-band attempt, due 2026-11-25T16:00Z, reopens it until 2026-11-25T22:00Z; renew the lease in that time/);
  assert.match(cond(later, AmtConditionType.ProvisioningWindowOpen)?.message ?? '', /the next in-band attempt, due 2026-11-25T16:00:00Z, reopens it for 6 h/);
  assert.equal(later.nextTransition?.toISOString(), '2026-11-25T16:00:00.000Z');
});

test('network rules, certificate and root hashes feed their conditions', () => {
  const staticHost = evaluateAmt({ firstSeen: at(0), observed: { hostDhcp: false, hostAddress: '10.0.0.5' } }, policy(), cert(), at(1));
  const n = cond(staticHost, AmtConditionType.NetworkConfigValid);
  assert.equal(n?.status, 'False');
  assert.equal(n?.reason, AmtReason.NetworkRuleViolated);
  assert.match(n?.message ?? '', /static host IP with DHCP AMT is invalid \(AMT rule static-host-dhcp-amt\); observed: host static/);
  const older = evaluateAmt({ version: { rmcp: '9.5' } }, policy(), cert(), at(1));
  assert.equal(cond(older, AmtConditionType.NetworkConfigValid)?.reason, AmtReason.ObservedConfigDiffers);
  assert.match(cond(older, AmtConditionType.NetworkConfigValid)?.message ?? '', /the machine runs AMT 9\.5 \(rule observed-minimum-firmware\)/);

  const untrusted = evaluateAmt({ attempts: { count: 3, last: at(0), rootHashes: ['ee'.repeat(32)] } }, policy(), cert(), at(1));
  assert.equal(cond(untrusted, AmtConditionType.CertificateTrusted)?.reason, AmtReason.RootNotTrusted);
  assert.equal(cond(evaluateAmt({ attempts: { count: 3, last: at(0), rootHashes: ['aabb'] } }, policy(), cert(), at(1)), AmtConditionType.CertificateTrusted)?.status, 'True');
  const noCert = evaluateAmt({}, policy(), undefined, at(1));
  assert.equal(cond(noCert, AmtConditionType.CertificateTrusted)?.reason, AmtReason.NoCertificate);
  assert.equal(noCert.status.certificateSuffix, 'contoso.com', 'the policy\'s dnsSuffix stands in for an unread certificate');
  // The leaf expiring is a transition too.
  const expiring = evaluateAmt({}, policy(), cert(), at(1990));
  assert.equal(expiring.nextTransition?.toISOString(), at(2000).toISOString());
  assert.equal(cond(evaluateAmt({}, policy(), cert(), at(2000)), AmtConditionType.CertificateTrusted)?.reason, AmtReason.CertificateExpired);
});

test('the certificate suffix is the policy\'s when the leaf lies under it, else the leaf\'s own name', () => {
  const f: AmtMachineFacts = { version: { spec: '2.6' }, suffix: { spec: 'sales.contoso.com' } };
  assert.equal(evaluateAmt(f, policy({ dnsSuffix: 'sales.contoso.com' }), cert({ domain: 'rcs.sales.contoso.com', names: ['rcs.sales.contoso.com'] }), at(1)).suffix.result, 'Match');
  const elsewhere = evaluateAmt(f, policy({ dnsSuffix: 'sales.contoso.com' }), cert({ domain: 'rcs.fabrikam.com', names: ['rcs.fabrikam.com'] }), at(1));
  assert.equal(elsewhere.status.certificateSuffix, 'rcs.fabrikam.com');
  assert.equal(elsewhere.suffix.result, 'Mismatch');
});

test('without a policy every condition says so; machines are counted for the policy status', () => {
  const none = evaluateAmt({ firstSeen: at(0), suffix: { spec: 'contoso.com' } }, undefined, undefined, at(1));
  assert.deepEqual(brief(none), {
    AmtNetworkConfigValid: 'Unknown/NoAmtPolicy', AmtDnsSuffixMatched: 'Unknown/NoAmtPolicy',
    AmtProvisioningWindowOpen: 'True/WindowOpen', AmtCertificateTrusted: 'Unknown/NoAmtPolicy',
  });
  assert.match(cond(none, AmtConditionType.ProvisioningWindowOpen)?.message ?? '', /24 h, the default: no AmtNetworkPolicy applies/);
  assert.equal(none.status.suffixMessage, 'no AmtNetworkPolicy applies to this machine, so there is no certificate suffix to compare');
  assert.deepEqual(none.status.dnsSuffix, { value: 'contoso.com', source: 'spec' }, 'the facts are still recorded');
  const unseen = evaluateAmt({}, policy(), cert(), at(1));
  assert.equal(cond(unseen, AmtConditionType.ProvisioningWindowOpen)?.reason, AmtReason.NotSeen);

  const machines = [
    evaluateAmt({ firstSeen: at(0), suffix: { spec: 'contoso.com' } }, policy(), cert(), at(1)), // ok, open
    evaluateAmt({ firstSeen: at(0), suffix: { spec: 'fabrikam.com' } }, policy(), cert(), at(1)), // mismatch, open
    evaluateAmt({ firstSeen: at(-30), suffix: { spec: 'contoso.com' } }, policy(), cert(), at(1)), // ok, expired
    unseen,
  ];
  assert.deepEqual(countMachines(machines), { matched: 4, suffixOk: 2, windowOpen: 2, windowExpired: 1 });
  const status = amtPolicyStatus(cert(), machines);
  assert.deepEqual(status, {
    certificate: { subject: 'O=Contoso, CN=rcs.contoso.com', domain: 'rcs.contoso.com', notAfter: '2027-02-14T18:00:00Z', rootSha256: 'AA:BB', rootSha1: 'CC:DD' },
    machines: { matched: 4, suffixOk: 2, windowOpen: 2, windowExpired: 1 },
  });
  assert.ok(AmtNetworkPolicyStatus.safeParse(status).success);
});
