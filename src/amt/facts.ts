/**
 * Which source to believe for what AMT knows. The suffix, in order: the MEBx
 * value the user wrote in spec.amt.dnsSuffix; the option 15 we served (mode
 * dhcp); option 15 seen in the site DHCP server's OFFER/ACK (proxy modes); a
 * Hello report. AMT only takes option 15 while its provisioning interface is
 * open (seed 004), so a lease handed out while the window was closed updated
 * the OS but not AMT, and does not count.
 */
import type { SuffixSource } from '../api/v1alpha1/amtstatus.ts';
import { rfc3339 } from './time.ts';
import { parseVersion } from './version.ts';

/** One sighting of a suffix: the value ('' = the lease carried no option 15) and when. */
export interface SuffixObservation {
  readonly value: string;
  /** When the lease or report was seen; without it the sighting is assumed to have reached AMT. */
  readonly at?: Date;
}

export interface AmtSuffixFacts {
  /** spec.amt.dnsSuffix: the PKI DNS suffix the user set in MEBx. */
  readonly spec?: string | undefined;
  /** Leases we handed out in mode dhcp, with the option 15 they carried. */
  readonly servedOption15?: readonly SuffixObservation[] | undefined;
  /** Option 15 in the site DHCP server's OFFER/ACK to this machine, seen by a proxy-mode agent. */
  readonly siteOption15?: readonly SuffixObservation[] | undefined;
  /** Suffixes reported in Hello messages from the machine's AMT. */
  readonly hello?: readonly SuffixObservation[] | undefined;
  /** The domain of the FQDN the OS asked for in option 81; recorded, never used as AMT's. */
  readonly osRequestedDomain?: string | undefined;
}

export interface ResolvedSuffix {
  /** The suffix AMT knows ('' = blank), or undefined when no source tells. */
  readonly value?: string;
  readonly source?: SuffixSource;
  readonly at?: Date;
  readonly osRequestedDomain?: string;
  /** Sightings that did not count, in words (lease handed out while the window was closed). */
  readonly notes: readonly string[];
}

const latestFirst = (list: readonly SuffixObservation[]): SuffixObservation[] =>
  [...list].sort((a, b) => (b.at?.getTime() ?? -Infinity) - (a.at?.getTime() ?? -Infinity));

const WHERE: Record<'served-option15' | 'site-dhcp-option15', string> = {
  'served-option15': 'we served',
  'site-dhcp-option15': 'the site DHCP server sent',
};

/**
 * The suffix AMT knows and its source. `windowWasOpen(at)` says whether
 * AMT's interface was open at a given instant (see window.ts); DHCP
 * sightings at instants it was closed are skipped and noted.
 */
export function resolveAmtSuffix(facts: AmtSuffixFacts, windowWasOpen?: (at: Date) => boolean): ResolvedSuffix {
  const notes: string[] = [];
  const os = facts.osRequestedDomain === undefined ? {} : { osRequestedDomain: facts.osRequestedDomain };
  if (facts.spec !== undefined) return { value: facts.spec, source: 'spec', ...os, notes };
  for (const source of ['served-option15', 'site-dhcp-option15'] as const) {
    const list = source === 'served-option15' ? facts.servedOption15 : facts.siteOption15;
    for (const o of latestFirst(list ?? [])) {
      if (o.at !== undefined && windowWasOpen !== undefined && !windowWasOpen(o.at)) {
        notes.push(`option 15 ${o.value === '' ? '(none)' : o.value} ${WHERE[source]} at ${rfc3339(o.at)} did not reach AMT: its provisioning window was closed`);
        continue;
      }
      return { value: o.value, source, ...(o.at === undefined ? {} : { at: o.at }), ...os, notes };
    }
  }
  const hello = latestFirst(facts.hello ?? [])[0];
  if (hello !== undefined) return { value: hello.value, source: 'hello', ...(hello.at === undefined ? {} : { at: hello.at }), ...os, notes };
  return { ...os, notes };
}

export type VersionSource = 'spec' | 'http-server-header' | 'rmcp';

/** Where the AMT version may come from; the HTTP Server header gives X.Y.Z, an RMCP pong only major.minor. */
export interface AmtVersionFacts {
  readonly spec?: string | undefined;
  readonly httpServerHeader?: string | undefined;
  readonly rmcp?: string | undefined;
}

/** The AMT version by precedence spec > HTTP Server header > RMCP, skipping values that do not parse. */
export function resolveFirmware(facts: AmtVersionFacts): { readonly value: string; readonly source: VersionSource } | undefined {
  const order: [VersionSource, string | undefined][] = [['spec', facts.spec], ['http-server-header', facts.httpServerHeader], ['rmcp', facts.rmcp]];
  for (const [source, value] of order) if (value !== undefined && parseVersion(value) !== undefined) return { value: value.trim(), source };
  return undefined;
}
