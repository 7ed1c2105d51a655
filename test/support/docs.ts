/**
 * What the docs tests read from the repository: the Markdown pages under
 * docs/, their fenced code blocks, and the field paths of each kind's schema
 * (from the same JSON Schema the CRDs are generated from).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { crdFor } from '../../src/api/crd.ts';
import type { KindDefinition } from '../../src/api/v1alpha1/index.ts';
import { REPO_ROOT } from './fixtures.ts';

export const DOCS_DIR = join(REPO_ROOT, 'docs');

/** Every .md file under docs/, as a path relative to the repository root. */
export function docPages(dir = DOCS_DIR): string[] {
  return readdirSync(dir).sort().flatMap((entry) => {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) return docPages(p);
    return entry.endsWith('.md') ? [relative(REPO_ROOT, p)] : [];
  });
}

/** A fenced code block: its info string (```yaml -> "yaml"), text, and the line its fence opens on (1-based). */
export interface CodeBlock {
  readonly lang: string;
  readonly text: string;
  readonly line: number;
}

/** The fenced code blocks of a Markdown text (``` fences only; an unclosed fence is an error). */
export function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\S*)\s*$/.exec(lines[i] ?? '');
    if (open === null) continue;
    const indent = open[1] ?? '';
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i] ?? ''); i++) body.push((lines[i] ?? '').slice(indent.length));
    if (i >= lines.length) throw new Error(`code fence opened on line ${start + 1} is never closed`);
    blocks.push({ lang: open[2] ?? '', text: body.join('\n') + '\n', line: start + 1 });
  }
  return blocks;
}

export function readPage(page: string): string {
  return readFileSync(join(REPO_ROOT, page), 'utf8');
}

type JsonSchema = { readonly [key: string]: unknown };

/**
 * Every field path of a kind's spec and status, as the docs write them:
 * `spec.dhcp.pool.start`, `spec.tolerations[].key`. Maps (labels,
 * counters) are leaves.
 */
export function fieldPaths(def: KindDefinition): string[] {
  const crd = crdFor(def) as { spec: { versions: { schema: { openAPIV3Schema: JsonSchema } }[] } };
  const root = crd.spec.versions[0]?.schema.openAPIV3Schema;
  const props = (root?.['properties'] ?? {}) as Record<string, JsonSchema>;
  const out: string[] = [];
  const walk = (node: JsonSchema, path: string) => {
    for (const [key, child] of Object.entries((node['properties'] ?? {}) as Record<string, JsonSchema>)) {
      const p = `${path}.${key}`;
      out.push(p);
      walk(child, p);
    }
    const items = node['items'] as JsonSchema | undefined;
    if (items !== undefined) walk(items, `${path}[]`);
  };
  for (const top of ['spec', 'status']) {
    const node = props[top];
    if (node !== undefined) walk(node, top);
  }
  return out;
}
