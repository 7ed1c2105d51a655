/** Reads test fixtures: invalid resources with their expected messages, and the examples. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');

/** An invalid resource and the message each validator must give. */
export interface InvalidFixture {
  readonly name: string;
  readonly path: string;
  readonly text: string;
  readonly expect: string;
  readonly expectStandalone: string;
}

export function invalidFixtures(): InvalidFixture[] {
  const dir = join(REPO_ROOT, 'test/fixtures/invalid');
  return readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().map((f) => {
    const text = readFileSync(join(dir, f), 'utf8');
    const header = (key: string) => text.match(new RegExp(`^# ${key}: (.+)$`, 'm'))?.[1]?.trim();
    const expect = header('expect');
    if (expect === undefined) throw new Error(`${f} has no "# expect:" line`);
    return { name: f.replace(/\.yaml$/, ''), path: join(dir, f), text, expect, expectStandalone: header('expect-standalone') ?? expect };
  });
}

/** Every YAML file under examples/, relative path and text. */
export function exampleFiles(): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir).sort()) {
      const p = join(dir, entry);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(entry)) out.push({ file: relative(REPO_ROOT, p), text: readFileSync(p, 'utf8') });
    }
  };
  walk(join(REPO_ROOT, 'examples'));
  return out;
}
