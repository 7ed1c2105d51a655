/**
 * The DNS-suffix check AMT runs before remote (PKI) provisioning (seed 004;
 * shared/DOMAIN.md section 4): the suffix AMT knows against the provisioning
 * certificate's. AMT 3.2.1 and later compare only the last two labels
 * (sales.contoso.com matches marketing.contoso.com); earlier firmware the
 * full suffix; a blank suffix always fails. The policy may force a rule. The
 * rule applied is always stated, never silent.
 */
import { AmtReason } from './reasons.ts';
import type { AmtReasonName } from './reasons.ts';
import { isPublicSuffix } from './public-suffixes.ts';
import { atLeast, parseVersion } from './version.ts';

export type SuffixRule = 'full' | 'last-two-labels';

/** The first firmware that compares only the last two labels. */
export const TWO_LABEL_RELEASE: readonly number[] = [3, 2, 1];

export interface SuffixMatchInput {
  /** The suffix AMT knows; undefined when no source told us, '' when AMT's is blank. */
  readonly amtSuffix: string | undefined;
  /** The certificate's suffix (the policy's dnsSuffix, or the leaf's domain); undefined when not known. */
  readonly certificateSuffix: string | undefined;
  /** The machine's AMT version, where known. */
  readonly firmware?: string | undefined;
  /** The policy's minimumFirmware: the fallback when the machine's version is unknown. */
  readonly minimumFirmware?: string | undefined;
  /** The policy's suffixMatch; anything but auto overrides the firmware rule. */
  readonly policyRule?: 'auto' | SuffixRule | undefined;
}

export interface SuffixMatch {
  readonly result: 'Match' | 'Mismatch' | 'Unknown';
  readonly reason: AmtReasonName;
  /** Both suffixes, normalised (lowercase, no leading or trailing dots). */
  readonly amtSuffix?: string;
  readonly certificateSuffix?: string;
  /** The rule applied; absent when it could not be chosen (or did not need to be). */
  readonly rule?: SuffixRule;
  /** What chose the rule. */
  readonly ruleBasis: 'policy' | 'firmware' | 'minimum-firmware' | 'undetermined';
  /** The suffix AMT must know to match: the certificate's last two labels, or its full suffix. */
  readonly target?: string;
  /** Public-suffix cautions; they do not change the result, which is what AMT would do. */
  readonly warnings: readonly string[];
  /** The comparison in one sentence, naming both suffixes and the rule. */
  readonly message: string;
}

/** Lowercase, trimmed, without leading or trailing dots ("Contoso.COM." -> "contoso.com"). */
export function normalizeSuffix(s: string): string {
  return s.trim().toLowerCase().replace(/\.+$/, '').replace(/^\.+/, '');
}

/** The last `n` labels of a name. */
export function lastLabels(name: string, n: number): string {
  return name.split('.').slice(-n).join('.');
}

/** Does `cert` match `amt` under `rule`? Under full, the certificate name must be AMT's suffix or lie under it. */
export function suffixMatches(amt: string, cert: string, rule: SuffixRule): boolean {
  if (amt === '' || cert === '') return false;
  if (rule === 'full') return cert === amt || cert.endsWith(`.${amt}`);
  return lastLabels(amt, 2) === lastLabels(cert, 2);
}

const RULE_NAME: Record<SuffixRule, string> = { full: 'full-suffix rule', 'last-two-labels': 'last-two-labels rule' };

interface Chosen { readonly rule?: SuffixRule; readonly basis: SuffixMatch['ruleBasis']; readonly because: string }

/** Which rule applies, and the words that say why. */
export function chooseRule(input: Pick<SuffixMatchInput, 'firmware' | 'minimumFirmware' | 'policyRule'>): Chosen {
  const { firmware, minimumFirmware, policyRule } = input;
  if (policyRule !== undefined && policyRule !== 'auto') return { rule: policyRule, basis: 'policy', because: `${RULE_NAME[policyRule]} set by the policy's suffixMatch` };
  const pick = (v: string): SuffixRule | undefined => {
    const later = atLeast(v, TWO_LABEL_RELEASE);
    return later === undefined ? undefined : later ? 'last-two-labels' : 'full';
  };
  if (firmware !== undefined && parseVersion(firmware) !== undefined) {
    const rule = pick(firmware);
    if (rule !== undefined) return { rule, basis: 'firmware', because: `${RULE_NAME[rule]}, AMT ${firmware}` };
    return { basis: 'undetermined', because: `AMT ${firmware} does not say whether it is 3.2.1 or later` };
  }
  if (minimumFirmware !== undefined) {
    const rule = pick(minimumFirmware);
    if (rule !== undefined) return { rule, basis: 'minimum-firmware', because: `${RULE_NAME[rule]}, from the policy's minimumFirmware ${minimumFirmware}; the machine's AMT version is not known yet` };
  }
  return { basis: 'undetermined', because: 'the machine\'s AMT version is not known' };
}

