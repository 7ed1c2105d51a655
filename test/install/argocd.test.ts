/**
 * The Argo CD health checks under deploy/argocd run with Debian's lua5.4 on
 * the cases of each kind's health_test.yaml (Argo CD's own test format), and
 * agree with the argocd-cm patch and the example Application.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { Kinds } from '../../src/api/v1alpha1/index.ts';
import { Reason, TransientReasons } from '../../src/controller/reasons.ts';
import { REPO_ROOT } from '../support/fixtures.ts';
import { objectAt } from '../../scripts/gen-argocd.ts';
import { luaLiteral, runHealthCheck } from './lua-health.ts';

const DIR = join(REPO_ROOT, 'deploy/argocd');

interface HealthTests {
  tests: { healthStatus: { status: string; message: string }; inputPath: string }[];
}

test('the Lua literal carries strings byte for byte and keeps arrays 1-based', () => {
  const text = 'quote " backslash \\ newline \n tab \t unicode – ü {{ mac }}';
  const object = { metadata: { name: text, generation: 7 }, status: { conditions: [{ type: 'A' }, { type: 'Ready', message: text }] } };
  const luaFile = join(DIR, 'BootNetwork/health.lua');
  // Through a real check: the Ready message (second list entry) comes back unchanged.
  const ready = { ...object, status: { observedGeneration: 7, conditions: [{ type: 'A' }, { type: 'Ready', status: 'True', reason: 'Ready', message: text }] } };
  assert.deepEqual(runHealthCheck(luaFile, ready), { status: 'Healthy', message: text });
  assert.equal(luaLiteral([1, 2.5, null, true]), '{1, 2.5, nil, true}');
});

for (const kind of Kinds.map((k) => k.kind)) {
  describe(`${kind} health check`, () => {
    const dir = join(DIR, kind);
    const spec = parse(readFileSync(join(dir, 'health_test.yaml'), 'utf8')) as HealthTests;

    test('health_test.yaml covers every file in testdata/', () => {
      const used = spec.tests.map((t) => t.inputPath).sort();
      assert.deepEqual(used, readdirSync(join(dir, 'testdata')).map((f) => `testdata/${f}`).sort());
      assert.ok(['Healthy', 'Progressing', 'Degraded'].every((s) => spec.tests.some((t) => t.healthStatus.status === s)), 'each outcome is covered');
    });

    for (const t of spec.tests) {
      test(`${t.inputPath} is ${t.healthStatus.status}`, () => {
        const object = parse(readFileSync(join(dir, t.inputPath), 'utf8')) as unknown;
        assert.deepEqual(runHealthCheck(join(dir, 'health.lua'), object), t.healthStatus);
      });
    }

    test('every reason in TransientReasons (src/controller/reasons.ts) is Progressing; a terminal one Degraded', () => {
      for (const reason of TransientReasons) {
        const object = objectAt(kind, 4, 4, { type: 'Ready', status: 'False', reason, message: 'clears by itself' });
        assert.deepEqual(runHealthCheck(join(dir, 'health.lua'), object), { status: 'Progressing', message: `${reason}: clears by itself` }, reason);
      }
      const stalled = objectAt(kind, 4, 4, { type: 'Ready', status: 'False', reason: Reason.ProfileNotFound, message: 'needs a person' });
      assert.deepEqual(runHealthCheck(join(dir, 'health.lua'), stalled), { status: 'Degraded', message: 'ProfileNotFound: needs a person' });
    });

    test('a Ready=False reason it does not know is Degraded, never an endless Progressing', () => {
      const object = objectAt(kind, 4, 4, { type: 'Ready', status: 'False', reason: 'SomethingNew', message: 'added after this check' });
      assert.deepEqual(runHealthCheck(join(dir, 'health.lua'), object), { status: 'Degraded', message: 'SomethingNew: added after this check' });
    });
  });
}

test('every transient reason is a reason the controller writes, and each check lists exactly them', () => {
  const known = new Set<string>(Object.values(Reason));
  for (const r of TransientReasons) assert.ok(known.has(r), `${r} is not in src/controller/reasons.ts`);
  for (const { kind } of Kinds) {
    const lua = readFileSync(join(DIR, kind, 'health.lua'), 'utf8');
    const table = /local transient = \{\n([\s\S]*?)\n\}/.exec(lua)?.[1] ?? '';
    assert.deepEqual([...table.matchAll(/^ {2}(\w+) = true,$/gm)].map((m) => m[1]), [...TransientReasons], kind);
  }
});

test('the five checks are one script: they differ only in the kind their header names', () => {
  const body = (kind: string) => readFileSync(join(DIR, kind, 'health.lua'), 'utf8').replaceAll(kind, '<Kind>');
  for (const { kind } of Kinds) assert.equal(body(kind), body('BootNetwork'), kind);
});

test('argocd-cm.yaml installs exactly the health.lua files, one key per kind', () => {
  const patch = parse(readFileSync(join(DIR, 'argocd-cm.yaml'), 'utf8')) as { data: Record<string, string> };
  assert.deepEqual(Object.keys(patch).sort(), ['data']);
  assert.deepEqual(Object.keys(patch.data).sort(), Kinds.map((k) => `resource.customizations.health.netboot.dev_${k.kind}`).sort());
  for (const kind of Kinds) assert.equal(patch.data[`resource.customizations.health.netboot.dev_${kind.kind}`], readFileSync(join(DIR, kind.kind, 'health.lua'), 'utf8'));
});

test('the example Application syncs the chart with server-side apply', () => {
  const app = parse(readFileSync(join(DIR, 'application.yaml'), 'utf8')) as {
    kind: string; spec: { source: { path: string; helm: { releaseName: string } }; destination: { namespace: string }; syncPolicy: { syncOptions: string[] } };
  };
  assert.equal(app.kind, 'Application');
  assert.equal(app.spec.source.path, 'charts/netboot-operator');
  assert.ok(app.spec.syncPolicy.syncOptions.includes('ServerSideApply=true'));
  assert.ok(app.spec.syncPolicy.syncOptions.includes('CreateNamespace=true'));
  assert.equal(app.spec.destination.namespace, 'netboot-system');
});
