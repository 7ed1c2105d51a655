/**
 * One machine's AMT readiness from its facts, its policy, the analysed
 * certificate and `now`: the BootMachine status.amt block, the four AMT
 * conditions, the remediation, the lease the agent may shorten, and the next
 * instant any of it flips (the controller requeues there). Pure: the same
 * inputs give the same output, so a restarted controller agrees with itself.
 */
import type { AmtNetworkPolicy } from '../api/v1alpha1/amtnetworkpolicy.ts';
import type { AmtMachineStatus, SuffixSource } from '../api/v1alpha1/amtstatus.ts';
import type { DesiredCondition } from '../api/v1alpha1/conditions.ts';
import { certificateTransitions, certificateTrust, policyCertificateStatus } from './certificate.ts';
import type { CertificateSummary, CertificateTrust } from './certificate.ts';
import { resolveAmtSuffix, resolveFirmware } from './facts.ts';
import type { AmtSuffixFacts, AmtVersionFacts, ResolvedSuffix, VersionSource } from './facts.ts';
import { evaluateNetworkRules } from './network.ts';
import type { AmtNetworkObservation, RuleVerdict } from './network.ts';
import { AmtConditionType, AmtReason } from './reasons.ts';
import { remediation, shortLeaseSeconds } from './remediation.ts';
import type { AmtNetworkContext } from './remediation.ts';
import { matchSuffix, normalizeSuffix } from './suffix.ts';
import type { SuffixMatch } from './suffix.ts';
import { rfc3339 } from './time.ts';
import { DEFAULT_WINDOW_HOURS, nextTransition as windowTransition, provisioningWindow, windowWasOpen } from './window.ts';
import type { ProvisioningWindow, WindowFacts } from './window.ts';

/** Everything known of one machine's AMT, gathered by the controller from spec, agents' observations and probes. */
export interface AmtMachineFacts {
  readonly version?: AmtVersionFacts | undefined;
  /** From the RMCP presence pong. */
  readonly provisioningState?: 'pre' | 'in' | 'post' | 'unknown' | undefined;
  readonly suffix?: AmtSuffixFacts | undefined;
  /** ICMP TTL heuristic (probe/ttl.ts classifyTtl: its verdict amt is amt-only here). */
  readonly osAnswering?: 'os' | 'amt-only' | 'unknown' | undefined;
  /** First sighting on the network (keep status.amt.firstSeenAt once set). */
  readonly firstSeen?: Date | undefined;
  /** Provisioning attempts (Hello messages): how many, the last, and the root hashes the machine trusts. */
  readonly attempts?: { readonly count: number; readonly last?: Date | undefined; readonly rootHashes?: readonly string[] | undefined } | undefined;
  /** The BootNetwork the machine was seen on. */
  readonly network?: AmtNetworkContext | undefined;
  /** Networking seen by agents; the resolved version is added as its firmware. */
  readonly observed?: AmtNetworkObservation | undefined;
}

/** The policy that applies to the machine (via its MachineClass). */
export interface AmtPolicyInput {
  readonly name: string;
  readonly spec: AmtNetworkPolicy['spec'];
}

export interface AmtEvaluation {
  /** BootMachine status.amt. */
  readonly status: AmtMachineStatus;
  /** AmtNetworkConfigValid, AmtDnsSuffixMatched, AmtProvisioningWindowOpen, AmtCertificateTrusted, in that order. */
  readonly conditions: readonly DesiredCondition[];
  readonly rules: readonly RuleVerdict[];
  readonly suffix: SuffixMatch;
  readonly resolvedSuffix: ResolvedSuffix;
  readonly window: ProvisioningWindow;
  readonly certificate: CertificateTrust;
  /** In mode dhcp with spec.remediation.shortenLease: the lease the agent hands this machine. */
  readonly shortLeaseSeconds?: number;
  /** The first instant after `now` at which a condition or status field flips; requeue there. */
  readonly nextTransition?: Date;
}

