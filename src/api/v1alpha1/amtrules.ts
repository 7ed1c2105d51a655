/**
 * Intel's AMT IP configuration table (AMT SDK "IP configuration", seed 002;
 * shared/DOMAIN.md section 3) as one data table. The same rows serve twice:
 * the AmtNetworkPolicy schema turns the `invalid` ones into CEL rules, so
 * `kubectl apply` rejects a bad policy by rule id; and src/amt/network.ts
 * evaluates every row against a policy merged with what was observed of one
 * machine, so a machine that deviates from a valid policy is flagged by the
 * same rule.
 */
import type { Rule } from './fields.ts';

/** The AMT and host networking facts the table is about: the policy's fields, or a machine's observed equivalent. */
export interface AmtIpConfig {
  readonly hostAddressing: 'dhcp' | 'static';
  readonly amtAddressing: 'dhcp' | 'static-shared' | 'static-dedicated';
  readonly fqdn: 'shared' | 'dedicated';
  readonly dedicatedFqdn?: { readonly hostnameSuffix?: string | undefined; readonly domain?: string | undefined } | undefined;
  readonly links: 'wired' | 'wireless' | 'wired-and-wireless';
  readonly ipv6: { readonly enabled: boolean; readonly shareHostAddress: boolean };
  readonly ddns: boolean;
  /** Oldest AMT release (policy), or the machine's own release (observation). */
  readonly minimumFirmware: string;
}

/** One rule of the table. `invalid` rules are enforced by the CRD; `advice` rules only inform. */
export interface AmtIpRule {
  /** Stable id, shown in CRD messages and in status, e.g. static-host-dhcp-amt. */
  readonly id: string;
  /** Row of the table in shared/DOMAIN.md section 3 (1-9) the rule comes from. */
  readonly row: number;
  readonly severity: 'invalid' | 'advice';
  /** The rule as Intel states it, neutral about where the facts came from. */
  readonly sentence: string;
  /** What to change in an AmtNetworkPolicy to satisfy it. */
  readonly fix: string;
  /** CEL twin of `holds` over the policy spec; present on invalid rules. */
  readonly cel?: string;
  readonly fieldPath?: string;
  /** True when the configuration satisfies the rule. */
  readonly holds: (c: AmtIpConfig) => boolean;
}

const STATIC = 'self.amtAddressing.startsWith("static")';
const MAJOR = 'int(self.minimumFirmware.split(".")[0])';
/** Major release number; the table's only version boundary is Release 7.0. */
export const majorRelease = (version: string): number => Number.parseInt(version.split('.')[0] ?? '0', 10);
const isStatic = (c: AmtIpConfig): boolean => c.amtAddressing.startsWith('static');

