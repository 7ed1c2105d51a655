/**
 * The pure AMT core: Intel's IP rule table, the DNS-suffix check, the
 * provisioning window, certificate checks, fact precedence, and
 * `evaluateAmt`, which combines them into BootMachine status.amt and its
 * four conditions. No I/O and no clock: `now` is always an argument.
 */
export { evaluateAmt, countMachines, amtPolicyStatus, certificateSuffix } from './evaluate.ts';
export type { AmtMachineFacts, AmtPolicyInput, AmtEvaluation, AmtPolicyCounts } from './evaluate.ts';
export { AmtConditionType, AmtReason } from './reasons.ts';
export type { AmtConditionTypeName, AmtReasonName } from './reasons.ts';
export { evaluateNetworkRules, effectiveConfig, observedAddressing } from './network.ts';
export type { AmtNetworkObservation, RuleVerdict } from './network.ts';
export { matchSuffix, chooseRule, normalizeSuffix, suffixMatches, lastLabels, TWO_LABEL_RELEASE } from './suffix.ts';
export type { SuffixMatch, SuffixMatchInput, SuffixRule } from './suffix.ts';
export { isPublicSuffix, MultiLabelPublicSuffixes } from './public-suffixes.ts';
export { provisioningWindow, nextTransition, windowWasOpen, RETRY_HOURS, DEFAULT_WINDOW_HOURS } from './window.ts';
export type { ProvisioningWindow, WindowFacts } from './window.ts';
export { resolveAmtSuffix, resolveFirmware } from './facts.ts';
export type { AmtSuffixFacts, AmtVersionFacts, ResolvedSuffix, SuffixObservation, VersionSource } from './facts.ts';
export { analyzeCertificate, certificateTrust, certificateTransitions, policyCertificateStatus, sameFingerprint, INTEL_SETUP_OID, INTEL_SETUP_OU } from './certificate.ts';
export type { CertificateSummary, CertificateCheck, CertificateTrust, ChainEntry } from './certificate.ts';
export { remediation, shortLeaseSeconds } from './remediation.ts';
export type { AmtNetworkContext, RemediationInput } from './remediation.ts';
export { atLeast, compareVersions, parseVersion } from './version.ts';
export { rfc3339, deadline, parseInstant } from './time.ts';
