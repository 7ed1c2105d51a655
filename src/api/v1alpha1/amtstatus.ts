/**
 * The AMT block of BootMachine status: what is known of the machine's Intel
 * AMT, where each fact came from, and whether provisioning can succeed.
 */
import { z } from 'zod';
import { described, ipv4, list, text, timestamp, uuid } from './fields.ts';

const sourced = (description: string, sources: readonly [string, ...string[]]) => described(z.object({
  value: text('The value.', 253),
  source: described(z.enum(sources), 'Where the value came from.'),
}), description);

export const SuffixSources = ['spec', 'served-option15', 'site-dhcp-option15', 'hello'] as const;

export const AmtMachineStatus = described(z.object({
  version: sourced('AMT firmware version.', ['spec', 'http-server-header', 'rmcp']).optional(),
  provisioningState: described(z.enum(['pre', 'in', 'post', 'unknown']), 'Setup state from the RMCP presence pong: pre-provisioning, in provisioning, post-provisioning.').optional(),
  dnsSuffix: sourced('The DNS suffix AMT knows, with its source (spec > option 15 we served > option 15 seen from the site DHCP server > Hello).', SuffixSources).optional(),
  osRequestedDomain: text('Domain the OS asked for in option 81 (client FQDN).', 253).optional(),
  certificateSuffix: text('Domain of the provisioning certificate\'s leaf (CN or SAN).', 253).optional(),
  suffixRule: described(z.enum(['full', 'last-two-labels']), 'Comparison rule applied.').optional(),
  suffixMatch: described(z.enum(['Match', 'Mismatch', 'Unknown']), 'Result of comparing the two suffixes under the rule.').optional(),
  suffixMessage: text('The comparison in a sentence, naming both suffixes and the rule.', 1024).optional(),
  remediation: text('What to change, where, and by when, if provisioning would fail.', 1024).optional(),
  osAnswering: described(z.enum(['os', 'amt-only', 'unknown']), 'Heuristic from ICMP TTL (255 = AMT, 64/128 = OS); a heuristic, not proof.').optional(),
  firstSeenAt: timestamp('When an agent first saw the machine on the network; AMT\'s first provisioning window opens then. Kept once set.').optional(),
  lastAttemptAt: timestamp('Last provisioning attempt seen (a Hello); each attempt reopens the window.').optional(),
  window: described(z.object({
    openedAt: timestamp('First seen on the network, or the last provisioning attempt.'),
    openedBy: described(z.enum(['first-seen', 'attempt']), 'What opened the window: the machine\'s first appearance on the network, or a provisioning attempt.').optional(),
    closesAt: timestamp('openedAt plus the policy window length.'),
    open: described(z.boolean(), 'Whether the provisioning window is open now.'),
  }), 'The provisioning window.').optional(),
  nextRetryAt: timestamp('Next in-band provisioning retry: last attempt plus 24 hours.').optional(),
  attempts: described(z.number().int().min(0), 'Provisioning attempts seen (Hello messages).').optional(),
}), 'Intel AMT provisioning readiness. Written by the controller.');
export type AmtMachineStatus = z.output<typeof AmtMachineStatus>;
export type SuffixSource = (typeof SuffixSources)[number];

const observedSuffix = (description: string) => list(described(z.object({
  value: text('The option 15 domain; empty when the lease carried none.', 253),
  at: timestamp('When the lease was seen.'),
}), 'One lease seen.'), description, 4);

/**
 * What agents observed about a machine's AMT, inside status.boot (agents own
 * that subtree). The controller turns these facts into status.amt.
 */
export const AmtObservation = described(z.object({
  firstSeenAt: timestamp('When an agent first saw the machine on this network. Kept once set.').optional(),
  probe: described(z.object({
    at: timestamp('When AMT last answered a probe.'),
    address: ipv4('Address probed.'),
    httpServerHeader: text('Version from the Server header on 16992/16993.', 64).optional(),
    rmcp: text('Version from the RMCP presence pong.', 64).optional(),
    provisioningState: described(z.enum(['pre', 'in', 'post', 'unknown']), 'Setup state from the RMCP pong.').optional(),
    osAnswering: described(z.enum(['os', 'amt-only', 'unknown']), 'ICMP TTL heuristic at probe time.').optional(),
    ttl: described(z.number().int().min(0).max(255), 'TTL of the ICMP echo reply.').optional(),
  }), 'The last probe AMT answered.').optional(),
  servedOption15: observedSuffix('Option 15 in leases our agent served (mode dhcp), newest last.').optional(),
  siteOption15: observedSuffix('Option 15 seen in the site DHCP server\'s OFFER/ACK (proxy modes), newest last.').optional(),
  osRequestedDomain: text('Domain the OS asked for in option 81.', 253).optional(),
  hello: described(z.object({
    at: timestamp('When the last Hello arrived.'),
    count: described(z.number().int().min(0), 'Hellos seen (provisioning attempts).'),
    retryCount: described(z.number().int().min(0), 'Retry count the last Hello carried.').optional(),
    uuid: uuid('Platform UUID from the Hello.').optional(),
    rootHashes: list(text('Hex hash of a trusted root certificate.', 128), 'Trusted root hashes the last Hello carried.', 64).optional(),
  }), 'PKI Hello messages (TCP 9971): provisioning attempts.').optional(),
}), 'AMT facts observed by agents. Written by agents; the controller derives status.amt from them.');
export type AmtObservation = z.output<typeof AmtObservation>;
