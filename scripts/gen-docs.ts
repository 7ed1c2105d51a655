/**
 * Generates docs/conditions.md from the constants and their one-line doc
 * comments in src/controller/reasons.ts and src/amt/reasons.ts, so the page
 * lists exactly the condition types and reasons the code writes.
 *
 *   node scripts/gen-docs.ts           rewrite docs/conditions.md
 *   node scripts/gen-docs.ts --check   exit 1 if it is out of date
 *
 * test/unit/docs/conditions.test.ts fails when the page drifts, and checks
 * that the parse below finds every constant the modules export.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

/** One constant of a `export const X = { ... } as const` table with its doc comment. */
export interface DocumentedConstant {
  readonly key: string;
  readonly value: string;
  readonly comment: string;
}

/**
 * The entries of the const table `name` in `source`, in source order. Each
 * entry must be preceded by a one-line doc comment (test/unit/controller/reasons.test.ts
 * enforces that for the controller's tables).
 */
export function constTable(source: string, name: string): DocumentedConstant[] {
  const body = new RegExp(`export const ${name} = \\{\\n([\\s\\S]*?)\\n\\} as const;`).exec(source)?.[1];
  if (body === undefined) throw new Error(`no "export const ${name} = { ... } as const" table`);
  return [...body.matchAll(/\/\*\* (.+?) \*\/\n\s+(\w+): '([^']+)',/g)].map((m) => ({ comment: m[1] ?? '', key: m[2] ?? '', value: m[3] ?? '' }));
}

/** The tables the page lists: file, const name, and the section they go in. */
export const TABLES = [
  { file: 'src/controller/reasons.ts', name: 'ConditionType' },
  { file: 'src/controller/reasons.ts', name: 'Reason' },
  { file: 'src/controller/reasons.ts', name: 'EventReason' },
  { file: 'src/amt/reasons.ts', name: 'AmtConditionType' },
  { file: 'src/amt/reasons.ts', name: 'AmtReason' },
] as const;

const cell = (s: string) => s.replaceAll('|', '\\|');

/** "AgentsReady=False: some agents ..." -> ["AgentsReady=False", "some agents ..."]; no prefix -> ["", comment]. */
function split(comment: string): [string, string] {
  const i = comment.indexOf(': ');
  return i < 0 ? ['', comment] : [comment.slice(0, i), comment.slice(i + 2)];
}

function tableOf(rows: readonly DocumentedConstant[], header: readonly [string, string, string]): string {
  const lines = [`| ${header.join(' | ')} |`, '|---|---|---|'];
  for (const r of rows) {
    const [where, what] = split(r.comment);
    lines.push(`| \`${r.value}\` | ${cell(where)} | ${cell(what)} |`);
  }
  return lines.join('\n');
}

/** The text of docs/conditions.md. */
export function conditionsPage(root = ROOT): string {
  const read = (file: string) => readFileSync(join(root, file), 'utf8');
  const t = Object.fromEntries(TABLES.map(({ file, name }) => [name, constTable(read(file), name)])) as Record<(typeof TABLES)[number]['name'], DocumentedConstant[]>;
  const amtTypes = t.AmtConditionType.map((c) => ({ ...c, comment: `BootMachine: ${c.comment}` }));
  return `<!-- Generated from src/controller/reasons.ts and src/amt/reasons.ts by \`npm run generate\` (scripts/gen-docs.ts). Do not edit. -->
# Conditions, reasons and events

Every netboot object has \`status.conditions\`: one entry per condition type,
each with \`status\` (True, False or Unknown), a CamelCase \`reason\` from the
tables below, a \`message\` written for people, \`lastTransitionTime\` (when
\`status\` last changed, not when it was last written) and
\`observedGeneration\`.

- \`Ready\` summarises the others. When one of them is False, Ready is False
  with that condition's reason and message, so
  \`kubectl get <kind> -o wide\` shows why in its Reason column. Unknown does
  not make Ready False (a machine that never booted is Ready).
- A condition whose \`observedGeneration\` is lower than
  \`metadata.generation\` describes an older spec: the controller has not
  caught up yet. Argo CD and kstatus read that as "progressing".
- \`Reconciling\` and \`Stalled\` restate Ready for kstatus-based tools:
  Ready False with a transient reason (marked below) sets Reconciling True,
  any other False reason sets Stalled True. Both stay present (False) on a
  healthy object, so \`kubectl wait --for=condition=Stalled=False\` works.
- Reasons are API: alerts, \`kubectl wait\` and the Argo CD health checks
  match on them. They only ever gain members.

\`\`\`sh
kubectl wait --for=condition=Ready bootnetwork/lab --timeout=5m
kubectl get bootmachines -o wide           # Ready reason of every machine
kubectl get bm 52-54-00-12-34-56 -o jsonpath='{.status.conditions[?(@.type=="BootHealthy")].message}'
\`\`\`

## Condition types

| Type | On | Means when True |
|---|---|---|
${tableOf([...t.ConditionType, ...amtTypes], ['Type', 'On', 'Means when True']).split('\n').slice(2).join('\n')}

The four \`Amt*\` conditions come from the AMT evaluation (src/amt) and
apply to BootMachines whose MachineClass names an AmtNetworkPolicy.

## Reasons

The second column names the condition and status each reason goes with.

${tableOf(t.Reason, ['Reason', 'Condition', 'Meaning'])}

### AMT reasons

${tableOf(t.AmtReason, ['Reason', 'Condition', 'Meaning'])}

## Event reasons

Events go on the object they are about (\`kubectl describe\`,
\`kubectl get events --field-selector involvedObject.name=<name>\`). A
repeat of the same event within a short window bumps its count instead of
creating a new one.

${tableOf(t.EventReason, ['Reason', 'Type, object', 'Meaning'])}
`;
}

/** Generated docs pages: path relative to the root -> content. */
export function docsFiles(root = ROOT): Map<string, string> {
  return new Map([['docs/conditions.md', conditionsPage(root)]]);
}
