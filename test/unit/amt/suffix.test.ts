import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseRule, matchSuffix, normalizeSuffix } from '../../../src/amt/suffix.ts';
import type { SuffixMatchInput } from '../../../src/amt/suffix.ts';
import { AmtReason } from '../../../src/amt/reasons.ts';
import { atLeast, compareVersions, parseVersion } from '../../../src/amt/version.ts';
import { isPublicSuffix } from '../../../src/amt/public-suffixes.ts';

test('versions: 3.2.1 is the two-label boundary; a missing component that would decide gives undefined', () => {
  const cases: [string, boolean | undefined][] = [
    ['2.6', false], ['2.6.10', false], ['3.0', false], ['3.2.0', false], ['3.2', undefined], ['3', undefined],
    ['3.2.1', true], ['3.2.2', true], ['3.3', true], ['4', true], ['11', true], ['11.8', true], ['11.8.50', true], ['16.1.25.2124', true],
    ['eleven', undefined], ['', undefined], ['11.', undefined],
  ];
  for (const [v, want] of cases) assert.equal(atLeast(v, [3, 2, 1]), want, v);
  assert.equal(atLeast('7', [7, 0]), true, 'trailing zeros of the minimum need no component');
  assert.deepEqual(parseVersion(' 11.8.50 '), [11, 8, 50]);
  assert.ok(compareVersions('11.8', '9.5') > 0 && compareVersions('3.2', '3.2.0') === 0);
});

test('the rule: policy override, then the machine\'s firmware, then the policy minimum, else undetermined', () => {
  const cases: [Partial<SuffixMatchInput>, string | undefined, string][] = [
    [{ policyRule: 'full', firmware: '11.8' }, 'full', 'policy'],
    [{ policyRule: 'last-two-labels', firmware: '2.6' }, 'last-two-labels', 'policy'],
    [{ policyRule: 'auto', firmware: '2.6', minimumFirmware: '7.0' }, 'full', 'firmware'],
    [{ policyRule: 'auto', firmware: '3.2.1' }, 'last-two-labels', 'firmware'],
    [{ policyRule: 'auto', firmware: '11' }, 'last-two-labels', 'firmware'],
    [{ policyRule: 'auto', minimumFirmware: '7.0' }, 'last-two-labels', 'minimum-firmware'],
    [{ policyRule: 'auto', minimumFirmware: '2.5' }, 'full', 'minimum-firmware'],
    [{ policyRule: 'auto', firmware: '3.2', minimumFirmware: '7.0' }, undefined, 'undetermined'],
    [{ policyRule: 'auto' }, undefined, 'undetermined'],
    [{}, undefined, 'undetermined'],
  ];
  for (const [input, rule, basis] of cases) {
    const c = chooseRule(input);
    assert.equal(c.rule, rule, JSON.stringify(input));
    assert.equal(c.basis, basis, JSON.stringify(input));
  }
});

test('normalisation: case, surrounding whitespace, trailing and leading dots', () => {
  const cases: [string, string][] = [['Contoso.COM', 'contoso.com'], ['contoso.com.', 'contoso.com'], [' sales.Contoso.com.. ', 'sales.contoso.com'], ['.contoso.com', 'contoso.com'], ['', ''], ['.', '']];
  for (const [raw, want] of cases) assert.equal(normalizeSuffix(raw), want, raw);
});

test('match table: firmware 2.6, 3.2.1 and 11 around the two-label rule; blank, trailing dot, mixed case', () => {
  type Row = [amt: string | undefined, cert: string | undefined, firmware: string | undefined, result: string, reason: string, rule: string | undefined, target?: string];
  const rows: Row[] = [
    ['sales.contoso.com', 'marketing.contoso.com', '11.8', 'Match', AmtReason.SuffixMatched, 'last-two-labels', 'contoso.com'],
    ['sales.contoso.com', 'marketing.contoso.com', '3.2.1', 'Match', AmtReason.SuffixMatched, 'last-two-labels'],
    ['sales.contoso.com', 'marketing.contoso.com', '2.6', 'Mismatch', AmtReason.SuffixMismatch, 'full', 'marketing.contoso.com'],
    ['sales.contoso.com', 'northwindtraders.com', '11.8', 'Mismatch', AmtReason.SuffixMismatch, 'last-two-labels', 'northwindtraders.com'],
    ['sales.contoso.com', 'northwindtraders.com', '3.2.1', 'Mismatch', AmtReason.SuffixMismatch, 'last-two-labels'],
    ['contoso.com', 'contoso.com', '2.6', 'Match', AmtReason.SuffixMatched, 'full'],
    ['contoso.com', 'rcs.contoso.com', '2.6', 'Match', AmtReason.SuffixMatched, 'full'], // the certificate's name lies under AMT's suffix
    ['sales.contoso.com', 'contoso.com', '2.6', 'Mismatch', AmtReason.SuffixMismatch, 'full'],
    ['Sales.Contoso.COM.', 'marketing.contoso.com', '11', 'Match', AmtReason.SuffixMatched, 'last-two-labels'],
    ['contoso.com.', 'CONTOSO.com', '2.6', 'Match', AmtReason.SuffixMatched, 'full'],
    ['', 'contoso.com', '11', 'Mismatch', AmtReason.SuffixBlank, 'last-two-labels', 'contoso.com'],
    ['', 'contoso.com', '2.6', 'Mismatch', AmtReason.SuffixBlank, 'full'],
    ['.', 'contoso.com', '11', 'Mismatch', AmtReason.SuffixBlank, 'last-two-labels'],
    [undefined, 'contoso.com', '11', 'Unknown', AmtReason.SuffixUnknown, 'last-two-labels'],
    ['contoso.com', undefined, '11', 'Unknown', AmtReason.CertificateSuffixUnknown, 'last-two-labels'],
    ['contoso.com', ' ', '11', 'Unknown', AmtReason.CertificateSuffixUnknown, 'last-two-labels'],
    ['local', 'contoso.com', '11', 'Mismatch', AmtReason.SuffixMismatch, 'last-two-labels'],
  ];
  for (const [amt, cert, firmware, result, reason, rule, target] of rows) {
    const m = matchSuffix({ amtSuffix: amt, certificateSuffix: cert, firmware, policyRule: 'auto' });
    const name = `${String(amt)} vs ${String(cert)} on ${String(firmware)}`;
    assert.equal(m.result, result, name);
    assert.equal(m.reason, reason, name);
    assert.equal(m.rule, rule, name);
    if (target !== undefined) assert.equal(m.target, target, name);
  }
});