/** Every row of Intel's table, in table order. */
export const AmtIpRules: readonly AmtIpRule[] = [
  {
    id: 'dhcp-shared-recommended', row: 1, severity: 'advice',
    sentence: 'DHCP for both host and AMT, sharing one IP address and FQDN, is Intel\'s recommended configuration',
    fix: 'use hostAddressing dhcp, amtAddressing dhcp and fqdn shared unless a static set-up is required; a dedicated AMT address costs a second IPv4 address and hostname per machine',
    holds: (c) => c.hostAddressing === 'dhcp' && c.amtAddressing === 'dhcp' && c.fqdn === 'shared',
  },
  {
    id: 'dedicated-ip-needs-dedicated-fqdn', row: 2, severity: 'invalid',
    sentence: 'a dedicated AMT IP needs a hostname different from the OS hostname',
    fix: 'set fqdn dedicated', fieldPath: '.fqdn',
    cel: '!(self.amtAddressing == "static-dedicated" && self.fqdn == "shared")',
    holds: (c) => !(c.amtAddressing === 'static-dedicated' && c.fqdn === 'shared'),
  },
  {
    id: 'shared-static-needs-release-7', row: 3, severity: 'invalid',
    sentence: 'a static IP shared by AMT and the host needs AMT Release 7.0 or later',
    fix: 'raise minimumFirmware to 7.0 if every machine has it, or use amtAddressing static-dedicated', fieldPath: '.minimumFirmware',
    cel: `!(self.amtAddressing == "static-shared" && ${MAJOR} < 7)`,
    holds: (c) => !(c.amtAddressing === 'static-shared' && majorRelease(c.minimumFirmware) < 7),
  },
  {
    id: 'shared-static-ipv4-only', row: 3, severity: 'invalid',
    sentence: 'a static IP shared by AMT and the host is IPv4 only',
    fix: 'disable ipv6 or use a dedicated address',
    cel: '!(self.amtAddressing == "static-shared" && self.ipv6.enabled)',
    holds: (c) => !(c.amtAddressing === 'static-shared' && c.ipv6.enabled),
  },
  {
    id: 'static-host-dhcp-amt', row: 4, severity: 'invalid',
    sentence: 'static host IP with DHCP AMT is invalid',
    fix: 'give AMT a static address too',
    cel: '!(self.hostAddressing == "static" && self.amtAddressing == "dhcp")',
    holds: (c) => !(c.hostAddressing === 'static' && c.amtAddressing === 'dhcp'),
  },
  {
    id: 'dhcp-host-static-amt', row: 5, severity: 'invalid',
    sentence: 'host DHCP with AMT static IP is invalid from AMT Release 7.0',
    fix: 'use amtAddressing dhcp',
    cel: `!(self.hostAddressing == "dhcp" && ${STATIC} && ${MAJOR} >= 7)`,
    holds: (c) => !(c.hostAddressing === 'dhcp' && isStatic(c) && majorRelease(c.minimumFirmware) >= 7),
  },
  {
    id: 'static-amt-wireless', row: 6, severity: 'invalid',
    sentence: 'static AMT IP is not supported on a wireless interface',
    fix: 'wireless AMT is DHCP only', fieldPath: '.amtAddressing',
    cel: `!(self.links == "wireless" && ${STATIC})`,
    holds: (c) => !(c.links === 'wireless' && isStatic(c)),
  },
  {
    id: 'static-wired-dhcp-wireless', row: 6, severity: 'invalid',
    sentence: 'static AMT IP on the wired link with DHCP on the wireless link is not allowed',
    fix: 'use amtAddressing dhcp', fieldPath: '.amtAddressing',
    cel: `!(self.links == "wired-and-wireless" && ${STATIC})`,
    holds: (c) => !(c.links === 'wired-and-wireless' && isStatic(c)),
  },
  {
    id: 'no-shared-ipv6', row: 7, severity: 'invalid',
    sentence: 'AMT and the host never share an IPv6 address',
    fix: 'set ipv6.shareHostAddress false', fieldPath: '.ipv6.shareHostAddress',
    cel: '!(self.ipv6.shareHostAddress)',
    holds: (c) => !c.ipv6.shareHostAddress,
  },
  {
    id: 'shared-fqdn-ddns-ipv6', row: 8, severity: 'invalid',
    sentence: 'shared FQDN with DDNS and IPv6 is unsupported',
    fix: 'disable ddns or ipv6, or use a dedicated FQDN',
    cel: '!(self.fqdn == "shared" && self.ddns && self.ipv6.enabled)',
    holds: (c) => !(c.fqdn === 'shared' && c.ddns && c.ipv6.enabled),
  },
  {
    id: 'dedicated-fqdn-differs', row: 9, severity: 'invalid',
    sentence: 'a dedicated FQDN must differ from the OS FQDN',
    fix: 'set dedicatedFqdn.hostnameSuffix or dedicatedFqdn.domain', fieldPath: '.dedicatedFqdn',
    cel: 'self.fqdn != "dedicated" || (has(self.dedicatedFqdn) && ((has(self.dedicatedFqdn.hostnameSuffix) && self.dedicatedFqdn.hostnameSuffix != "") || has(self.dedicatedFqdn.domain)))',
    holds: (c) => c.fqdn !== 'dedicated' || (c.dedicatedFqdn !== undefined && ((c.dedicatedFqdn.hostnameSuffix ?? '') !== '' || c.dedicatedFqdn.domain !== undefined)),
  },
];

/** The message a rejected policy shows: the rule, the fix, and the rule id. */
export function ruleMessage(rule: AmtIpRule): string {
  return `${rule.sentence}: ${rule.fix} (AMT rule ${rule.id})`;
}

/** The invalid rows as schema rules (CEL for the CRD, `holds` for standalone validation). */
export function amtIpSchemaRules<T extends AmtIpConfig>(): Rule<T>[] {
  return AmtIpRules.flatMap((r) => r.severity !== 'invalid' || r.cel === undefined ? [] : [{
    cel: r.cel,
    message: ruleMessage(r),
    holds: (c: T) => r.holds(c),
    ...(r.fieldPath === undefined ? {} : { fieldPath: r.fieldPath }),
  }]);
}
