/**
 * kstatus (the cli-utils rules ported in test/support/kstatus.ts) and the
 * Argo CD health checks (deploy/argocd/<Kind>/health.lua under Debian's
 * lua5.4) on objects whose status the real evaluators computed
 * (src/controller/evaluate): per kind, a healthy object is Current and
 * Healthy, one whose status lags its generation InProgress and Progressing,
 * a transiently failing one (BootNetwork: agents rolling out, a plan still
 * spreading) InProgress and Progressing, and a terminally failing one (a
 * missing reference, an invalid spec, a failed boot) Failed and Degraded.
 * No kstatus binary or Argo CD runs here; the port and the Lua scripts are
 * what those tools execute.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Kinds } from '../../src/api/v1alpha1/index.ts';
import { evaluateAmtPolicy } from '../../src/controller/evaluate/amtpolicy.ts';
import { evaluateClass } from '../../src/controller/evaluate/class.ts';
import { objectConditions } from '../../src/controller/evaluate/common.ts';
import { evaluateMachine } from '../../src/controller/evaluate/machine.ts';
import { evaluateNetwork } from '../../src/controller/evaluate/network.ts';
import type { NetworkInput } from '../../src/controller/evaluate/network.ts';
import { evaluateProfile } from '../../src/controller/evaluate/profile.ts';
import { ConditionType, Reason, isTransientReason } from '../../src/controller/reasons.ts';
import { objectAt } from '../../scripts/gen-argocd.ts';
import { REPO_ROOT } from '../support/fixtures.ts';
import { computeStatus } from '../support/kstatus.ts';
import type { KStatusResult } from '../support/kstatus.ts';
import { AGENT, NOW, amtPolicy, machine, machineClass, network, observedDaemonSet, profile, report, withGeneration, withSpec, withStatus } from '../unit/controller/builders.ts';
import { runHealthCheck } from './lua-health.ts';

type Obj = { metadata: { generation?: number }; status?: { conditions?: { type: string; status: string; reason: string; message: string }[] } } & Record<string, unknown>;

/** `object` with the evaluator's `status` written over it, as the API server would return it (JSON, no undefined). */
function written(object: object, status: object): Obj {
  const o = object as { status?: object };
  return JSON.parse(JSON.stringify({ ...o, status: { ...o.status, ...status } })) as Obj;
}

/** The same object after a spec change the controller has not evaluated yet. */
function lagging(object: Obj): Obj {
  const o = structuredClone(object);
  o.metadata.generation = (o.metadata.generation ?? 0) + 1;
  return o;
}

const GEN = withGeneration(5);

// BootNetwork ----------------------------------------------------------------
const served = withStatus({ planGeneration: 1, planDigest: 'digest-a', agentReports: [report('n1', 1), report('n2', 1)] });
const networkInput = (n: NetworkInput['network'], extra: Partial<NetworkInput> = {}): NetworkInput => ({
  network: n, daemonSet: observedDaemonSet({ desired: 2, ready: 2 }), planDigest: 'digest-a', profiles: new Set(['ubuntu']), discovered: 0, agent: AGENT, now: NOW, ...extra,
});
function evaluatedNetwork(n: NetworkInput['network'], extra: Partial<NetworkInput> = {}): Obj {
  return written(n, evaluateNetwork(networkInput(n, extra)).status);
}

// BootMachine ----------------------------------------------------------------
const lab = network('lab', withSpec({ defaultProfile: 'rescue' }));
function evaluatedMachine(m: ReturnType<typeof machine>, profiles = new Set(['ubuntu', 'rescue'])): Obj {
  return written(m, evaluateMachine({ machine: m, network: lab, classes: [machineClass('qemu', 'ubuntu')], profiles, now: NOW }).status);
}

// MachineClass, BootProfile, AmtNetworkPolicy --------------------------------
function evaluatedClass(profiles: Set<string>, ...mods: Parameters<typeof machineClass>[2][]): Obj {
  const cls = machineClass('qemu', 'ubuntu', GEN, ...mods);
  return written(cls, evaluateClass({ machineClass: cls, machines: [], profiles, amtPolicies: new Set(['corp']), now: NOW }).status);
}
function evaluatedProfile(ipxe?: Record<string, unknown>): Obj {
  const p = profile('ubuntu', GEN, ...(ipxe === undefined ? [] : [withSpec({ ipxe })]));
  return written(p, evaluateProfile({ profile: p, machines: [], now: NOW }).status);
}
function evaluatedPolicy(invalid: boolean): Obj {
  const valid = amtPolicy('corp', GEN);
  // An invalid combination never passes the schema (or the CRD's CEL rules); it arrives from
  // standalone YAML or a CRD older than the rule, so it is built past the parser.
  const p = invalid ? { ...valid, spec: { ...valid.spec, hostAddressing: 'static' as const, amtAddressing: 'dhcp' as const } } : valid;
  return written(p, evaluateAmtPolicy({ policy: p, machines: [], now: NOW }).status);
}

