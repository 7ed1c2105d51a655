/**
 * The four AMT condition types of a BootMachine and their reasons. They are
 * API (alerts and `kubectl wait` match on them): CamelCase constants that
 * only ever gain members. They live here rather than in
 * src/controller/reasons.ts because src/amt computes them and may not import
 * the controller; the controller re-exports them.
 */

/** BootMachine condition types written from the AMT evaluation. */
export const AmtConditionType = {
  /** The policy and what was observed of the machine satisfy Intel's AMT IP configuration table, and the machine does what its policy says. */
  NetworkConfigValid: 'AmtNetworkConfigValid',
  /** The DNS suffix AMT knows matches the provisioning certificate's suffix under the rule for the machine's firmware. */
  DnsSuffixMatched: 'AmtDnsSuffixMatched',
  /** AMT's provisioning interface is open now, so a corrected DHCP option 15 reaches it on the next lease renewal. */
  ProvisioningWindowOpen: 'AmtProvisioningWindowOpen',
  /** The provisioning certificate passes Intel's checks and its root is one the machine trusts (where the machine reported its hashes). AmtNetworkPolicy carries it too, without the machine's hashes. */
  CertificateTrusted: 'AmtCertificateTrusted',
} as const;
export type AmtConditionTypeName = (typeof AmtConditionType)[keyof typeof AmtConditionType];

/** Condition reasons. The condition each belongs to is named first. */
export const AmtReason = {
  /** Any AMT condition=Unknown: no AmtNetworkPolicy applies to the machine (its MachineClass names none). */
  NoAmtPolicy: 'NoAmtPolicy',

  /** AmtNetworkConfigValid=True: every rule of Intel's table holds for the policy and for what was observed. */
  NetworkConfigValid: 'NetworkConfigValid',
  /** AmtNetworkConfigValid=False: a rule of Intel's table fails, for the policy or for the machine as observed; the message names the rule. */
  NetworkRuleViolated: 'NetworkRuleViolated',
  /** AmtNetworkConfigValid=False: the combination is valid, but the machine does not do what its policy says (address mode, firmware, IPv6). */
  ObservedConfigDiffers: 'ObservedConfigDiffers',

  /** AmtDnsSuffixMatched=True: the suffixes match under the rule in the message. */
  SuffixMatched: 'SuffixMatched',
  /** AmtDnsSuffixMatched=False: the suffixes differ under the rule; status.amt.remediation says what to change and by when. */
  SuffixMismatch: 'SuffixMismatch',
  /** AmtDnsSuffixMatched=False: AMT's suffix is blank (DHCP handed out no option 15), which always fails. */
  SuffixBlank: 'SuffixBlank',
  /** AmtDnsSuffixMatched=Unknown: the suffix AMT knows has not been learned from any source yet. */
  SuffixUnknown: 'SuffixUnknown',
  /** AmtDnsSuffixMatched=Unknown: neither the policy's dnsSuffix nor a readable certificate gives the certificate's suffix. */
  CertificateSuffixUnknown: 'CertificateSuffixUnknown',
  /** AmtDnsSuffixMatched=Unknown: the two comparison rules disagree and the machine's AMT version, which picks one, is not known. */
  SuffixRuleUndetermined: 'SuffixRuleUndetermined',

  /** AmtProvisioningWindowOpen=True: the window is open until status.amt.window.closesAt. */
  WindowOpen: 'WindowOpen',
  /** AmtProvisioningWindowOpen=False: the window closed; the next provisioning attempt reopens it. */
  WindowClosed: 'WindowClosed',
  /** AmtProvisioningWindowOpen=False: the policy's windowHours is 0, so DHCP never changes AMT's suffix; use MEBx. */
  WindowDisabled: 'WindowDisabled',
  /** AmtProvisioningWindowOpen=Unknown: no agent has seen the machine and no attempt was recorded. */
  NotSeen: 'NotSeen',

  /** AmtCertificateTrusted=True: every certificate check passes. */
  CertificateTrusted: 'CertificateTrusted',
  /** AmtCertificateTrusted=Unknown: the policy names no certificate, or it was not read yet. */
  NoCertificate: 'NoCertificate',
  /** AmtCertificateTrusted=False: the Secret holds no parseable certificate, or the PFX password from the Secret does not open the PFX. */
  CertificateUnreadable: 'CertificateUnreadable',
  /** AmtCertificateTrusted=False: the Secret or key the policy's certificate names does not exist, or the controller may not read it. */
  SecretNotFound: 'SecretNotFound',
  /** AmtCertificateTrusted=False: a certificate of the chain is past its notAfter. */
  CertificateExpired: 'CertificateExpired',
  /** AmtCertificateTrusted=False: a certificate of the chain is before its notBefore. */
  CertificateNotYetValid: 'CertificateNotYetValid',
  /** AmtCertificateTrusted=False: the leaf has neither the Intel setup OID in its EKU nor the Intel OU. */
  MissingIntelUsage: 'MissingIntelUsage',
  /** AmtCertificateTrusted=False: an issuer is missing, or the chain does not end at a self-signed root. */
  ChainIncomplete: 'ChainIncomplete',
  /** AmtCertificateTrusted=False: the PEM chain is complete but not ordered leaf first, each certificate followed by its issuer. */
  ChainUnordered: 'ChainUnordered',
  /** AmtCertificateTrusted=False: a certificate is signed with SHA-1, MD5 or another non-SHA-2 algorithm. */
  NotSha2: 'NotSha2',
  /** AmtCertificateTrusted=False: the leaf has no DNS name (CN or SAN) to compare with AMT's suffix. */
  NoLeafDomain: 'NoLeafDomain',
  /** AmtCertificateTrusted=False: the machine reported its trusted root hashes and the certificate's root is not among them. */
  RootNotTrusted: 'RootNotTrusted',
} as const;
export type AmtReasonName = (typeof AmtReason)[keyof typeof AmtReason];
