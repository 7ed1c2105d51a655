/**
 * Writes every generated file from its source of truth: crds/*.yaml from the
 * zod schemas. With --check, writes nothing and exits 1 listing the files that
 * drifted, so CI fails when someone edits a schema without regenerating.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
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
    writeFileSync(file, content);
    console.log(`wrote ${path}`);
  }
}
if (drifted.length > 0) {
  console.error(`generated files drifted from their sources; run \`npm run generate\` and commit:\n  ${drifted.join('\n  ')}`);
  process.exit(1);
}
