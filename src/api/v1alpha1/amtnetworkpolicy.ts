/**
 * AmtNetworkPolicy: how the AMT machines of a class are networked and
 * provisioned. Every invalid combination in Intel's IP configuration table
 * (shared/DOMAIN.md section 3, kept as data in amtrules.ts) is one rule here,
 * rejected at apply time with the rule's id.
 */
import { z } from 'zod';
import { AGE_COLUMN, READY_COLUMN, REASON_COLUMN, objectSchema, statusBase } from './kind.ts';
import type { KindDefinition } from './kind.ts';
import { described, dnsName, matching, objectName, text } from './fields.ts';
import type { Rule } from './fields.ts';
import { amtIpSchemaRules } from './amtrules.ts';

const SecretKeyRef = described(z.object({
  name: objectName('Secret name, in the policy\'s namespace.'),
  key: text('Key inside the Secret.', 253),
}), 'A key of a Secret.');

const AmtNetworkPolicyFields = z.object({
  hostAddressing: described(z.enum(['dhcp', 'static']), 'How the host OS gets its IPv4 address.').default('dhcp'),
  amtAddressing: described(z.enum(['dhcp', 'static-shared', 'static-dedicated']),
    'How AMT gets its IPv4 address. dhcp: shares the OS address and FQDN (recommended). static-shared: the OS\'s static address (AMT 7.0+, wired, IPv4). static-dedicated: its own static address and hostname.').default('dhcp'),
  fqdn: described(z.enum(['shared', 'dedicated']), 'Whether AMT uses the OS\'s FQDN (shared) or its own (dedicated).').default('shared'),
  dedicatedFqdn: described(z.object({
    hostnameSuffix: text('Appended to the OS hostname for AMT, for example -amt.', 63).optional(),
    domain: dnsName('AMT\'s own domain, if it differs from the OS\'s.').optional(),
  }), 'How AMT\'s own FQDN differs from the OS FQDN (fqdn: dedicated).').optional(),
  links: described(z.enum(['wired', 'wireless', 'wired-and-wireless']), 'Which AMT network links the machines use.').default('wired'),
  ipv6: described(z.object({
    enabled: described(z.boolean(), 'Whether AMT uses IPv6.').default(false),
    shareHostAddress: described(z.boolean(), 'Whether AMT would reuse the host\'s IPv6 address. Never valid; present so the mistake is rejected by name.').default(false),
  }), 'IPv6 settings.').default({ enabled: false, shareHostAddress: false }),
  ddns: described(z.boolean(), 'Whether AMT registers itself in DNS with dynamic DNS updates.').default(false),
  minimumFirmware: matching('Oldest AMT release among the machines, such as 11.8. Rules that changed in Release 7.0 use it.', /^[0-9]+(\.[0-9]+){0,3}$/, 'must be a version such as 11.8', 32).default('7.0'),
  dnsSuffix: dnsName('DNS suffix the provisioning certificate is issued for, such as contoso.com.').optional(),
  suffixMatch: described(z.enum(['auto', 'full', 'last-two-labels']), 'auto: last two labels for AMT 3.2.1 and later, full suffix before. Or force one rule.').default('auto'),
  certificate: described(z.object({
    pem: SecretKeyRef.optional(),
    pfx: SecretKeyRef.optional(),
    pfxPassword: SecretKeyRef.optional(),
  }), 'The provisioning certificate: a PEM chain (leaf first), or a PFX with its password.').optional(),
  windowHours: described(z.number().int().min(0).max(168), 'Hours the AMT provisioning interface stays open after first connection or an attempt (OEM setting: 24 typical, some 6 or 0).').default(24),
  remediation: described(z.object({
    shortenLease: described(z.boolean(), 'In dhcp mode, hand mismatched machines a short lease so a corrected option 15 reaches them sooner.').default(false),
    shortLeaseSeconds: described(z.number().int().min(60).max(86400), 'The short lease.').default(300),
  }), 'What the agent may do on its own when a suffix does not match.').default({ shortenLease: false, shortLeaseSeconds: 300 }),
});

