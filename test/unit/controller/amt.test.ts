/**
 * BootMachine AMT readiness as the controller computes it (pure): facts from
 * spec.amt and the agents' status.boot.amt, status.amt with the source of
 * each fact, the four Amt* conditions beside (never inside) Ready, the
 * Warning event when the suffix starts to mismatch, and the next transition.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { amtFacts, evaluateMachineAmt } from '../../../src/controller/amt.ts';
import { evaluateMachine } from '../../../src/controller/evaluate/machine.ts';
import type { MachineInput } from '../../../src/controller/evaluate/machine.ts';
import { amtPolicy, condition, machine, machineClass, network, withSpec, withStatus } from './builders.ts';

const FIRST_SEEN = '2026-11-23T10:00:00Z';
const CLOSES = new Date('2026-11-24T10:00:00Z');
const at = (iso: string) => new Date(iso);

const lab = network('lab', withSpec({ mode: 'dhcp', subnet: '10.0.0.0/24', dhcp: { pool: { start: '10.0.0.100', end: '10.0.0.200' }, router: '10.0.0.1', domainName: 'corp.fabrikam.com', leaseSeconds: 86400 } }));
const policy = amtPolicy('vpro-desktops', withSpec({ dnsSuffix: 'contoso.com' }));
const vpro = machineClass('vpro', 'linux', withSpec({ amtPolicy: 'vpro-desktops' }));

/** A machine the agents saw: first seen at 10:00, AMT 11.8.50 answered a probe, option 15 corp.fabrikam.com served at 10:00. */
function seen(...extra: Parameters<typeof withStatus>[0][]) {
  return machine('52:54:00:00:00:01', withSpec({ network: 'lab' }), withStatus({
    boot: {
      network: 'lab', phase: 'LocalBoot',
      amt: {
        firstSeenAt: FIRST_SEEN,
        probe: { at: '2026-11-23T10:00:05Z', address: '10.0.0.100', httpServerHeader: '11.8.50', rmcp: '11.8', provisioningState: 'pre', osAnswering: 'os', ttl: 128 },
        servedOption15: [{ value: 'corp.fabrikam.com', at: FIRST_SEEN }],
        osRequestedDomain: 'corp.fabrikam.com',
      },
    },
  }), ...extra.map((s) => withStatus(s)));
}

function input(m: ReturnType<typeof machine>, now: Date, amt: MachineInput['amt'] | 'none' = { policyName: 'vpro-desktops', policy, network: lab }): MachineInput {
  return { machine: m, network: lab, classes: [vpro], profiles: new Set(['linux']), now, ...(amt === 'none' ? {} : { amt }) };
}

test('facts come from spec.amt over the agents\' observations, each with its source', () => {
  const m = seen();
  const facts = amtFacts(m, lab);
  assert.deepEqual(facts.version, { spec: undefined, httpServerHeader: '11.8.50', rmcp: '11.8' });
  assert.deepEqual(facts.suffix?.servedOption15, [{ value: 'corp.fabrikam.com', at: at(FIRST_SEEN) }]);
  assert.deepEqual(facts.network, { name: 'lab', mode: 'dhcp', domainName: 'corp.fabrikam.com', leaseSeconds: 86400 });
  assert.deepEqual(facts.observed, { hostDhcp: true });
  const pinned = machine('52:54:00:00:00:01', withSpec({ amt: { version: '12.0.1', dnsSuffix: 'contoso.com' } }), withStatus({ amt: { firstSeenAt: '2026-11-20T00:00:00Z' } }));
  const f = amtFacts(pinned, undefined);
  assert.equal(f.version?.spec, '12.0.1');
  assert.equal(f.suffix?.spec, 'contoso.com');
  assert.deepEqual(f.firstSeen, at('2026-11-20T00:00:00Z'), 'status.amt.firstSeenAt is kept when the agents have none');
});

test('seed 004, day 1: status.amt records version and suffix with their sources, the remediation names network and deadline; Ready stays True', () => {
  const r = evaluateMachine(input(seen(), at('2026-11-23T12:00:00Z')));
  const amt = r.status.amt;
  assert.deepEqual(amt?.version, { value: '11.8.50', source: 'http-server-header' });
  assert.deepEqual(amt?.dnsSuffix, { value: 'corp.fabrikam.com', source: 'served-option15' });
  assert.equal(amt?.certificateSuffix, 'contoso.com');
  assert.equal(amt?.suffixRule, 'last-two-labels');
  assert.equal(amt?.suffixMatch, 'Mismatch');
  assert.equal(amt?.remediation?.startsWith('set option 15 on BootNetwork lab to contoso.com, then renew the lease before 2026-11-24T10:00Z'), true, amt?.remediation);
  assert.deepEqual(amt?.window, { openedAt: FIRST_SEEN, openedBy: 'first-seen', closesAt: '2026-11-24T10:00:00Z', open: true });
  assert.equal(amt?.provisioningState, 'pre');
  assert.equal(amt?.osAnswering, 'os');
  assert.deepEqual(
    ['AmtNetworkConfigValid', 'AmtDnsSuffixMatched', 'AmtProvisioningWindowOpen', 'AmtCertificateTrusted'].map((t) => [t, condition(r.status, t).status, condition(r.status, t).reason]),
    [['AmtNetworkConfigValid', 'True', 'NetworkConfigValid'], ['AmtDnsSuffixMatched', 'False', 'SuffixMismatch'], ['AmtProvisioningWindowOpen', 'True', 'WindowOpen'], ['AmtCertificateTrusted', 'Unknown', 'NoCertificate']]);
  assert.equal(condition(r.status, 'Ready').status, 'True', 'AMT never changes Ready');
  assert.equal(condition(r.status, 'Stalled').status, 'False');
  assert.deepEqual(r.amtTransition, CLOSES, 'requeue exactly when the window closes');
  const event = r.events.find((e) => e.reason === 'AmtSuffixMismatch');
  assert.equal(event?.type, 'Warning');
  assert.match(event?.message ?? '', /does not match certificate suffix contoso\.com.*to fix: set option 15 on BootNetwork lab to contoso\.com/);
});

