/**
 * What to do when AMT's DNS suffix does not match the certificate, in one
 * paragraph: which network to fix, the value, and the deadline the
 * provisioning window sets (seed 004: fix option 15, then renew the lease
 * while AMT's interface is open; short leases get the fix there sooner).
 */
import type { BootNetworkMode } from '../api/v1alpha1/bootnetwork.ts';
import type { SuffixSource } from '../api/v1alpha1/amtstatus.ts';
import type { SuffixMatch } from './suffix.ts';
import type { ProvisioningWindow } from './window.ts';
import { HOUR_MS, deadline } from './time.ts';

/** The BootNetwork the machine was seen on, as far as remediation needs it. */
export interface AmtNetworkContext {
  readonly name: string;
  readonly mode: BootNetworkMode;
  /** spec.dhcp.domainName (option 15) in mode dhcp. */
  readonly domainName?: string | undefined;
  /** spec.dhcp.leaseSeconds in mode dhcp. */
  readonly leaseSeconds?: number | undefined;
}

export interface RemediationInput {
  readonly suffix: SuffixMatch;
  /** Where AMT's suffix came from. */
  readonly source?: SuffixSource | undefined;
  readonly window: ProvisioningWindow;
  readonly windowHours: number;
  readonly network?: AmtNetworkContext | undefined;
  readonly policyName?: string | undefined;
  /** The policy's remediation block. */
  readonly shortenLease?: { readonly enabled: boolean; readonly seconds: number } | undefined;
  readonly now: Date;
}

/** A lease this long or shorter needs no advice to shorten it. */
const SHORT_LEASE_SECONDS = 3600;

/** The remediation paragraph, or undefined when the suffix is not a known mismatch. */
export function remediation(input: RemediationInput): string | undefined {
  const { suffix, window, windowHours, network, now } = input;
  if (suffix.result !== 'Mismatch' || suffix.target === undefined) return undefined;
  const target = suffix.target;
  if (input.source === 'spec') {
    return `AMT's suffix ${suffix.amtSuffix ?? ''} was set in MEBx (spec.amt.dnsSuffix): change the PKI DNS suffix in MEBx to ${target} and update spec.amt.dnsSuffix, or provision with a certificate for ${suffix.amtSuffix ?? 'that suffix'}; MEBx changes have no time limit.`;
  }
  if (windowHours === 0) {
    return `the OEM provisioning window is 0 hours (policy windowHours 0), so AMT never takes option 15 from DHCP: set the PKI DNS suffix in MEBx to ${target}.`;
  }
  const already = network?.mode === 'dhcp' && network.domainName === target;
  const where = network === undefined ? `set DHCP option 15 to ${target} on the machine's network`
    : network.mode === 'dhcp'
      ? (already ? `option 15 on BootNetwork ${network.name} is already ${target}` : `set option 15 on BootNetwork ${network.name} to ${target}`)
      : `set option 15 (domain name) to ${target} on the site DHCP server of BootNetwork ${network.name}`;
  const step = when(window, windowHours, now);
  const joint = step.startsWith('renew') ? (already ? ': ' : ', then ') : '; ';
  return `${where}${joint}${step}.${leaseAdvice(input)}`;
}

/** When the lease must be renewed, from the window: a deadline, a future window, or how to reopen it. */
function when(window: ProvisioningWindow, windowHours: number, now: Date): string {
  if (window.open && window.closesAt !== undefined) return `renew the lease before ${deadline(window.closesAt)} (ipconfig /renew or dhclient)`;
  if (window.openedAt === undefined) return `renew the lease while AMT's window is open (the first ${windowHours} h after it joins the network, and after each provisioning attempt)`;
  const retry = window.nextRetryAt;
  if (retry !== undefined && retry.getTime() > now.getTime()) {
    return `AMT's window closed at ${deadline(window.closesAt ?? retry)}: the next in-band attempt, due ${deadline(retry)}, reopens it until ${deadline(new Date(retry.getTime() + windowHours * HOUR_MS))}; renew the lease in that time, and the attempt after it succeeds`;
  }
  if (window.openedAt.getTime() > now.getTime()) return `renew the lease between ${deadline(window.openedAt)} and ${deadline(window.closesAt ?? window.openedAt)}`;
  return `AMT's window closed at ${deadline(window.closesAt ?? window.openedAt)}: start a provisioning attempt to reopen it for ${windowHours} h and renew the lease within that time, or set the suffix in MEBx`;
}

function leaseAdvice(input: RemediationInput): string {
  const { network, shortenLease, policyName } = input;
  if (network === undefined || network.mode !== 'dhcp') return ' Use a short lease time on the site DHCP server for these machines so they pick up the corrected suffix sooner.';
  if (shortenLease?.enabled === true) return ` The agent hands this machine a ${shortenLease.seconds} s lease until its suffix matches.`;
  const now = network.leaseSeconds === undefined ? '' : `; now ${network.leaseSeconds} s`;
  if (network.leaseSeconds !== undefined && network.leaseSeconds <= SHORT_LEASE_SECONDS) return '';
  const policy = policyName === undefined ? 'the AmtNetworkPolicy' : `AmtNetworkPolicy ${policyName}`;
  return ` Use a short lease (for example 300 s${now}) so the machine picks up the corrected suffix sooner, or set spec.remediation.shortenLease on ${policy} to shorten it for mismatched machines only.`;
}

/**
 * The lease the agent should hand this machine in mode dhcp, when the policy
 * lets it shorten leases and the suffix does not match; undefined otherwise.
 */
export function shortLeaseSeconds(policy: { readonly remediation: { readonly shortenLease: boolean; readonly shortLeaseSeconds: number } } | undefined,
  networkMode: BootNetworkMode | undefined, suffix: Pick<SuffixMatch, 'result'>, provisioningState?: string): number | undefined {
  if (policy === undefined || !policy.remediation.shortenLease || networkMode !== 'dhcp') return undefined;
  if (suffix.result !== 'Mismatch' || provisioningState === 'post') return undefined;
  return policy.remediation.shortLeaseSeconds;
}
