/** Reads resource YAML from the files and directories given with -f. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Errors, NetbootError } from '../errors.ts';
import type { ResourceText } from '../api/load.ts';

/** Every .yaml/.yml file named, directories walked recursively in name order. */
export function readResourceTexts(paths: readonly string[]): ResourceText[] {
  const out: ResourceText[] = [];
  const visit = (path: string) => {
    let stat;
    try {
      stat = statSync(path);
    } catch (err) {
      throw new NetbootError(Errors.ResourceFileUnreadable, `cannot read ${path}: ${(err as Error).message}`, { cause: err });
    }
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path).sort()) {
        const child = join(path, entry);
        if (statSync(child).isDirectory() || /\.ya?ml$/.test(entry)) visit(child);
      }
    } else {
      out.push({ file: path, text: readFileSync(path, 'utf8') });
    }
  };
  paths.forEach(visit);
  return out;
}

/** The values of every `-f X` / `--filename X` / `-f=X` in args. */
export function fileArgs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '-f' || a === '--filename') out.push(args[++i] ?? '');
    else if (a.startsWith('-f=') || a.startsWith('--filename=')) out.push(a.slice(a.indexOf('=') + 1));
  }
  return out.filter((p) => p !== '');
}
