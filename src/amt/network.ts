/**
 * Intel's AMT IP configuration rules, evaluated for one machine: every row of
 * the table (src/api/v1alpha1/amtrules.ts, the same rows the CRD enforces)
 * against the policy, and against the policy overlaid with what was observed
 * of the machine. A policy that is valid on paper is still violated by a
 * machine seen doing something else, and the verdict names the rule.
 */
import { AmtIpRules, ruleMessage } from '../api/v1alpha1/amtrules.ts';
import type { AmtIpConfig, AmtIpRule } from '../api/v1alpha1/amtrules.ts';
import { atLeast, parseVersion } from './version.ts';

/**
 * What agents saw of one machine's networking, each fact optional. Only
 * facts visible without AMT credentials: DHCP exchanges, and which address
 * AMT answered a probe on.
 */
export interface AmtNetworkObservation {
  /** The OS got its IPv4 address by DHCP (true), or was seen using one no DHCP exchange handed it (false). */
  readonly hostDhcp?: boolean;
  /** IPv4 address the OS uses. */
  readonly hostAddress?: string;
  /** IPv4 address on which AMT answered an RMCP or HTTP probe. */
  readonly amtAddress?: string;
  /** IPv6 addresses of the host and of AMT, where known. */
  readonly hostIpv6?: readonly string[];
  readonly amtIpv6?: readonly string[];
  /** The machine's AMT release (its own, rather than the policy's minimum). */
  readonly firmware?: string;
}

/** One rule's verdict for one machine. */
export interface RuleVerdict {
  /** Rule id: an Intel table rule (amtrules.ts) or an observed-* conformance check. */
  readonly id: string;
  /** intel: a row of Intel's table. policy: the machine does what its policy says. */
  readonly kind: 'intel' | 'policy';
  readonly severity: 'invalid' | 'advice';
  /** The rule in one sentence. */
  readonly sentence: string;
  readonly holds: boolean;
  /** What broke it: the policy itself, or the policy overlaid with observations. */
  readonly basis: 'policy' | 'observed';
  /** The verdict in words: the sentence, the rule id, and for observed failures what was seen. */
  readonly message: string;
}

/**
 * The machine's configuration as observed: AMT and the OS share one MAC, so
 * with DHCP they cannot hold different addresses (seed 000); AMT answering
 * on another address means it has a dedicated static one.
 */
export function observedAddressing(o: AmtNetworkObservation): Partial<Pick<AmtIpConfig, 'hostAddressing' | 'amtAddressing'>> {
  const out: { hostAddressing?: AmtIpConfig['hostAddressing']; amtAddressing?: AmtIpConfig['amtAddressing'] } = {};
  if (o.hostDhcp !== undefined) out.hostAddressing = o.hostDhcp ? 'dhcp' : 'static';
  if (o.amtAddress !== undefined && o.hostAddress !== undefined) {
    if (o.amtAddress !== o.hostAddress) out.amtAddressing = 'static-dedicated';
    else if (o.hostDhcp !== undefined) out.amtAddressing = o.hostDhcp ? 'dhcp' : 'static-shared';
  }
  return out;
}

/** The policy with every observed fact laid over it. */
export function effectiveConfig(policy: AmtIpConfig, o: AmtNetworkObservation | undefined): AmtIpConfig {
  if (o === undefined) return policy;
  const amtV6 = o.amtIpv6 ?? [];
  const shared = amtV6.some((a) => (o.hostIpv6 ?? []).includes(a));
  return {
    ...policy,
    ...observedAddressing(o),
    ipv6: { enabled: policy.ipv6.enabled || amtV6.length > 0, shareHostAddress: policy.ipv6.shareHostAddress || shared },
    minimumFirmware: o.firmware !== undefined && parseVersion(o.firmware) !== undefined ? o.firmware : policy.minimumFirmware,
  };
}

