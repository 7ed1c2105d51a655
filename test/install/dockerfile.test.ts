/**
 * There is no Docker engine here, so this test replays the Dockerfile on the
 * file system: each stage gets a directory standing for its root, COPY
 * copies from a clean build context (the files git knows, minus
 * .dockerignore) or from an earlier stage, RUN npm ... runs for real (from
 * the local npm cache), and the final stage's ENTRYPOINT + CMD runs
 * `netboot version` in the result. A COPY of a missing path, a runtime
 * import of something the image lacks (a dev dependency, a file under
 * scripts/ or test/) or a broken entry point fails here.
 *
 * The apt-get/setcap step cannot run without the image's Debian root; its
 * content is asserted instead, and capabilities.test.ts checks what the
 * setcap'd node binary does under the pod security contexts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { REPO_ROOT } from '../support/fixtures.ts';

/** One Dockerfile instruction, continuation lines joined. */
interface Instruction {
  readonly op: string;
  readonly args: string;
  readonly line: number;
}

/** Parses a Dockerfile into instructions (comments and blank lines dropped, `\` continuations joined). */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i] ?? '';
    if (/^\s*(#|$)/.test(line)) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      i++;
      const next = lines[i] ?? '';
      if (/^\s*#/.test(next)) continue;
      line = `${line.slice(0, -1)} ${next.trim()}`;
    }
    const m = /^\s*(\w+)\s+(.*)$/.exec(line);
    if (m === null) throw new Error(`Dockerfile line ${start + 1}: cannot parse "${line}"`);
    out.push({ op: (m[1] ?? '').toUpperCase(), args: (m[2] ?? '').trim(), line: start + 1 });
  }
  return out;
}

/** .dockerignore patterns as Docker applies them: relative to the context root, a match also excludes everything below. */
function ignoreMatcher(text: string): (path: string) => boolean {
  const patterns = text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  if (patterns.some((p) => p.startsWith('!'))) throw new Error('.dockerignore exceptions (!) are not supported by this test');
  const regexps = patterns.map((p) => new RegExp(`^${p.replace(/^\/+/, '').replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*/g, '\u0000').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]').replace(/\u0000/g, '.*')}(/.*)?$`));
  return (path) => regexps.some((r) => r.test(path));
}