test('the mismatch event fires on the transition only; the window closes at exactly closesAt, and a restart computes it from stored facts', () => {
  const first = evaluateMachine(input(seen(), at('2026-11-23T12:00:00Z')));
  // Stored status is the input of the next evaluation (as after a write and a watch event).
  const again = evaluateMachine(input(seen({ conditions: first.status.conditions }), at('2026-11-23T13:00:00Z')));
  assert.deepEqual(again.events.filter((e) => e.reason === 'AmtSuffixMismatch'), [], 'no second event for the same mismatch');
  const before = evaluateMachine(input(seen(), new Date(CLOSES.getTime() - 1)));
  assert.equal(condition(before.status, 'AmtProvisioningWindowOpen').status, 'True');
  // A controller that was down from day 1 to day 3: its first evaluation already says closed.
  for (const now of [CLOSES, at('2026-11-25T09:00:00Z')]) {
    const r = evaluateMachine(input(seen({ conditions: first.status.conditions }), now));
    const w = condition(r.status, 'AmtProvisioningWindowOpen');
    assert.deepEqual([w.status, w.reason], ['False', 'WindowClosed'], now.toISOString());
    assert.equal(r.status.amt?.window?.open, false);
    assert.match(r.status.amt?.remediation ?? '', /AMT's window closed at 2026-11-24T10:00Z: start a provisioning attempt/);
    assert.equal(r.amtTransition, undefined, 'nothing is due until an attempt');
  }
});

test('a Hello (attempt) reopens the window for windowHours and sets nextRetryAt; the next transition is the earlier of the two', () => {
  const m = seen({ boot: { ...seen().status?.boot, amt: { ...seen().status?.boot?.amt, hello: { at: '2026-11-25T02:00:00Z', count: 1, rootHashes: [] } } } });
  const r = evaluateMachine(input(m, at('2026-11-25T03:00:00Z')));
  assert.deepEqual(r.status.amt?.window, { openedAt: '2026-11-25T02:00:00Z', openedBy: 'attempt', closesAt: '2026-11-26T02:00:00Z', open: true });
  assert.equal(r.status.amt?.nextRetryAt, '2026-11-26T02:00:00Z');
  assert.equal(r.status.amt?.attempts, 1);
  assert.equal(condition(r.status, 'AmtProvisioningWindowOpen').status, 'True');
  assert.deepEqual(r.amtTransition, at('2026-11-26T02:00:00Z'));
  const six = amtPolicy('vpro-desktops', withSpec({ dnsSuffix: 'contoso.com', windowHours: 6 }));
  const r6 = evaluateMachine(input(m, at('2026-11-25T03:00:00Z'), { policyName: 'vpro-desktops', policy: six, network: lab }));
  assert.deepEqual(r6.amtTransition, at('2026-11-25T08:00:00Z'), '6-hour window closes before the 24-hour retry');
});

test('no policy: no status.amt and no Amt conditions; a class naming a missing policy: four Unknown NoAmtPolicy conditions naming it', () => {
  const none = evaluateMachine(input(seen(), at('2026-11-23T12:00:00Z'), 'none'));
  assert.equal(none.status.amt, undefined);
  assert.deepEqual(none.status.conditions?.filter((c) => c.type.startsWith('Amt')), []);
  assert.equal(none.amtTransition, undefined);
  const missing = evaluateMachine(input(seen({ machineClass: 'vpro' }), at('2026-11-23T12:00:00Z'), { policyName: 'gone', network: lab }));
  assert.equal(missing.status.amt, undefined);
  const amtConds = missing.status.conditions?.filter((c) => c.type.startsWith('Amt')) ?? [];
  assert.equal(amtConds.length, 4);
  for (const c of amtConds) {
    assert.deepEqual([c.status, c.reason], ['Unknown', 'NoAmtPolicy']);
    assert.match(c.message, /names AmtNetworkPolicy gone, which does not exist in namespace lab/);
  }
  // Dropping the policy again removes the conditions the controller wrote before (it owns the whole list).
  const dropped = evaluateMachine(input(seen({ conditions: missing.status.conditions }), at('2026-11-23T12:00:00Z'), 'none'));
  assert.deepEqual(dropped.status.conditions?.filter((c) => c.type.startsWith('Amt')), []);
});

test('spec.amt overrides: the MEBx suffix and version win, with source spec, and the remediation points at MEBx', () => {
  const m = seen();
  const pinned = { ...m, spec: { ...m.spec, amt: { dnsSuffix: 'sales.northwind.com', version: '2.6' } } };
  const r = evaluateMachineAmt(pinned, { policyName: 'vpro-desktops', policy, network: lab }, undefined, at('2026-11-23T12:00:00Z'));
  assert.deepEqual(r.status?.dnsSuffix, { value: 'sales.northwind.com', source: 'spec' });
  assert.deepEqual(r.status?.version, { value: '2.6', source: 'spec' });
  assert.equal(r.status?.suffixRule, 'full');
  assert.match(r.status?.remediation ?? '', /set in MEBx \(spec\.amt\.dnsSuffix\)/);
});
