/**
 * The AMT block of BootMachine status: what is known of the machine's Intel
 * AMT, where each fact came from, and whether provisioning can succeed.
 */
import { z } from 'zod';
import { described, text, timestamp } from './fields.ts';

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