const SOURCE_WORDS: Record<SuffixSource, string> = {
  spec: 'spec.amt.dnsSuffix (MEBx)',
  'served-option15': 'the option 15 we served',
  'site-dhcp-option15': 'option 15 from the site DHCP server',
  hello: 'a Hello report',
};

/** The certificate suffix: the policy's dnsSuffix when the leaf lies under it (or no leaf was read), else the leaf's name. */
export function certificateSuffix(policySuffix: string | undefined, summary: CertificateSummary | undefined): string | undefined {
  if (summary?.domain === undefined) return policySuffix;
  if (policySuffix === undefined) return summary.domain;
  const want = normalizeSuffix(policySuffix);
  return summary.names.some((n) => n === want || n.endsWith(`.${want}`)) ? want : summary.domain;
}

/** Evaluates one machine. `policy` undefined: no AmtNetworkPolicy applies; the conditions say so. */
export function evaluateAmt(facts: AmtMachineFacts, policy: AmtPolicyInput | undefined, certificate: CertificateSummary | undefined, now: Date): AmtEvaluation {
  const spec = policy?.spec;
  const version = resolveFirmware(facts.version ?? {});
  const windowFacts: WindowFacts = { firstSeen: facts.firstSeen, lastAttempt: facts.attempts?.last, windowHours: spec?.windowHours ?? DEFAULT_WINDOW_HOURS };
  const window = provisioningWindow(windowFacts, now);
  const resolved = resolveAmtSuffix(facts.suffix ?? {}, (at) => windowWasOpen(windowFacts, at));
  const suffix = matchSuffix({
    amtSuffix: resolved.value,
    certificateSuffix: spec === undefined ? undefined : certificateSuffix(spec.dnsSuffix, certificate),
    firmware: version?.value,
    minimumFirmware: spec?.minimumFirmware,
    policyRule: spec?.suffixMatch,
  });
  const observed = version === undefined ? facts.observed : { ...facts.observed, firmware: facts.observed?.firmware ?? version.value };
  const rules = spec === undefined ? [] : evaluateNetworkRules(spec, observed);
  const trust = spec === undefined ? { status: 'Unknown' as const, reason: AmtReason.NoAmtPolicy, message: 'no AmtNetworkPolicy applies to this machine' }
    : certificateTrust(certificate, now, facts.attempts?.rootHashes);
  const provisioned = facts.provisioningState === 'post';
  const fix = spec === undefined || provisioned ? undefined : remediation({
    suffix, source: resolved.source, window, windowHours: windowFacts.windowHours, network: facts.network, policyName: policy?.name,
    shortenLease: { enabled: spec.remediation.shortenLease, seconds: spec.remediation.shortLeaseSeconds }, now,
  });
  const lease = shortLeaseSeconds(spec, facts.network?.mode, suffix, facts.provisioningState);
  const next = [windowTransition(windowFacts, now), ...certificateTransitions(spec === undefined ? undefined : certificate)]
    .filter((d): d is Date => d !== undefined && d.getTime() > now.getTime())
    .sort((a, b) => a.getTime() - b.getTime())[0];
  return {
    status: machineStatus(facts, version, resolved, suffix, window, fix, spec === undefined),
    conditions: [
      networkCondition(policy, rules),
      suffixCondition(policy, suffix, resolved, fix, provisioned),
      windowCondition(window, windowFacts, spec === undefined, now),
      { type: AmtConditionType.CertificateTrusted, ...trust },
    ],
    rules, suffix, resolvedSuffix: resolved, window, certificate: trust,
    ...(lease === undefined ? {} : { shortLeaseSeconds: lease }),
    ...(next === undefined ? {} : { nextTransition: next }),
  };
}

