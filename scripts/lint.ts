/**
 * The project's lint: the import directions of STYLE.md, which no
 * off-the-shelf rule set knows, plus the conventions Node's type stripping
 * needs. Prints one line per violation and exits 1 if there is any.
 *
 * - src/protocol imports nothing else from src.
 * - src/boot and src/amt import only protocol, api and errors.ts.
 * - src/api imports only api and errors.ts.
 * - src/kube (informers, queues, leader election, apply) imports api, errors and observability.
 * - src/agent and src/controller never import each other.
 * - nothing outside src/cli imports src/cli (only the composition root wires).
 * - relative imports name the .ts file; no default-exported classes of state.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

// The tree to check: this repository, or another root (the lint's own test uses one).
const root = resolve(process.argv[2] ?? join(import.meta.dirname, '..'));
const src = join(root, 'src');

/** Layer -> layers it may import (besides itself). `errors` is src/errors.ts. */
const allowed: Record<string, readonly string[] | 'any'> = {
  protocol: [],
  api: ['errors'],
  boot: ['protocol', 'api', 'errors'],
  amt: ['protocol', 'api', 'errors'],
  kube: ['api', 'errors', 'observability'],
  store: ['api', 'errors', 'protocol', 'boot', 'amt', 'observability', 'kube'],
  observability: ['errors'],
  agent: ['protocol', 'api', 'errors', 'boot', 'amt', 'store', 'observability'],
  controller: ['protocol', 'api', 'errors', 'boot', 'amt', 'store', 'observability', 'kube'],
  cli: 'any',
  errors: [],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function layerOf(file: string): string {
  const rel = relative(src, file);
  if (rel === 'errors.ts') return 'errors';
  return rel.split('/')[0] ?? '';
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
const problems: string[] = [];

for (const file of files(src)) {
  const text = readFileSync(file, 'utf8');
  const from = layerOf(file);
  const rules = allowed[from];
  const where = relative(root, file);
  if (rules === undefined) problems.push(`${where}: src/${from}/ is not a layer of STYLE.md's layout; add it to scripts/lint.ts with its allowed imports`);
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? '';
    if (!spec.startsWith('.')) continue;
    if (!spec.endsWith('.ts') && !spec.endsWith('.json')) problems.push(`${where}: import "${spec}" must name the .ts file (Node strips types, it does not resolve extensions)`);
    const target = resolve(dirname(file), spec);
    if (!target.startsWith(src + '/')) continue;
    const to = layerOf(target);
    if (to === from || rules === 'any') continue;
    if (rules === undefined || !rules.includes(to)) problems.push(`${where}: src/${from} must not import src/${to === 'errors' ? 'errors.ts' : to} ("${spec}")`);
  }
  if (/^\s*(?:export\s+)?(?:const\s+)?enum\s/m.test(text)) problems.push(`${where}: enums are not erasable syntax; use a const object or a union`);
}

if (problems.length > 0) {
  console.error(problems.join('\n'));
  console.error(`lint: ${problems.length} problem(s)`);
  process.exit(1);
}
console.log('lint: import directions and conventions ok');
