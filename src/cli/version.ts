/** `netboot version`: the package version and the API it serves. */
import { readFileSync } from 'node:fs';
import { API_VERSION } from '../api/v1alpha1/index.ts';

/** The version from package.json, read once. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function runVersion(out: NodeJS.WritableStream = process.stdout): number {
  out.write(`netboot ${packageVersion()} (${API_VERSION}, node ${process.versions.node})\n`);
  return 0;
}