const NO_POLICY_SUFFIX = 'no AmtNetworkPolicy applies to this machine, so there is no certificate suffix to compare';
const clip = (s: string, n = 1024): string => s.length <= n ? s : `${s.slice(0, n - 1)}…`;

function machineStatus(facts: AmtMachineFacts, version: { value: string; source: VersionSource } | undefined, resolved: ResolvedSuffix,
  suffix: SuffixMatch, window: ProvisioningWindow, fix: string | undefined, noPolicy: boolean): AmtMachineStatus {
  const s: Record<string, unknown> = {};
  if (version !== undefined) s['version'] = { value: version.value, source: version.source };
  if (facts.provisioningState !== undefined) s['provisioningState'] = facts.provisioningState;
  if (resolved.value !== undefined && resolved.source !== undefined) s['dnsSuffix'] = { value: resolved.value, source: resolved.source };
  if (resolved.osRequestedDomain !== undefined) s['osRequestedDomain'] = resolved.osRequestedDomain;
  if (suffix.certificateSuffix !== undefined) s['certificateSuffix'] = suffix.certificateSuffix;
  if (suffix.rule !== undefined) s['suffixRule'] = suffix.rule;
  s['suffixMatch'] = suffix.result;
  s['suffixMessage'] = clip([noPolicy ? NO_POLICY_SUFFIX : suffix.message, ...suffix.warnings, ...resolved.notes].join('; '));
  if (fix !== undefined) s['remediation'] = clip(fix);
  if (facts.osAnswering !== undefined) s['osAnswering'] = facts.osAnswering;
  if (facts.firstSeen !== undefined) s['firstSeenAt'] = rfc3339(facts.firstSeen);
  if (facts.attempts?.last !== undefined) s['lastAttemptAt'] = rfc3339(facts.attempts.last);
  if (window.openedAt !== undefined && window.closesAt !== undefined) {
    s['window'] = { openedAt: rfc3339(window.openedAt), ...(window.openedBy === undefined ? {} : { openedBy: window.openedBy }), closesAt: rfc3339(window.closesAt), open: window.open };
  }
  if (window.nextRetryAt !== undefined) s['nextRetryAt'] = rfc3339(window.nextRetryAt);
  if (facts.attempts !== undefined) s['attempts'] = facts.attempts.count;
  return s as AmtMachineStatus;
}

function networkCondition(policy: AmtPolicyInput | undefined, rules: readonly RuleVerdict[]): DesiredCondition {
  const type = AmtConditionType.NetworkConfigValid;
  if (policy === undefined) return { type, status: 'Unknown', reason: AmtReason.NoAmtPolicy, message: 'no AmtNetworkPolicy applies to this machine' };
  const broken = rules.filter((r) => !r.holds && r.severity === 'invalid');
  const intel = broken.filter((r) => r.kind === 'intel');
  if (intel.length > 0) return { type, status: 'False', reason: AmtReason.NetworkRuleViolated, message: broken.map((r) => r.message).join('; ') };
  if (broken.length > 0) return { type, status: 'False', reason: AmtReason.ObservedConfigDiffers, message: `machine differs from AmtNetworkPolicy ${policy.name}: ${broken.map((r) => r.message).join('; ')}` };
  const advice = rules.filter((r) => !r.holds && r.severity === 'advice').map((r) => `advice: ${r.sentence} (AMT rule ${r.id})`);
  const checked = rules.filter((r) => r.kind === 'intel' && r.severity === 'invalid').length;
  return { type, status: 'True', reason: AmtReason.NetworkConfigValid,
    message: [`AmtNetworkPolicy ${policy.name} and what was observed satisfy all ${checked} rules of Intel's AMT IP configuration table`, ...advice].join('; ') };
}

