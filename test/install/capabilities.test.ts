/**
 * The image's one privilege trick, checked on this kernel: node carries the
 * file capability cap_net_bind_service=+ep (the Dockerfile's setcap). This
 * test makes the same binary (a copy of the repository's Node 24 with the
 * same setcap) and runs it as uid 65532 under the capability bounding set
 * and no_new_privs that the pod security contexts ask for, using setpriv in
 * place of the container runtime:
 *   - the agent container (rendered by src/controller/daemonset.ts) binds
 *     UDP 67, 69 and 4011 on loopback;
 *   - the controller container (rendered by the chart) starts, and would not
 *     start if it dropped NET_BIND_SERVICE too: execve refuses a binary whose
 *     file-permitted capabilities the bounding set lacks.
 * A plain copy of node, without the file capability, is refused the ports:
 * the capability is what grants them. Needs root (setcap, setpriv): CI and
 * scripts/install-deps.sh run as root; elsewhere the test fails saying so.
 */
import { before, after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1SecurityContext } from '@kubernetes/client-node';
import { BootNetwork } from '../../src/api/v1alpha1/bootnetwork.ts';
import { renderAgentDaemonSet } from '../../src/controller/daemonset.ts';
import { REPO_ROOT } from '../support/fixtures.ts';
import { render } from './chart-support.ts';

/** containerd's default capabilities, what a container gets before drop/add. */
const RUNTIME_DEFAULT = ['CHOWN', 'DAC_OVERRIDE', 'FSETID', 'FOWNER', 'MKNOD', 'NET_RAW', 'SETGID', 'SETUID', 'SETFCAP', 'SETPCAP', 'NET_BIND_SERVICE', 'SYS_CHROOT', 'KILL', 'AUDIT_WRITE'];

/** The bounding set a runtime gives a container with `sc`. */
function boundingSet(sc: V1SecurityContext): string[] {
  const drop = sc.capabilities?.drop ?? [];
  const base = drop.includes('ALL') ? [] : RUNTIME_DEFAULT.filter((c) => !drop.includes(c));
  return [...new Set([...base, ...(sc.capabilities?.add ?? [])])];
}

const isRoot = process.getuid?.() === 0;
const UID = 65532;
let dir: string;
let capNode: string;
let plainNode: string;

/** Runs `node args` as uid 65532 under the bounding set and no_new_privs of `sc`. */
function runAs(sc: V1SecurityContext, nodeBin: string, args: readonly string[]): { code: number; stdout: string; stderr: string } {
  const bounding = ['-all', ...boundingSet(sc).map((c) => `+${c.toLowerCase()}`)].join(',');
  const r = spawnSync('setpriv', [
    `--reuid=${UID}`, `--regid=${UID}`, '--clear-groups', '--inh-caps=-all', `--bounding-set=${bounding}`,
    ...(sc.allowPrivilegeEscalation === false ? ['--no-new-privs'] : []), nodeBin, ...args,
  ], { encoding: 'utf8', cwd: REPO_ROOT, env: { PATH: '/usr/bin:/bin' } });
  if (r.error !== undefined) throw r.error;
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

// Binds each port on 127.0.0.1 and prints port=ok|CODE. EADDRINUSE means the
// permission check passed and another test holds the port.
const BIND = `
const dgram = require('node:dgram');
const ports = process.argv.slice(1).map(Number);
let left = ports.length;
for (const port of ports) {
  const s = dgram.createSocket('udp4');
  const done = (r) => { console.log(port + '=' + r); s.close(); if (--left === 0) process.exit(0); };
  s.once('error', (e) => done(e.code === 'EADDRINUSE' ? 'ok' : e.code));
  s.bind(port, '127.0.0.1', () => done('ok'));
}`;

describe('the setcap node binary under the pod security contexts', () => {
  before(() => {
    // Fails loudly, never skips: CI runs as root, and setcap/setpriv need it.
    if (!isRoot) throw new Error('this test must run as root: setcap and setpriv');
    dir = mkdtempSync(join(tmpdir(), 'netboot-caps-'));
    chmodSync(dir, 0o755);
    capNode = join(dir, 'node-setcap');
    plainNode = join(dir, 'node-plain');
    copyFileSync(realpathSync(process.execPath), capNode);
    copyFileSync(realpathSync(process.execPath), plainNode);
    chmodSync(capNode, 0o755);
    chmodSync(plainNode, 0o755);
    // The Dockerfile's step, on the copy.
    const r = spawnSync('setcap', ['cap_net_bind_service=+ep', capNode], { encoding: 'utf8' });
    assert.equal(r.status, 0, `setcap failed (install Debian's libcap2-bin: scripts/install-deps.sh does): ${r.stderr}${r.error?.message ?? ''}`);
  });
  after(() => { if (dir !== undefined) rmSync(dir, { recursive: true, force: true }); });

  const network = BootNetwork.parse({ apiVersion: 'netboot.dev/v1alpha1', kind: 'BootNetwork', metadata: { name: 'lab', namespace: 'lab', uid: 'u-1' }, spec: { mode: 'proxy', subnet: '192.168.10.0/24' } });
  const ds = renderAgentDaemonSet(network, { image: 'netboot:test', serviceAccountName: 'netboot-agent' });
  const agentSc = ds.spec?.template.spec?.containers.find((c) => c.name === 'agent')?.securityContext ?? {};
  const deployment = render().find((m) => m.kind === 'Deployment') as { spec: { template: { spec: { containers: { securityContext: V1SecurityContext }[] } } } } | undefined;
  const controllerSc = deployment?.spec.template.spec.containers[0]?.securityContext ?? {};

  test('the agent binds UDP 67, 69 and 4011 as uid 65532 with only NET_BIND_SERVICE', () => {
    assert.deepEqual(boundingSet(agentSc), ['NET_BIND_SERVICE']);
    assert.notEqual(agentSc.allowPrivilegeEscalation, false);
    const r = runAs(agentSc, capNode, ['-e', BIND, '67', '69', '4011']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').sort(), ['4011=ok', '67=ok', '69=ok']);
  });

  test('without the file capability the same agent is refused the ports', () => {
    const unprivilegedStart = Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim());
    assert.ok(unprivilegedStart > 67, `net.ipv4.ip_unprivileged_port_start is ${unprivilegedStart}: anyone may bind port 67 here, so this control proves nothing`);
    const r = runAs(agentSc, plainNode, ['-e', BIND, '67']);
    assert.equal(r.stdout.trim(), '67=EACCES');
  });

  test('the controller container starts netboot with its security context', () => {
    assert.equal(controllerSc.allowPrivilegeEscalation, false);
    const r = runAs(controllerSc, capNode, [join(REPO_ROOT, 'bin/netboot.js'), 'version']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^netboot /);
  });

  test('dropping NET_BIND_SERVICE from the controller too would stop it from starting (EPERM at exec)', () => {
    const r = runAs({ ...controllerSc, capabilities: { drop: ['ALL'] } }, capNode, [join(REPO_ROOT, 'bin/netboot.js'), 'version']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Operation not permitted/);
  });
});