interface Objects {
  readonly healthy: Obj;
  /** Ready=False with a reason that clears by itself, by name. */
  readonly transient: Readonly<Record<string, Obj>>;
  /** Ready=False with a reason that needs a person, by name. */
  readonly terminal: Readonly<Record<string, Obj>>;
}

const OBJECTS: Readonly<Record<string, Objects>> = {
  BootNetwork: {
    healthy: evaluatedNetwork(network('lab', GEN, served)),
    transient: {
      'the DaemonSet does not exist yet': evaluatedNetwork(network('lab', GEN, served), { daemonSet: undefined }),
      'the DaemonSet controller lags': evaluatedNetwork(network('lab', GEN, served), { daemonSet: observedDaemonSet({ generation: 3, observedGeneration: 2, desired: 2, ready: 2 }) }),
      'no agent ready yet': evaluatedNetwork(network('lab', GEN, served), { daemonSet: observedDaemonSet({ desired: 2, ready: 0 }) }),
      'a new plan not served by every agent yet': evaluatedNetwork(network('lab', GEN, served), { planDigest: 'digest-b' }),
      'no agent has reported': evaluatedNetwork(network('lab', GEN)),
    },
    terminal: {
      'no node matches the selector': evaluatedNetwork(network('lab', GEN, served), { daemonSet: observedDaemonSet({ desired: 0, ready: 0 }) }),
      'the defaultProfile does not exist': evaluatedNetwork(network('lab', GEN, served, withSpec({ defaultProfile: 'gone' }))),
    },
  },
  BootProfile: {
    healthy: evaluatedProfile(),
    transient: {},
    terminal: { 'an unknown template field': evaluatedProfile({ kernel: 'http://x/vmlinuz', cmdline: 'ip={{ ipaddress }}' }) },
  },
  MachineClass: {
    healthy: evaluatedClass(new Set(['ubuntu'])),
    transient: {},
    terminal: {
      'its profile is missing': evaluatedClass(new Set()),
      'its AMT policy is missing': evaluatedClass(new Set(['ubuntu']), withSpec({ amtPolicy: 'gone' })),
    },
  },
  BootMachine: {
    healthy: evaluatedMachine(machine('52:54:00:12:34:56', GEN, withStatus({ boot: { network: 'lab', phase: 'ScriptServed', lastBoot: '2026-11-23T09:00:00Z' } }))),
    transient: {},
    terminal: {
      'its profile is missing': evaluatedMachine(machine('52:54:00:12:34:56', GEN), new Set(['rescue'])),
      'its last boot stopped': evaluatedMachine(machine('52:54:00:12:34:56', GEN, withStatus({ boot: { network: 'lab', phase: 'Stopped', lastBoot: '2026-11-23T09:00:00Z', stoppedReason: 'no script' } }))),
    },
  },
  AmtNetworkPolicy: {
    healthy: evaluatedPolicy(false),
    transient: {},
    terminal: { 'an invalid combination': evaluatedPolicy(true) },
  },
};

function ready(object: Obj): { status: string; reason: string; message: string } {
  const c = object.status?.conditions?.find((x) => x.type === ConditionType.Ready);
  assert.ok(c !== undefined, 'the evaluator wrote Ready');
  return c;
}

const TRANSIENT_KINDS = new Set(['BootNetwork']);

test('every kind has objects for every outcome the kind can reach', () => {
  assert.deepEqual(Object.keys(OBJECTS).sort(), Kinds.map((k) => k.kind).sort());
  for (const [kind, o] of Object.entries(OBJECTS)) {
    assert.ok(Object.keys(o.terminal).length > 0, kind);
    assert.equal(Object.keys(o.transient).length > 0, TRANSIENT_KINDS.has(kind), `${kind}: transient reasons exist only on BootNetwork`);
  }
  // All five transient reasons, reached by the real evaluator.
  assert.deepEqual(Object.values(OBJECTS['BootNetwork']!.transient).map((o) => ready(o).reason).sort(),
    [Reason.AgentsNotReady, Reason.DaemonSetPending, Reason.NoAgentReports, Reason.PlanNotServed, Reason.RollingOut].sort());
});