type Policy = z.output<typeof AmtNetworkPolicyFields>;

/**
 * The policy's rules: every invalid row of Intel's IP configuration table
 * (amtrules.ts, shared with the evaluation in src/amt), then the shape of the
 * certificate reference.
 */
export const AmtRules: readonly Rule<Policy>[] = [
  ...amtIpSchemaRules<Policy>(),
  {
    cel: '!has(self.certificate) || (has(self.certificate.pem) != has(self.certificate.pfx))',
    message: 'certificate needs exactly one of pem or pfx',
    fieldPath: '.certificate',
    holds: (p) => p.certificate === undefined || ((p.certificate.pem !== undefined) !== (p.certificate.pfx !== undefined)),
  },
  {
    cel: '!has(self.certificate) || !has(self.certificate.pfx) || has(self.certificate.pfxPassword)',
    message: 'a pfx certificate needs pfxPassword',
    fieldPath: '.certificate',
    holds: (p) => p.certificate?.pfx === undefined || p.certificate.pfxPassword !== undefined,
  },
];

export const AmtNetworkPolicySpec = described(AmtNetworkPolicyFields,
  'How AMT machines of a class must be networked and provisioned. Invalid combinations from Intel\'s IP configuration rules are rejected with the rule\'s name.', AmtRules);

export const AmtNetworkPolicyStatus = z.object({
  ...statusBase(),
  certificate: described(z.object({
    subject: text('Leaf subject.', 1024).optional(),
    domain: text('Leaf CN/SAN domain used as the certificate suffix.', 253).optional(),
    notAfter: text('Leaf expiry.', 64).optional(),
    rootSha256: text('SHA-256 fingerprint of the chain root (hex).', 95).optional(),
    rootSha1: text('SHA-1 fingerprint of the chain root (hex).', 59).optional(),
  }), 'Summary of the provisioning certificate.').optional(),
  machines: described(z.object({
    matched: described(z.number().int().min(0), 'Machines under this policy.'),
    suffixOk: described(z.number().int().min(0), 'Of them, whose DNS suffix matches the certificate.'),
    windowOpen: described(z.number().int().min(0), 'Of them, whose provisioning window is open now.'),
    windowExpired: described(z.number().int().min(0), 'Of them, whose window has closed.'),
  }), 'Counts over the machines this policy applies to.').optional(),
}).meta({ description: 'Observed state of an AMT network policy.' });

export const AmtNetworkPolicy = objectSchema('AmtNetworkPolicy', AmtNetworkPolicySpec, AmtNetworkPolicyStatus,
  'AmtNetworkPolicy says how Intel AMT machines of a class are networked and provisioned, and which certificate and DNS suffix provisioning expects.');
export type AmtNetworkPolicy = z.output<typeof AmtNetworkPolicy>;

export const AmtNetworkPolicyKind: KindDefinition = {
  kind: 'AmtNetworkPolicy',
  plural: 'amtnetworkpolicies',
  shortNames: ['amtpol'],
  schema: AmtNetworkPolicy,
  description: 'AmtNetworkPolicy says how Intel AMT machines are networked and provisioned.',
  printerColumns: [
    { name: 'Addressing', type: 'string', jsonPath: '.spec.amtAddressing', description: 'AMT IP mode.' },
    { name: 'Suffix', type: 'string', jsonPath: '.spec.dnsSuffix', description: 'Expected DNS suffix.' },
    { name: 'Matched', type: 'integer', jsonPath: '.status.machines.matched', description: 'Machines under this policy.' },
    { name: 'Suffix OK', type: 'integer', jsonPath: '.status.machines.suffixOk', description: 'Machines whose suffix matches.' },
    READY_COLUMN,
    REASON_COLUMN,
    AGE_COLUMN,
  ],
};