function describeObservation(policy: AmtIpConfig, eff: AmtIpConfig, o: AmtNetworkObservation): string {
  const seen: string[] = [];
  if (eff.hostAddressing !== policy.hostAddressing || o.hostDhcp !== undefined) seen.push(`host ${eff.hostAddressing}${o.hostDhcp === false ? ' (address not from DHCP)' : ''}`);
  if (o.amtAddress !== undefined) seen.push(`AMT ${eff.amtAddressing} at ${o.amtAddress}${o.hostAddress === undefined ? '' : `, host at ${o.hostAddress}`}`);
  if (eff.ipv6.shareHostAddress && !policy.ipv6.shareHostAddress) seen.push('AMT answers on a host IPv6 address');
  else if (eff.ipv6.enabled && !policy.ipv6.enabled) seen.push('AMT answers on IPv6');
  if (o.firmware !== undefined) seen.push(`AMT ${o.firmware}`);
  return seen.join(', ');
}

function intelVerdict(rule: AmtIpRule, policy: AmtIpConfig, eff: AmtIpConfig, o: AmtNetworkObservation | undefined): RuleVerdict {
  const base = { id: rule.id, kind: 'intel' as const, severity: rule.severity, sentence: rule.sentence };
  if (!rule.holds(policy)) return { ...base, holds: false, basis: 'policy', message: ruleMessage(rule) };
  if (o !== undefined && !rule.holds(eff)) {
    return { ...base, holds: false, basis: 'observed', message: `${rule.sentence} (AMT rule ${rule.id}); observed: ${describeObservation(policy, eff, o)}` };
  }
  return { ...base, holds: true, basis: 'policy', message: `${rule.sentence} (AMT rule ${rule.id}): holds` };
}

function conformance(policy: AmtIpConfig, o: AmtNetworkObservation): RuleVerdict[] {
  const seen = observedAddressing(o);
  const out: RuleVerdict[] = [];
  const check = (id: string, sentence: string, holds: boolean, detail: string) => out.push({
    id, kind: 'policy', severity: 'invalid', sentence, holds, basis: 'observed',
    message: holds ? `${sentence}: holds` : `${sentence}: ${detail} (rule ${id})`,
  });
  if (seen.hostAddressing !== undefined) {
    check('observed-host-addressing', `the host uses ${policy.hostAddressing} addressing as the policy says`, seen.hostAddressing === policy.hostAddressing,
      `the host was seen with a ${seen.hostAddressing === 'static' ? 'static address no DHCP server handed out' : 'DHCP lease'}${o.hostAddress === undefined ? '' : ` (${o.hostAddress})`}`);
  }
  if (seen.amtAddressing !== undefined) {
    check('observed-amt-addressing', `AMT uses ${policy.amtAddressing} addressing as the policy says`, seen.amtAddressing === policy.amtAddressing,
      `AMT answered at ${o.amtAddress ?? '?'} with the host at ${o.hostAddress ?? '?'}, which is ${seen.amtAddressing}`);
  }
  const min = parseVersion(policy.minimumFirmware);
  if (o.firmware !== undefined && min !== undefined && parseVersion(o.firmware) !== undefined) {
    check('observed-minimum-firmware', `AMT is release ${policy.minimumFirmware} or later as the policy's minimumFirmware says`, atLeast(o.firmware, min) !== false,
      `the machine runs AMT ${o.firmware}`);
  }
  if ((o.amtIpv6 ?? []).length > 0) {
    check('observed-ipv6', `AMT uses IPv6 only if the policy enables it`, policy.ipv6.enabled, `AMT answered on IPv6 ${o.amtIpv6?.join(', ') ?? ''} but ipv6.enabled is false`);
  }
  return out;
}

/**
 * Every row of Intel's table for one machine, then the conformance checks
 * (observed-*) that the machine does what its policy says. Violations first,
 * in table order.
 */
export function evaluateNetworkRules(policy: AmtIpConfig, observed?: AmtNetworkObservation): RuleVerdict[] {
  const eff = effectiveConfig(policy, observed);
  const verdicts = [
    ...AmtIpRules.map((r) => intelVerdict(r, policy, eff, observed)),
    ...(observed === undefined ? [] : conformance(policy, observed)),
  ];
  return [...verdicts.filter((v) => !v.holds), ...verdicts.filter((v) => v.holds)];
}