for (const { kind, schema } of Kinds) {
  describe(kind, () => {
    const lua = join(REPO_ROOT, 'deploy/argocd', kind, 'health.lua');
    const objects = OBJECTS[kind]!;

    test('what the evaluator writes is a valid status of the kind', () => {
      for (const o of [objects.healthy, ...Object.values(objects.transient), ...Object.values(objects.terminal)]) {
        // The healthy object's spec, so the AMT policy built past the parser still checks its status.
        schema.parse({ ...objects.healthy, status: o.status });
      }
    });

    test('healthy: Current in kstatus, Healthy in Argo CD', () => {
      const object = objects.healthy;
      assert.equal(ready(object).status, 'True');
      assert.deepEqual(computeStatus(object), { status: 'Current', message: 'Resource is current', conditions: [] });
      assert.deepEqual(runHealthCheck(lua, object), { status: 'Healthy', message: ready(object).message });
    });

    test('status lags the generation: InProgress in kstatus, Progressing in Argo CD, whatever Ready says', () => {
      for (const o of [objects.healthy, ...Object.values(objects.transient), ...Object.values(objects.terminal)]) {
        const object = lagging(o);
        const message = `${kind} generation is 6, but latest observed generation is 5`;
        assert.deepEqual(computeStatus(object), {
          status: 'InProgress', message,
          conditions: [{ type: 'Reconciling', status: 'True', reason: 'LatestGenerationNotObserved', message }],
        } satisfies KStatusResult);
        assert.deepEqual(runHealthCheck(lua, object), { status: 'Progressing', message: 'Waiting for the controller to observe generation 6 (status is for generation 5)' });
      }
    });

    for (const [name, object] of Object.entries(objects.transient)) {
      test(`transient, ${name}: InProgress in kstatus, Progressing in Argo CD`, () => {
        const { status, reason, message } = ready(object);
        assert.equal(status, 'False');
        assert.deepEqual(computeStatus(object), { status: 'InProgress', message, conditions: [{ type: 'Reconciling', status: 'True', reason, message }] });
        assert.deepEqual(runHealthCheck(lua, object), { status: 'Progressing', message: `${reason}: ${message}` });
      });
    }

    for (const [name, object] of Object.entries(objects.terminal)) {
      test(`terminal, ${name}: Failed in kstatus, Degraded in Argo CD`, () => {
        const { status, reason, message } = ready(object);
        assert.equal(status, 'False');
        assert.deepEqual(computeStatus(object), { status: 'Failed', message, conditions: [{ type: 'Stalled', status: 'True', reason, message }] });
        assert.deepEqual(runHealthCheck(lua, object), { status: 'Degraded', message: `${reason}: ${message}` });
      });
    }
  });
}

test('every reason constant as Ready\'s: kstatus and every kind\'s Argo CD check agree (InProgress/Progressing, Failed/Degraded)', () => {
  const reasons = [...Object.values(Reason).filter((r) => r !== Reason.Ready), 'SomethingNew'];
  for (const { kind } of Kinds) {
    const lua = join(REPO_ROOT, 'deploy/argocd', kind, 'health.lua');
    for (const reason of reasons) {
      const object = objectAt(kind, 3, 3, undefined) as Obj;
      const readyFalse = { type: ConditionType.Ready, status: 'False', reason, message: 'why' } as const;
      object.status = { ...object.status, conditions: objectConditions(undefined, readyFalse, [], 3, NOW) };
      const expected = isTransientReason(reason) ? ['InProgress', 'Progressing'] : ['Failed', 'Degraded'];
      assert.deepEqual([computeStatus(object).status, runHealthCheck(lua, object).status], expected, `${kind} ${reason}`);
    }
  }
});

describe('the ported rules themselves', () => {
  const READY = { type: ConditionType.Ready, status: 'True', reason: Reason.Ready, message: 'in effect' } as const;

  test('no status yet: kstatus cannot tell and says Current (Argo CD says Progressing)', () => {
    // checkGeneration skips the comparison when status.observedGeneration is absent.
    assert.equal(computeStatus(objectAt('BootNetwork', 1, undefined, undefined)).status, 'Current');
  });

  test('Ready=False alone does not change kstatus: only Reconciling and Stalled do (why the controller writes them)', () => {
    const failing = objectAt('BootNetwork', 2, 2, { type: 'Ready', status: 'False', reason: Reason.NoNodes, message: 'no node matches' });
    assert.equal(computeStatus(failing).status, 'Current');
    const status = failing['status'] as { conditions: object[] };
    status.conditions.push({ type: 'Stalled', status: 'True', reason: Reason.NoNodes, message: 'no node matches' });
    assert.deepEqual(computeStatus(failing), { status: 'Failed', message: 'no node matches', conditions: [{ type: 'Stalled', status: 'True', reason: Reason.NoNodes, message: 'no node matches' }] });
    status.conditions.unshift({ type: 'Reconciling', status: 'True', reason: 'RollingOut', message: 'agents updating' });
    assert.equal(computeStatus(failing).status, 'InProgress');
  });

  test('deletionTimestamp wins over everything: Terminating', () => {
    const object = objectAt('BootMachine', 3, 2, READY);
    (object['metadata'] as Record<string, unknown>)['deletionTimestamp'] = '2026-01-10T12:00:00Z';
    assert.equal(computeStatus(object).status, 'Terminating');
  });

  test('a non-integer generation is an error, as NestedInt64 makes it', () => {
    const object = objectAt('BootProfile', 2, 2, READY);
    (object['metadata'] as Record<string, unknown>)['generation'] = '2';
    assert.throws(() => computeStatus(object), /metadata\.generation .* is not an integer/);
  });

  test('built-in kinds are refused, not guessed', () => {
    assert.throws(() => computeStatus({ apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'x' } }), /apps\/DaemonSet .* not ported/);
  });
});