function publicSuffixWarnings(amt: string, cert: string): string[] {
  const two = lastLabels(cert, 2);
  if (!isPublicSuffix(two) && !isPublicSuffix(lastLabels(amt, 2))) return [];
  const shared = isPublicSuffix(two) ? two : lastLabels(amt, 2);
  const three = lastLabels(amt, 3) === lastLabels(cert, 3);
  return [`${shared} is a public suffix, not one organisation's namespace: comparing its last two labels, AMT accepts a certificate for any name under ${shared}; `
    + (three ? `the third labels agree too (${lastLabels(cert, 3)}), so tools that keep three labels here (MeshCentral) agree`
      : `the third labels differ (${lastLabels(amt, 3)} and ${lastLabels(cert, 3)}), so tools that keep three labels here (MeshCentral) refuse what AMT and RPS accept`)];
}

/** Compares AMT's suffix with the certificate's under the rule the policy or firmware picks. */
export function matchSuffix(input: SuffixMatchInput): SuffixMatch {
  const chosen = chooseRule(input);
  const rule = chosen.rule === undefined ? {} : { rule: chosen.rule };
  if (input.certificateSuffix === undefined || normalizeSuffix(input.certificateSuffix) === '') {
    return { result: 'Unknown', reason: AmtReason.CertificateSuffixUnknown, ruleBasis: chosen.basis, ...rule, warnings: [],
      message: 'the provisioning certificate\'s suffix is not known: set the policy\'s dnsSuffix or a readable certificate' };
  }
  const cert = normalizeSuffix(input.certificateSuffix);
  if (input.amtSuffix === undefined) {
    return { result: 'Unknown', reason: AmtReason.SuffixUnknown, certificateSuffix: cert, ruleBasis: chosen.basis, ...rule, warnings: [],
      message: `the DNS suffix AMT knows is not known yet (certificate suffix ${cert}): set spec.amt.dnsSuffix to the MEBx value, or let an agent see the machine's DHCP exchange` };
  }
  const amt = normalizeSuffix(input.amtSuffix);
  const both = { amtSuffix: amt, certificateSuffix: cert, ruleBasis: chosen.basis };
  if (amt === '') {
    const target = chosen.rule === 'full' ? cert : lastLabels(cert, 2);
    return { result: 'Mismatch', reason: AmtReason.SuffixBlank, ...both, ...rule, target, warnings: [],
      message: `AMT has a blank DNS suffix, which never matches certificate suffix ${cert} (a blank suffix always fails)` };
  }
  if (chosen.rule === undefined) {
    const full = suffixMatches(amt, cert, 'full');
    const two = suffixMatches(amt, cert, 'last-two-labels');
    if (full !== two) {
      return { result: 'Unknown', reason: AmtReason.SuffixRuleUndetermined, ...both, target: cert, warnings: publicSuffixWarnings(amt, cert),
        message: `AMT suffix ${amt} matches certificate suffix ${cert} under the last-two-labels rule (AMT 3.2.1 and later) but not under the full-suffix rule (earlier AMT), and ${chosen.because}: set spec.amt.version or the policy's suffixMatch` };
    }
    // Either rule gives the same answer; the full suffix is the target that satisfies both.
    return verdict(amt, cert, full, 'last-two-labels', { ...both }, `both rules agree; ${chosen.because}`, cert);
  }
  const target = chosen.rule === 'full' ? cert : lastLabels(cert, 2);
  return verdict(amt, cert, suffixMatches(amt, cert, chosen.rule), chosen.rule, { ...both, rule: chosen.rule }, chosen.because, target);
}

function verdict(amt: string, cert: string, ok: boolean, rule: SuffixRule, fields: Pick<SuffixMatch, 'amtSuffix' | 'certificateSuffix' | 'ruleBasis' | 'rule'>, because: string, target: string): SuffixMatch {
  const warnings = rule === 'last-two-labels' ? publicSuffixWarnings(amt, cert) : [];
  if (ok) {
    const on = rule === 'full' ? '' : ` on ${lastLabels(cert, 2)}`;
    return { result: 'Match', reason: AmtReason.SuffixMatched, ...fields, target, warnings, message: `AMT suffix ${amt} matches certificate suffix ${cert}${on} (${because})` };
  }
  const why = rule === 'full' ? 'the full suffix must match' : `${lastLabels(amt, 2)} differs from ${lastLabels(cert, 2)}`;
  return { result: 'Mismatch', reason: AmtReason.SuffixMismatch, ...fields, target, warnings, message: `AMT suffix ${amt} does not match certificate suffix ${cert}: ${why} (${because})` };
}
