/** `netboot validate -f PATH...`: checks resources with the schemas the CRDs come from. */
import { loadResources } from '../api/load.ts';
import { isNetbootError } from '../errors.ts';
import { fileArgs, readResourceTexts } from './files.ts';

export function runValidate(args: readonly string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): number {
  const paths = fileArgs(args);
  if (paths.length === 0) {
    err.write('usage: netboot validate -f FILE|DIR [-f ...]\n');
    return 2;
  }
  try {
    const result = loadResources(readResourceTexts(paths));
    for (const r of result.resources) out.write(`ok       ${r.kind}/${r.name} (${r.source.split(',')[0]})\n`);
    for (const p of result.problems) err.write(`invalid  ${p.code} ${p.source}: ${p.message}\n`);
    out.write(`${result.resources.length} valid, ${result.problems.length} problem(s)\n`);
    return result.problems.length === 0 ? 0 : 1;
  } catch (e) {
    if (!isNetbootError(e)) throw e;
    err.write(`${String(e)}\n`);
    return 1;
  }
}