const dockerfile = parseDockerfile(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'));
let work: string;
let context: string;
let finalRoot: string;
let finalWorkdir: string;
const skippedRuns: string[] = [];

before(() => {
  work = mkdtempSync(join(tmpdir(), 'netboot-docker-'));
  context = join(work, 'context');
  // The build context of a fresh clone: tracked and new (not ignored) files, minus .dockerignore.
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: REPO_ROOT, encoding: 'utf8' }).split('\0').filter((p) => p !== '');
  const ignored = ignoreMatcher(readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8'));
  for (const path of listed) {
    if (ignored(path) || !existsSync(join(REPO_ROOT, path))) continue;
    mkdirSync(dirname(join(context, path)), { recursive: true });
    cpSync(join(REPO_ROOT, path), join(context, path));
  }

  const stages = new Map<string, { root: string; workdir: string }>();
  let current: { root: string; workdir: string } | undefined;
  for (const ins of dockerfile) {
    const where = `Dockerfile line ${ins.line}`;
    if (ins.op === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      current = { root: join(work, `stage-${stages.size}`), workdir: '/' };
      mkdirSync(current.root);
      stages.set(m?.[2] ?? String(stages.size), current);
      continue;
    }
    if (current === undefined) throw new Error(`${where}: ${ins.op} before FROM`);
    const stage = current;
    const inStage = (p: string) => join(stage.root, resolve(stage.workdir, p));
    if (ins.op === 'WORKDIR') {
      stage.workdir = resolve(stage.workdir, ins.args);
      mkdirSync(inStage('.'), { recursive: true });
    } else if (ins.op === 'COPY') {
      const parts = ins.args.split(/\s+/);
      const from = parts[0]?.startsWith('--from=') === true ? parts.shift()?.slice('--from='.length) : undefined;
      const dest = parts.pop() ?? '';
      const source = from === undefined ? { root: context, workdir: '/' } : stages.get(from);
      if (source === undefined) throw new Error(`${where}: no stage named ${from}`);
      for (const src of parts) {
        const path = join(source.root, resolve(source.workdir, src));
        if (!existsSync(path)) throw new Error(`${where}: COPY ${src}: not in the ${from === undefined ? 'build context (git ls-files minus .dockerignore)' : `stage ${from}`}`);
        const target = dest.endsWith('/') || parts.length > 1 ? join(inStage(dest), statSync(path).isDirectory() ? '' : src.split('/').at(-1) ?? '') : inStage(dest);
        mkdirSync(dirname(target), { recursive: true });
        cpSync(path, target, { recursive: true });
      }
    } else if (ins.op === 'RUN') {
      if (/^npm\s/.test(ins.args)) {
        // The npm of this machine, on the repository's Node 24, from the local cache where it can.
        const r = spawnSync('bash', ['-c', `${ins.args} --prefer-offline --loglevel=error`], {
          cwd: inStage('.'), encoding: 'utf8', env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}` },
        });
        if (r.status !== 0) throw new Error(`${where}: RUN ${ins.args} failed (${r.status}):\n${r.stderr}`);
      } else if (/apt-get install/.test(ins.args)) {
        skippedRuns.push(ins.args);
      } else {
        throw new Error(`${where}: RUN ${ins.args}: this test does not know how to replay it; teach test/install/dockerfile.test.ts`);
      }
    }
  }
  assert.ok(current !== undefined);
  finalRoot = current.root;
  finalWorkdir = current.workdir;
});
after(() => { if (work !== undefined) rmSync(work, { recursive: true, force: true }); });

function instruction(op: string, stageIndex: number): Instruction[] {
  let stage = -1;
  return dockerfile.filter((i) => { if (i.op === 'FROM') stage++; return stage === stageIndex && i.op === op; });
}

test('two stages on node:24-bookworm-slim; the runtime runs as 65532 with ENTRYPOINT node bin/netboot.js', () => {
  const froms = dockerfile.filter((i) => i.op === 'FROM').map((i) => i.args.split(/\s+/)[0]);
  assert.deepEqual(froms, ['node:24-bookworm-slim', 'node:24-bookworm-slim']);
  assert.deepEqual(instruction('USER', 1).map((i) => i.args), ['65532:65532']);
  assert.deepEqual(instruction('ENTRYPOINT', 1).map((i) => JSON.parse(i.args) as unknown), [['node', 'bin/netboot.js']]);
});

test('the system step installs Debian ipxe and gives node cap_net_bind_service, dropping libcap2-bin again', () => {
  assert.equal(skippedRuns.length, 1, 'exactly one apt-get step');
  const run = skippedRuns[0] ?? '';
  assert.match(run, /apt-get install -y --no-install-recommends ipxe iputils-ping libcap2-bin/);
  assert.match(run, /setcap cap_net_bind_service=\+ep \/usr\/local\/bin\/node/);
  assert.match(run, /apt-get purge -y libcap2-bin/);
  assert.match(run, /rm -rf \/var\/lib\/apt\/lists/);
});

test('the replayed image runs `netboot version` through ENTRYPOINT + CMD', () => {
  const entry = JSON.parse(instruction('ENTRYPOINT', 1)[0]?.args ?? '[]') as string[];
  const cmd = JSON.parse(instruction('CMD', 1)[0]?.args ?? '[]') as string[];
  assert.equal(entry[0], 'node');
  // The image's node is the base image's Node 24; the repository's Node 24 stands in for it.
  const r = spawnSync(process.execPath, [...entry.slice(1), ...cmd], { cwd: join(finalRoot, finalWorkdir), encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
  assert.equal(r.status, 0, r.stderr);
  const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  assert.match(r.stdout, new RegExp(`^netboot ${version.replaceAll('.', '\\.')} \\(netboot\\.dev/v1alpha1, node 24\\.`));
});

test('the image holds production dependencies only', () => {
  const modules = join(finalRoot, finalWorkdir, 'node_modules');
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  for (const dep of Object.keys(pkg.dependencies)) assert.ok(existsSync(join(modules, dep, 'package.json')), `${dep} missing`);
  // npm's record of what it installed: nothing that the lock file marks as dev only.
  const installed = JSON.parse(readFileSync(join(modules, '.package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const devOnly = Object.keys(installed.packages).filter((p) => lock.packages[p]?.dev === true);
  assert.deepEqual(devOnly, []);
  for (const big of ['typescript', 'node', '@aws-cdk/lambda-layer-kubectl-v35', 'aws-cdk-lib']) assert.ok(!existsSync(join(modules, big)), `${big} is in the image`);
});

test('every import in src/ resolves inside the image: no dev dependency, no file outside the copied paths', () => {
  const app = join(finalRoot, finalWorkdir);
  const problems: string[] = [];
  const walk = (dir: string): string[] => readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
  const files = walk(join(app, 'src'));
  assert.ok(files.length > 50, `only ${files.length} source files in the image`);
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s(?!type\s)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      const spec = m[1] ?? m[2] ?? '';
      const where = relative(app, file);
      if (spec.startsWith('node:')) continue;
      if (spec.startsWith('.')) {
        if (!existsSync(resolve(dirname(file), spec))) problems.push(`${where}: ${spec} is not in the image`);
        continue;
      }
      const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0] ?? spec;
      if (!existsSync(join(app, 'node_modules', name, 'package.json'))) problems.push(`${where}: package ${name} is not a production dependency`);
    }
  }
  assert.deepEqual(problems, []);
});
