/**
 * The examples and the docs cannot drift from the schemas. Every directory
 * under examples/ passes `netboot validate` (the real CLI), is complete (its
 * references resolve inside it, every machine it registers resolves to a
 * profile there and gets a rendered iPXE script, its PXE menus fit in
 * option 43), and every ```yaml block in docs/ that holds a netboot.dev
 * object loads with the schemas the CRDs are generated from.
 *
 * test/unit/api/load.test.ts loads all examples together (no duplicates
 * across directories, every kind covered); this file checks each directory
 * on its own, as a user would apply it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { loadResources } from '../../../src/api/load.ts';
import type { LoadedResource } from '../../../src/api/load.ts';
import type { BootMachine } from '../../../src/api/v1alpha1/bootmachine.ts';
import type { BootNetwork } from '../../../src/api/v1alpha1/bootnetwork.ts';
import type { BootProfile } from '../../../src/api/v1alpha1/bootprofile.ts';
import type { MachineClass } from '../../../src/api/v1alpha1/machineclass.ts';
import { Kinds } from '../../../src/api/v1alpha1/index.ts';
import { resolveClass } from '../../../src/boot/match.ts';
import { compilePlan } from '../../../src/boot/plan.ts';
import { menuOption } from '../../../src/boot/proxy-mode.ts';
import { decideScript } from '../../../src/boot/script.ts';
import { templateCondition } from '../../../src/controller/evaluate/profile.ts';
import { REPO_ROOT } from '../../support/fixtures.ts';
import { codeBlocks, docPages, readPage } from '../../support/docs.ts';

const NETBOOT = join(REPO_ROOT, 'bin/netboot.js');
const EXAMPLES = join(REPO_ROOT, 'examples');
const exampleDirs = readdirSync(EXAMPLES).filter((d) => statSync(join(EXAMPLES, d)).isDirectory()).sort();

/** The example directories the docs promise (issue 6); more may be added. */
const REQUIRED_EXAMPLES = ['amt', 'dhcp-lab', 'flatcar-talos', 'pxe-menu', 'quickstart', 'ubuntu-autoinstall'];

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? yamlFiles(p) : /\.ya?ml$/.test(e) ? [p] : [];
  });
}

function load(dir: string): LoadedResource[] {
  const result = loadResources(yamlFiles(dir).map((f) => ({ file: relative(REPO_ROOT, f), text: readFileSync(f, 'utf8') })));
  assert.deepEqual(result.problems, []);
  return result.resources;
}

const ofKind = <T>(resources: readonly LoadedResource[], kind: string): T[] => resources.filter((r) => r.kind === kind).map((r) => r.object as T);

test('the promised example directories exist', () => {
  for (const dir of REQUIRED_EXAMPLES) assert.ok(exampleDirs.includes(dir), `examples/${dir} is missing`);
});

/**
 * `netboot validate -f` over every example directory, run once (each run
 * starts a Node process): the real command, as the docs tell users to run
 * it. It exits 1 on any problem, which makes execFileSync throw.
 */