function suffixCondition(policy: AmtPolicyInput | undefined, suffix: SuffixMatch, resolved: ResolvedSuffix, fix: string | undefined, provisioned: boolean): DesiredCondition {
  const type = AmtConditionType.DnsSuffixMatched;
  if (policy === undefined) return { type, status: 'Unknown', reason: AmtReason.NoAmtPolicy, message: NO_POLICY_SUFFIX };
  const status = suffix.result === 'Match' ? 'True' : suffix.result === 'Mismatch' ? 'False' : 'Unknown';
  const parts = [suffix.message];
  if (resolved.source !== undefined) parts.push(`AMT's suffix comes from ${SOURCE_WORDS[resolved.source]}`);
  parts.push(...suffix.warnings, ...resolved.notes);
  if (provisioned) parts.push('AMT is already provisioned, so the check only matters for a re-provisioning');
  if (fix !== undefined) parts.push(`to fix: ${fix}`);
  return { type, status, reason: suffix.reason, message: parts.join('; ') };
}

function windowCondition(window: ProvisioningWindow, facts: WindowFacts, defaulted: boolean, now: Date): DesiredCondition {
  const type = AmtConditionType.ProvisioningWindowOpen;
  const hours = `${facts.windowHours} h${defaulted ? ', the default: no AmtNetworkPolicy applies' : ''}`;
  if (facts.windowHours === 0) {
    return { type, status: 'False', reason: AmtReason.WindowDisabled, message: 'the OEM provisioning window is 0 hours (policy windowHours 0): AMT never takes option 15 from DHCP; set its suffix in MEBx' };
  }
  if (window.openedAt === undefined || window.closesAt === undefined) {
    return { type, status: 'Unknown', reason: AmtReason.NotSeen, message: `no agent has seen the machine and no provisioning attempt was recorded; the window (${hours}) opens when it joins the network` };
  }
  const by = window.openedBy === 'attempt' ? 'a provisioning attempt' : 'its first appearance on the network';
  if (window.open) {
    return { type, status: 'True', reason: AmtReason.WindowOpen, message: `open since ${rfc3339(window.openedAt)} (${by}) until ${rfc3339(window.closesAt)} (${hours}); AMT takes option 15 from a lease renewed in that time` };
  }
  if (!window.expired) {
    return { type, status: 'False', reason: AmtReason.WindowClosed, message: `opens at ${rfc3339(window.openedAt)} (${by}), a time later than now: check the agents' clocks` };
  }
  const retry = window.nextRetryAt;
  const then = retry === undefined ? 'the next provisioning attempt reopens it'
    : retry.getTime() > now.getTime() ? `the next in-band attempt, due ${rfc3339(retry)}, reopens it for ${facts.windowHours} h`
      : `the in-band retry due ${rfc3339(retry)} has not been seen; the next provisioning attempt reopens it`;
  return { type, status: 'False', reason: AmtReason.WindowClosed, message: `closed at ${rfc3339(window.closesAt)} (opened ${rfc3339(window.openedAt)} by ${by}); ${then}` };
}

/** AmtNetworkPolicy status content: the certificate summary and the machine counts. */
export interface AmtPolicyCounts {
  readonly matched: number;
  readonly suffixOk: number;
  readonly windowOpen: number;
  readonly windowExpired: number;
}

/** Counts over the evaluations of the machines a policy applies to. */
export function countMachines(machines: readonly AmtEvaluation[]): AmtPolicyCounts {
  return {
    matched: machines.length,
    suffixOk: machines.filter((m) => m.suffix.result === 'Match').length,
    windowOpen: machines.filter((m) => m.window.open).length,
    windowExpired: machines.filter((m) => m.window.expired).length,
  };
}

/** The AmtNetworkPolicy status.certificate and status.machines blocks (the controller adds conditions). */
export function amtPolicyStatus(certificate: CertificateSummary | undefined, machines: readonly AmtEvaluation[]): Pick<NonNullable<AmtNetworkPolicy['status']>, 'certificate' | 'machines'> {
  return { ...(certificate === undefined ? {} : { certificate: policyCertificateStatus(certificate) }), machines: countMachines(machines) };
}
