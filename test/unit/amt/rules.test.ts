/**
 * Intel's AMT IP configuration table: one table (src/api/v1alpha1/amtrules.ts)
 * drives both the CRD/schema validation and the per-machine evaluation, so
 * each row is checked here through both.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AmtIpRules } from '../../../src/api/v1alpha1/amtrules.ts';
import { AmtNetworkPolicySpec } from '../../../src/api/v1alpha1/amtnetworkpolicy.ts';
import type { AmtNetworkPolicy } from '../../../src/api/v1alpha1/amtnetworkpolicy.ts';
import { evaluateNetworkRules, observedAddressing } from '../../../src/amt/network.ts';

type Spec = AmtNetworkPolicy['spec'];
/** A policy with defaults applied, bypassing validation so invalid ones can be built. */
const policy = (over: Record<string, unknown> = {}): Spec => {
  const base = AmtNetworkPolicySpec.safeParse({});
  assert.ok(base.success);
  return { ...base.data, ...over } as Spec;
};
const failing = (spec: Spec, observed?: Parameters<typeof evaluateNetworkRules>[1]) =>
  evaluateNetworkRules(spec, observed).filter((v) => !v.holds && v.severity === 'invalid').map((v) => `${v.id}:${v.basis}`);

test('every row of DOMAIN.md section 3 has a rule; ids are unique; invalid rules carry CEL', () => {
  assert.deepEqual([...new Set(AmtIpRules.map((r) => r.row))].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.equal(new Set(AmtIpRules.map((r) => r.id)).size, AmtIpRules.length);
  for (const r of AmtIpRules) assert.equal(r.cel !== undefined, r.severity === 'invalid', r.id);
});

test('the recommended policy satisfies every rule, advice included', () => {
  const verdicts = evaluateNetworkRules(policy());
  assert.equal(verdicts.length, AmtIpRules.length);
  assert.ok(verdicts.every((v) => v.holds && v.kind === 'intel'), JSON.stringify(verdicts.filter((v) => !v.holds)));
});

/** For each invalid rule, a policy that breaks it and no other invalid rule. */
const violations: [id: string, over: Record<string, unknown>][] = [
  ['dedicated-ip-needs-dedicated-fqdn', { hostAddressing: 'static', amtAddressing: 'static-dedicated', fqdn: 'shared' }],
  ['shared-static-needs-release-7', { hostAddressing: 'static', amtAddressing: 'static-shared', minimumFirmware: '6.2' }],
  ['shared-static-ipv4-only', { hostAddressing: 'static', amtAddressing: 'static-shared', ipv6: { enabled: true, shareHostAddress: false } }],
  ['static-host-dhcp-amt', { hostAddressing: 'static', amtAddressing: 'dhcp' }],
  ['dhcp-host-static-amt', { hostAddressing: 'dhcp', amtAddressing: 'static-dedicated', fqdn: 'dedicated', dedicatedFqdn: { hostnameSuffix: '-amt' }, minimumFirmware: '9.0' }],
  ['static-amt-wireless', { hostAddressing: 'static', amtAddressing: 'static-shared', links: 'wireless' }],
  ['static-wired-dhcp-wireless', { hostAddressing: 'static', amtAddressing: 'static-shared', links: 'wired-and-wireless' }],
  ['no-shared-ipv6', { ipv6: { enabled: true, shareHostAddress: true } }],
  ['shared-fqdn-ddns-ipv6', { ddns: true, ipv6: { enabled: true, shareHostAddress: false } }],
  ['dedicated-fqdn-differs', { fqdn: 'dedicated' }],
];

test('each invalid rule fails on its policy, by id, in the evaluation AND in schema validation', () => {
  assert.deepEqual(violations.map(([id]) => id).sort(), AmtIpRules.filter((r) => r.severity === 'invalid').map((r) => r.id).sort(), 'every invalid rule has a row here');
  for (const [id, over] of violations) {
    assert.deepEqual(failing(policy(over)), [`${id}:policy`], id);
    const v = evaluateNetworkRules(policy(over)).find((x) => x.id === id);
    assert.match(v?.message ?? '', new RegExp(`\\(AMT rule ${id}\\)$`));
    const parsed = AmtNetworkPolicySpec.safeParse(over);
    assert.equal(parsed.success, false, id);
    const messages = parsed.success ? [] : parsed.error.issues.map((i) => i.message);
    assert.ok(messages.some((m) => m.includes(`(AMT rule ${id})`)), `${id}: ${messages.join(' | ')}`);
  }
});

test('before Release 7.0 a DHCP host with static AMT was valid', () => {
  const over = { hostAddressing: 'dhcp', amtAddressing: 'static-dedicated', fqdn: 'dedicated', dedicatedFqdn: { domain: 'amt.contoso.com' }, minimumFirmware: '6.2' };
  assert.deepEqual(failing(policy(over)), []);
  assert.equal(AmtNetworkPolicySpec.safeParse(over).success, true);
});

test('advice: anything but DHCP-shared is valid but not the recommendation', () => {
  const dedicated = evaluateNetworkRules(policy({ hostAddressing: 'static', amtAddressing: 'static-dedicated', fqdn: 'dedicated', dedicatedFqdn: { hostnameSuffix: '-amt' } }));
  assert.deepEqual(dedicated.filter((v) => !v.holds).map((v) => `${v.id}:${v.severity}`), ['dhcp-shared-recommended:advice']);
});

test('observed addressing: one MAC means DHCP AMT shares the host address; another address means a dedicated static one', () => {
  const cases: [Parameters<typeof observedAddressing>[0], ReturnType<typeof observedAddressing>][] = [
    [{ hostDhcp: true, hostAddress: '10.0.0.5', amtAddress: '10.0.0.5' }, { hostAddressing: 'dhcp', amtAddressing: 'dhcp' }],
    [{ hostDhcp: false, hostAddress: '10.0.0.5', amtAddress: '10.0.0.5' }, { hostAddressing: 'static', amtAddressing: 'static-shared' }],
    [{ hostDhcp: true, hostAddress: '10.0.0.5', amtAddress: '10.0.0.6' }, { hostAddressing: 'dhcp', amtAddressing: 'static-dedicated' }],
    [{ hostAddress: '10.0.0.5', amtAddress: '10.0.0.5' }, {}],
    [{ hostDhcp: false }, { hostAddressing: 'static' }],
    [{}, {}],
  ];
  for (const [o, want] of cases) assert.deepEqual(observedAddressing(o), want, JSON.stringify(o));
});

test('a machine that deviates from a valid policy breaks the rule its real configuration breaks', () => {
  const dhcpShared = policy({ minimumFirmware: '11.0' });
  // Policy DHCP-shared, the OS seen with a static address: static host + DHCP AMT.
  assert.deepEqual(failing(dhcpShared, { hostDhcp: false, hostAddress: '10.0.0.5' }), ['static-host-dhcp-amt:observed', 'observed-host-addressing:observed']);
  const v = evaluateNetworkRules(dhcpShared, { hostDhcp: false, hostAddress: '10.0.0.5' }).find((x) => x.id === 'static-host-dhcp-amt');
  assert.equal(v?.message, 'static host IP with DHCP AMT is invalid (AMT rule static-host-dhcp-amt); observed: host static (address not from DHCP)');
  // Static host sharing its address with AMT: a valid combination, but not the policy.
  assert.deepEqual(failing(dhcpShared, { hostDhcp: false, hostAddress: '10.0.0.5', amtAddress: '10.0.0.5' }), ['observed-host-addressing:observed', 'observed-amt-addressing:observed']);
  // DHCP host, AMT answering on another address: static AMT with a DHCP host, invalid from 7.0.
  assert.deepEqual(failing(dhcpShared, { hostDhcp: true, hostAddress: '10.0.0.5', amtAddress: '10.0.0.9' }),
    ['dedicated-ip-needs-dedicated-fqdn:observed', 'dhcp-host-static-amt:observed', 'observed-amt-addressing:observed']);
  // AMT on the host's IPv6 address.
  assert.deepEqual(failing(dhcpShared, { hostIpv6: ['fd00::5'], amtIpv6: ['fd00::5'] }), ['no-shared-ipv6:observed', 'observed-ipv6:observed']);
  // The machine's own firmware decides the Release 7.0 rules, and must meet the policy minimum.
  const sharedStatic = policy({ hostAddressing: 'static', amtAddressing: 'static-shared', minimumFirmware: '7.0' });
  assert.deepEqual(failing(sharedStatic, { firmware: '6.2.10' }), ['shared-static-needs-release-7:observed', 'observed-minimum-firmware:observed']);
  assert.deepEqual(failing(sharedStatic, { firmware: '11.8.50', hostDhcp: false, hostAddress: '10.0.0.5', amtAddress: '10.0.0.5' }), []);
  assert.deepEqual(failing(dhcpShared, { firmware: '11' }), [], 'a version too short to compare with 11.0 is not held against the machine');
});