test('sentences name both suffixes and the rule', () => {
  assert.equal(matchSuffix({ amtSuffix: 'sales.contoso.com', certificateSuffix: 'marketing.contoso.com', firmware: '11.8' }).message,
    'AMT suffix sales.contoso.com matches certificate suffix marketing.contoso.com on contoso.com (last-two-labels rule, AMT 11.8)');
  assert.equal(matchSuffix({ amtSuffix: 'sales.contoso.com', certificateSuffix: 'northwindtraders.com', firmware: '11.8' }).message,
    'AMT suffix sales.contoso.com does not match certificate suffix northwindtraders.com: contoso.com differs from northwindtraders.com (last-two-labels rule, AMT 11.8)');
  assert.equal(matchSuffix({ amtSuffix: 'sales.contoso.com', certificateSuffix: 'marketing.contoso.com', firmware: '2.6' }).message,
    'AMT suffix sales.contoso.com does not match certificate suffix marketing.contoso.com: the full suffix must match (full-suffix rule, AMT 2.6)');
  assert.equal(matchSuffix({ amtSuffix: '', certificateSuffix: 'contoso.com', firmware: '11.8' }).message,
    'AMT has a blank DNS suffix, which never matches certificate suffix contoso.com (a blank suffix always fails)');
  assert.match(matchSuffix({ amtSuffix: 'sales.contoso.com', certificateSuffix: 'marketing.contoso.com', firmware: '2.6', policyRule: 'last-two-labels' }).message,
    /matches .* \(last-two-labels rule set by the policy's suffixMatch\)$/);
  assert.match(matchSuffix({ amtSuffix: 'sales.contoso.com', certificateSuffix: 'marketing.contoso.com', minimumFirmware: '7.0' }).message,
    /\(last-two-labels rule, from the policy's minimumFirmware 7\.0; the machine's AMT version is not known yet\)$/);
});

test('an explicit policy rule overrides the firmware, both ways', () => {
  const full = matchSuffix({ amtSuffix: 'sales.contoso.com', certificateSuffix: 'marketing.contoso.com', firmware: '11.8', policyRule: 'full' });
  assert.equal(full.result, 'Mismatch');
  assert.equal(full.ruleBasis, 'policy');
  const two = matchSuffix({ amtSuffix: 'sales.contoso.com', certificateSuffix: 'marketing.contoso.com', firmware: '2.6', policyRule: 'last-two-labels' });
  assert.equal(two.result, 'Match');
});

test('unknown firmware: a definite answer when both rules agree, Unknown when they disagree', () => {
  const agreeMatch = matchSuffix({ amtSuffix: 'contoso.com', certificateSuffix: 'contoso.com' });
  assert.equal(agreeMatch.result, 'Match');
  assert.equal(agreeMatch.rule, undefined);
  assert.match(agreeMatch.message, /both rules agree; the machine's AMT version is not known/);
  const agreeMismatch = matchSuffix({ amtSuffix: 'fabrikam.com', certificateSuffix: 'contoso.com' });
  assert.equal(agreeMismatch.result, 'Mismatch');
  assert.equal(agreeMismatch.target, 'contoso.com');
  const undecided = matchSuffix({ amtSuffix: 'sales.contoso.com', certificateSuffix: 'marketing.contoso.com', firmware: '3.2' });
  assert.equal(undecided.result, 'Unknown');
  assert.equal(undecided.reason, AmtReason.SuffixRuleUndetermined);
  assert.match(undecided.message, /AMT 3\.2 does not say whether it is 3\.2\.1 or later: set spec\.amt\.version or the policy's suffixMatch/);
});

test('co.uk and other public suffixes: AMT\'s answer stands, with a warning', () => {
  assert.ok(isPublicSuffix('co.uk') && isPublicSuffix('com.au') && !isPublicSuffix('contoso.com'));
  const foreign = matchSuffix({ amtSuffix: 'sales.contoso.co.uk', certificateSuffix: 'fabrikam.co.uk', firmware: '11.8' });
  assert.equal(foreign.result, 'Match', 'AMT compares only co.uk');
  assert.equal(foreign.warnings.length, 1);
  assert.match(foreign.warnings[0] ?? '', /co\.uk is a public suffix.*the third labels differ \(contoso\.co\.uk and fabrikam\.co\.uk\).*MeshCentral/);
  const same = matchSuffix({ amtSuffix: 'sales.contoso.co.uk', certificateSuffix: 'rcs.contoso.co.uk', firmware: '11.8' });
  assert.match(same.warnings[0] ?? '', /the third labels agree too \(contoso\.co\.uk\)/);
  assert.deepEqual(matchSuffix({ amtSuffix: 'sales.contoso.co.uk', certificateSuffix: 'contoso.co.uk', firmware: '2.6' }).warnings, [], 'the full rule needs no warning');
  assert.deepEqual(matchSuffix({ amtSuffix: 'sales.contoso.com', certificateSuffix: 'contoso.com', firmware: '11' }).warnings, []);
});
