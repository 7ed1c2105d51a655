/**
 * Writes every generated file from its source of truth (see
 * generated-files.ts: CRDs, the chart's generated parts, dist/install.yaml,
^ * the Argo CD health checks, docs/conditions.md). With --check, writes nothing and exits 1
 * listing the files that drifted, so CI fails when someone edits a source
 * without regenerating. Rendering dist/install.yaml extracts the helm binary
 * from the dev dependencies on first use (test/support/helm.ts).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { generatedFiles } from './generated-files.ts';

const root = resolve(import.meta.dirname, '..');
const check = process.argv.includes('--check');
const drifted: string[] = [];
for (const [path, content] of generatedFiles()) {
  const file = join(root, path);
  const current = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  if (current === content) continue;
  if (check) drifted.push(path);
  else {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
    console.log(`wrote ${path}`);
  }
}
if (drifted.length > 0) {
  console.error(`generated files drifted from their sources; run \`npm run generate\` and commit:\n  ${drifted.join('\n  ')}`);
  process.exit(1);
}
