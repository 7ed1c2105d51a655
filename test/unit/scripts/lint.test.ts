import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../support/fixtures.ts';

function lint(files: Record<string, string>): { code: number | null; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'netboot-lint-'));
  try {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/lint.ts'), dir], { encoding: 'utf8' });
    return { code: r.status, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the lint passes a tree that follows the import directions', () => {
  const r = lint({ 'src/protocol/a.ts': 'export const a = 1;\n', 'src/boot/b.ts': "import { a } from '../protocol/a.ts';\nexport const b = a;\n" });
  assert.equal(r.code, 0, r.stderr);
});

test('the lint rejects each forbidden direction and extensionless imports', () => {
  const r = lint({
    'src/protocol/a.ts': "import { e } from '../errors.ts';\nexport const a = e;\n",
    'src/errors.ts': 'export const e = 1;\n',
    'src/agent/x.ts': "import { y } from '../controller/y.ts';\nexport const x = y;\n",
    'src/controller/y.ts': "import { x } from '../agent/x';\nexport const y = 2;\n",
    'src/boot/c.ts': 'export enum Mode { A }\n',
  });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /src\/protocol\/a\.ts: src\/protocol must not import src\/errors\.ts/);
  assert.match(r.stderr, /src\/agent\/x\.ts: src\/agent must not import src\/controller/);
  assert.match(r.stderr, /src\/controller\/y\.ts: import "\.\.\/agent\/x" must name the \.ts file/);
  assert.match(r.stderr, /src\/controller\/y\.ts: src\/controller must not import src\/agent/);
  assert.match(r.stderr, /src\/boot\/c\.ts: enums are not erasable syntax/);
});
