/**
 * docs/metrics.md and docs/grafana-dashboard.json against the code: every
 * metric registered in src/ (`name: 'netboot_...'`) has a row in the
 * reference listing its labels, neither file names a metric that does not
 * exist, and every dashboard query uses only real metrics and labels.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Registry } from 'prom-client';
import { createControllerMetrics } from '../../../src/controller/metrics.ts';
import { createAgentMetrics } from '../../../src/observability/metrics.ts';
import { REPO_ROOT } from '../../support/fixtures.ts';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Metric names registered in the source, with the file that registers each. */
const registered = new Map<string, string>();
for (const file of sources(join(REPO_ROOT, 'src'))) {
  for (const m of readFileSync(file, 'utf8').matchAll(/\bname: '(netboot_[a-z0-9_]+)'/g)) registered.set(m[1] ?? '', relative(REPO_ROOT, file));
}

/** What the processes really expose, default process metrics included: name -> type and label names. */
const exposed = new Map<string, { type: string; labels: string[] }>();
async function readRegistry(registry: Registry): Promise<void> {
  for (const m of await registry.getMetricsAsJSON()) {
    const metric = registry.getSingleMetric(m.name) as unknown as { labelNames?: string[] } | undefined;
    exposed.set(m.name, { type: String(m.type), labels: [...(metric?.labelNames ?? [])] });
  }
}
await readRegistry(createAgentMetrics().registry);
await readRegistry(createControllerMetrics().registry);

/** A series name as it appears in PromQL: a metric, or a histogram's _bucket/_sum/_count series. */
function metricOf(series: string): string | undefined {
  if (exposed.has(series) || registered.has(series)) return series;
  const base = /^(.+)_(bucket|sum|count)$/.exec(series)?.[1];
  return base !== undefined && exposed.get(base)?.type === 'histogram' ? base : undefined;
}

const doc = readFileSync(join(REPO_ROOT, 'docs/metrics.md'), 'utf8');

test('the source registers metrics and the processes expose them', () => {
  assert.ok(registered.size >= 15, `found only ${registered.size} metrics in src/`);
  for (const [name, file] of registered) assert.ok(exposed.has(name), `${name} (${file}) is not in the agent or controller registry`);
});

test('docs/metrics.md has a row for every registered metric, with its type and labels', () => {
  for (const name of registered.keys()) {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
    assert.ok(row !== undefined, `docs/metrics.md has no row for ${name} (registered in ${registered.get(name) ?? '?'})`);
    const cells = row.split(' | ');
    const info = exposed.get(name);
    if (info === undefined) continue;
    assert.equal(cells[1], info.type, `${name}: type`);
    const labels = [...(cells[2] ?? '').matchAll(/`(\w+)`/g)].map((m) => m[1]);
    assert.deepEqual(labels.sort(), [...info.labels].sort(), `${name}: labels`);
  }
});

test('docs/metrics.md names no metric that does not exist', () => {
  const unknown = [...new Set([...doc.matchAll(/\bnetboot_[a-z0-9_]*[a-z0-9]\b/g)].map((m) => m[0]))]
    .filter((n) => metricOf(n) === undefined && n !== 'netboot_agent' && n !== 'netboot_controller');
  assert.deepEqual(unknown, []);
});

type Panel = { id?: number; type?: string; title?: string; gridPos?: unknown; panels?: Panel[]; targets?: { expr?: string; refId?: string }[] };
const dashboard = JSON.parse(readFileSync(join(REPO_ROOT, 'docs/grafana-dashboard.json'), 'utf8')) as { uid?: string; title?: string; schemaVersion?: number; panels?: Panel[]; templating?: { list?: { name?: string; type?: string }[] } };
const panels: Panel[] = (dashboard.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
const queries = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title ?? '?', expr: t.expr ?? '' })));

/** Labels every scraped series may carry besides its own (Prometheus target labels) and PromQL's le. */
const TARGET_LABELS = ['instance', 'job', 'namespace', 'pod', 'container', 'endpoint', 'service', 'node', 'le'];

test('the dashboard is a Grafana dashboard with a data source variable and unique panel ids', () => {
  assert.equal(typeof dashboard.uid, 'string');
  assert.equal(typeof dashboard.title, 'string');
  assert.ok((dashboard.schemaVersion ?? 0) >= 30);
  assert.ok(dashboard.templating?.list?.some((v) => v.name === 'datasource' && v.type === 'datasource'));
  const ids = panels.map((p) => p.id);
  assert.equal(new Set(ids).size, ids.length, 'panel ids must be unique');
  for (const p of panels) assert.ok(p.gridPos !== undefined, `panel ${p.title ?? '?'} has no gridPos`);
  assert.ok(queries.length >= 15);
});

test('every dashboard query uses only metrics and labels that exist', () => {
  for (const { panel, expr } of queries) {
    const series = [...expr.matchAll(/\b(netboot_[a-z0-9_]+)/g)].map((m) => m[1] ?? '');
    assert.ok(series.length > 0, `${panel}: ${expr} uses no netboot metric`);
    const labels = new Set(TARGET_LABELS);
    for (const s of series) {
      const metric = metricOf(s);
      assert.ok(metric !== undefined, `${panel}: ${s} does not exist`);
      for (const l of exposed.get(metric)?.labels ?? []) labels.add(l);
    }
    // Label matchers ({result="x"}) and grouping clauses (by (kind, result)).
    const used = [
      ...[...expr.matchAll(/\{([^}]*)\}/g)].flatMap((m) => [...(m[1] ?? '').matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1] ?? '')),
      ...[...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) => (m[1] ?? '').split(',').map((l) => l.trim()).filter((l) => l !== '')),
    ];
    for (const l of used) assert.ok(labels.has(l), `${panel}: label ${l} is not a label of ${series.join(', ')}`);
    for (const [open, close] of [['(', ')'], ['{', '}'], ['[', ']']] as const) {
      assert.equal(expr.split(open).length, expr.split(close).length, `${panel}: unbalanced ${open}${close} in ${expr}`);
    }
  }
});

test('the dashboard shows every metric the code registers', () => {
  const shown = new Set(queries.flatMap(({ expr }) => [...expr.matchAll(/\b(netboot_[a-z0-9_]+)/g)].map((m) => metricOf(m[1] ?? ''))));
  const missing = [...registered.keys()].filter((n) => !shown.has(n));
  assert.deepEqual(missing, [], 'add a panel for each new metric to docs/grafana-dashboard.json');
});