let validated: string | undefined;
function validateOutput(): string {
  validated ??= execFileSync(process.execPath, [NETBOOT, 'validate', ...exampleDirs.flatMap((d) => ['-f', join('examples', d)])],
    { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return validated;
}

for (const dir of exampleDirs) {
  const path = join(EXAMPLES, dir);

  test(`examples/${dir}: netboot validate -f accepts it`, () => {
    const out = validateOutput();
    assert.match(out, /^\d+ valid, 0 problem\(s\)$/m);
    const ok = out.split('\n').filter((l) => l.startsWith('ok ') && l.includes(`(examples/${dir}/`));
    assert.equal(ok.length, load(path).length, `every resource of examples/${dir} is reported ok:\n${out}`);
    assert.ok(ok.length > 0, `examples/${dir} holds no netboot resource`);
  });

  test(`examples/${dir}: every reference resolves inside the directory`, () => {
    const resources = load(path);
    const names = (kind: string) => new Set(resources.filter((r) => r.kind === kind).map((r) => r.name));
    const [profiles, classes, networks, policies] = [names('BootProfile'), names('MachineClass'), names('BootNetwork'), names('AmtNetworkPolicy')];
    const missing: string[] = [];
    const need = (set: Set<string>, name: string | undefined, what: string) => { if (name !== undefined && !set.has(name)) missing.push(what); };
    for (const n of ofKind<BootNetwork>(resources, 'BootNetwork')) need(profiles, n.spec.defaultProfile, `BootNetwork ${n.metadata.name} defaultProfile ${n.spec.defaultProfile ?? ''}`);
    for (const c of ofKind<MachineClass>(resources, 'MachineClass')) {
      need(profiles, c.spec.profile, `MachineClass ${c.metadata.name} profile ${c.spec.profile}`);
      need(policies, c.spec.amtPolicy, `MachineClass ${c.metadata.name} amtPolicy ${c.spec.amtPolicy ?? ''}`);
      for (const net of c.spec.networks ?? []) need(networks, net, `MachineClass ${c.metadata.name} network ${net}`);
    }
    for (const m of ofKind<BootMachine>(resources, 'BootMachine')) {
      need(networks, m.spec.network, `BootMachine ${m.metadata.name} network ${m.spec.network ?? ''}`);
      need(classes, m.spec.machineClass, `BootMachine ${m.metadata.name} machineClass ${m.spec.machineClass ?? ''}`);
      need(profiles, m.spec.profile, `BootMachine ${m.metadata.name} profile ${m.spec.profile ?? ''}`);
    }
    assert.deepEqual(missing, []);
  });

  test(`examples/${dir}: profiles render, menus fit, and every machine boots a profile of the directory`, () => {
    const resources = load(path);
    const profiles = ofKind<BootProfile>(resources, 'BootProfile');
    const classes = ofKind<MachineClass>(resources, 'MachineClass');
    const machines = ofKind<BootMachine>(resources, 'BootMachine');
    const networks = ofKind<BootNetwork>(resources, 'BootNetwork');
    for (const p of profiles) {
      const cond = templateCondition(p.spec);
      assert.equal(cond.status, 'True', `BootProfile ${p.metadata.name}: ${cond.message}`);
      if (p.spec.menu !== undefined) {
        const menu = menuOption(p.spec.menu, '192.0.2.1');
        assert.ok(menu.ok, `BootProfile ${p.metadata.name}: ${menu.ok ? '' : menu.reason ?? 'menu left out'}`);
      }
    }
    for (const m of machines) {
      const network = networks.find((n) => n.metadata.name === m.spec.network) ?? (networks.length === 1 ? networks[0] : undefined);
      const applicable = classes.filter((c) => (c.spec.networks ?? []).length === 0 || (network !== undefined && c.spec.networks?.includes(network.metadata.name)));
      const r = resolveClass({ mac: m.spec.mac, arch: 'uefi-x64', ...(m.spec.uuid === undefined ? {} : { uuid: m.spec.uuid }) },
        { name: m.metadata.name, spec: m.spec, labels: m.metadata.labels ?? {} }, applicable.map((c) => ({ name: c.metadata.name, spec: c.spec })), network?.spec.defaultProfile);
      assert.equal(r.kind, 'resolved', `BootMachine ${m.metadata.name}: ${r.kind === 'unresolved' ? r.reason : ''}`);
      if (r.kind === 'resolved') assert.ok(profiles.some((p) => p.metadata.name === r.profile), `BootMachine ${m.metadata.name} resolves to BootProfile ${r.profile}, not in examples/${dir}`);
    }
    for (const network of networks) {
      const plan = compilePlan({ network, profiles, classes, machines }, 1);
      const macs = [...plan.machines.keys()];
      // An unregistered machine boots only where the network says so.
      if (network.spec.unknownMachines === 'boot') macs.push('02:00:00:00:00:99');
      assert.ok(macs.length > 0, `BootNetwork ${network.metadata.name} boots no machine of the example`);
      for (const mac of macs) {
        const d = decideScript(plan, { mac, arch: 'uefi-x64', serverAddress: '192.0.2.1', httpBase: 'http://192.0.2.1:8080' });
        assert.equal(d.kind, 'script', `${mac} on ${network.metadata.name}: ${d.kind === 'refuse' ? d.reason : ''}`);
        if (d.kind === 'script') {
          assert.match(d.script, /^#!ipxe\n/);
          assert.doesNotMatch(d.script, /\{\{/, 'a template field was left unrendered');
        }
      }
    }
  });
}

test('examples/ubuntu-autoinstall: the NoCloud seeds are autoinstall configs for the hostnames the machines use', () => {
  const dir = join(EXAMPLES, 'ubuntu-autoinstall');
  const hostnames = ofKind<BootMachine>(load(dir), 'BootMachine').map((m) => m.spec.hostname).sort();
  assert.ok(hostnames.length > 0);
  for (const host of hostnames) {
    const seed = join(dir, 'seed', host ?? '');
    const userData = readFileSync(join(seed, 'user-data'), 'utf8');
    assert.match(userData, /^#cloud-config\n/, 'cloud-init ignores user-data without the #cloud-config header');
    const config = parse(userData) as { autoinstall?: { version?: number; identity?: { hostname?: string } } };
    assert.equal(config.autoinstall?.version, 1);
    assert.equal(config.autoinstall?.identity?.hostname, host);
    const meta = parse(readFileSync(join(seed, 'meta-data'), 'utf8')) as { 'instance-id'?: string };
    assert.equal(meta['instance-id'], host);
  }
});

const pages = docPages();

test('docs: every resource page shows at least one complete object of its kind', () => {
  for (const kind of Kinds) {
    const page = `docs/resources/${kind.kind.toLowerCase()}.md`;
    assert.ok(pages.includes(page), `${page} is missing`);
    const blocks = codeBlocks(readPage(page)).filter((b) => b.lang === 'yaml' && b.text.includes('apiVersion: netboot.dev/'));
    assert.ok(blocks.some((b) => new RegExp(`^kind: ${kind.kind}$`, 'm').test(b.text)), `${page} has no yaml block with kind: ${kind.kind}`);
  }
});

for (const page of pages) {
  const blocks = codeBlocks(readPage(page)).filter((b) => b.lang === 'yaml' && b.text.includes('apiVersion: netboot.dev/'));
  if (blocks.length === 0) continue;
  test(`${page}: every netboot.dev yaml block is valid`, () => {
    for (const block of blocks) {
      const result = loadResources([{ file: `${page}:${block.line}`, text: block.text }]);
      assert.deepEqual(result.problems, [], `${page} line ${block.line}`);
      assert.ok(result.resources.length > 0, `${page} line ${block.line}: no resource loaded`);
    }
  });
}

test('docs: every examples/ path the pages name exists', () => {
  for (const page of pages) {
    for (const m of readPage(page).matchAll(/\bexamples\/[\w./-]*[\w]/g)) {
      assert.ok(existsSync(join(REPO_ROOT, m[0])), `${page} names ${m[0]}, which does not exist`);
    }
  }
});
