import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveAmtSuffix, resolveFirmware } from '../../../src/amt/facts.ts';
import type { AmtSuffixFacts } from '../../../src/amt/facts.ts';
import { windowWasOpen } from '../../../src/amt/window.ts';

const at = (h: number) => new Date(Date.UTC(2026, 10, 23, 10) + h * 3_600_000);

test('suffix precedence: spec > option 15 we served > site DHCP option 15 > Hello', () => {
  const all: AmtSuffixFacts = {
    spec: 'mebx.contoso.com',
    servedOption15: [{ value: 'served.contoso.com' }],
    siteOption15: [{ value: 'site.contoso.com' }],
    hello: [{ value: 'hello.contoso.com' }],
    osRequestedDomain: 'os.contoso.com',
  };
  const cases: [AmtSuffixFacts, string | undefined, string | undefined][] = [
    [all, 'mebx.contoso.com', 'spec'],
    [{ ...all, spec: undefined }, 'served.contoso.com', 'served-option15'],
    [{ ...all, spec: undefined, servedOption15: undefined }, 'site.contoso.com', 'site-dhcp-option15'],
    [{ ...all, spec: undefined, servedOption15: [], siteOption15: undefined }, 'hello.contoso.com', 'hello'],
    [{ osRequestedDomain: 'os.contoso.com' }, undefined, undefined],
    [{ servedOption15: [{ value: '' }] }, '', 'served-option15'], // a lease without option 15: AMT's suffix is blank
  ];
  for (const [facts, value, source] of cases) {
    const r = resolveAmtSuffix(facts);
    assert.equal(r.value, value, JSON.stringify(facts));
    assert.equal(r.source, source, JSON.stringify(facts));
  }
  assert.equal(resolveAmtSuffix(all).osRequestedDomain, 'os.contoso.com', 'option 81 is recorded, never used as AMT\'s suffix');
  assert.equal(resolveAmtSuffix({ osRequestedDomain: 'os.contoso.com' }).value, undefined);
});

test('the latest sighting wins, and one made while the window was closed did not reach AMT', () => {
  const window = { firstSeen: at(0), windowHours: 24 };
  const facts: AmtSuffixFacts = { servedOption15: [{ value: 'contoso.com', at: at(30) }, { value: 'fabrikam.com', at: at(1) }] };
  const r = resolveAmtSuffix(facts, (t) => windowWasOpen(window, t));
  assert.equal(r.value, 'fabrikam.com', 'AMT kept the suffix it took during its first day');
  assert.equal(r.source, 'served-option15');
  assert.deepEqual(r.notes, ['option 15 contoso.com we served at 2026-11-24T16:00:00Z did not reach AMT: its provisioning window was closed']);
  // A provisioning attempt at +30 h reopened the window: the corrected lease counts.
  const reopened = resolveAmtSuffix(facts, (t) => windowWasOpen({ ...window, lastAttempt: at(29) }, t));
  assert.equal(reopened.value, 'contoso.com');
  assert.deepEqual(reopened.notes, []);
  // Without a window predicate (or a time) every sighting counts; the latest wins.
  assert.equal(resolveAmtSuffix(facts).value, 'contoso.com');
  // Nothing reached AMT: unknown, with the reason.
  const none = resolveAmtSuffix({ siteOption15: [{ value: 'contoso.com', at: at(30) }] }, (t) => windowWasOpen(window, t));
  assert.equal(none.value, undefined);
  assert.match(none.notes[0] ?? '', /option 15 contoso\.com the site DHCP server sent at .* did not reach AMT/);
});

test('firmware precedence: spec > HTTP Server header > RMCP; unparseable values are skipped', () => {
  assert.deepEqual(resolveFirmware({ spec: '11.8.50', httpServerHeader: '11.8.55', rmcp: '11.8' }), { value: '11.8.50', source: 'spec' });
  assert.deepEqual(resolveFirmware({ httpServerHeader: '11.8.55', rmcp: '11.8' }), { value: '11.8.55', source: 'http-server-header' });
  assert.deepEqual(resolveFirmware({ httpServerHeader: 'garbage', rmcp: '3.2' }), { value: '3.2', source: 'rmcp' });
  assert.equal(resolveFirmware({}), undefined);
});
