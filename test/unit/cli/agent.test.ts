/**
 * `netboot agent`'s command line: flags and environment, and the exit codes
 * of a bad invocation. Serving against a real API server is in
 * test/kube/agent-store.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { agentConfig, loadKubeConfig } from '../../../src/cli/agent.ts';
import { UsageError } from '../../../src/cli/run.ts';
import { isNetbootError, Errors } from '../../../src/errors.ts';
import { REPO_ROOT } from '../../support/fixtures.ts';

const run = promisify(execFile);
const NETBOOT = join(REPO_ROOT, 'bin/netboot.js');

test('flags, with the DaemonSet\'s environment as fallback', () => {
  const c = agentConfig(['--network', 'lab', '--namespace', 'boot', '--node', 'n1', '--state', '/tmp/s', '--interface', 'eno1', '--files', '/srv', '--status-qps', '5', '--status-burst=9'], {});
  assert.deepEqual(c, { network: 'lab', namespace: 'boot', node: 'n1', stateDir: '/tmp/s', interface: 'eno1', files: '/srv', statusRate: { perSecond: 5, burst: 9 } });
  const d = agentConfig(['--network', 'lab'], { POD_NAMESPACE: 'netboot-system', NODE_NAME: 'worker-3' });
  assert.deepEqual(d, { network: 'lab', namespace: 'netboot-system', node: 'worker-3', stateDir: '/var/lib/netboot', statusRate: { perSecond: 20, burst: 50 } });
  assert.throws(() => agentConfig(['--namespace', 'x'], {}), (e) => e instanceof UsageError && /--network is required/.test(e.message));
  assert.throws(() => agentConfig(['--network', 'lab'], {}), (e) => e instanceof UsageError && /--namespace is required/.test(e.message));
  assert.throws(() => agentConfig(['--network', 'lab', '-n', 'x', '--status-qps', '0'], {}), /--status-qps must be a positive number, got "0"/);
  assert.throws(() => agentConfig(['--network', 'lab', '-n', 'x', '--bogus'], {}), /unknown option --bogus/);
});

test('the kubeconfig: an unreadable file is a coded error naming it', () => {
  assert.throws(() => loadKubeConfig('/nonexistent/kubeconfig', {}), (e) => isNetbootError(e, Errors.KubeApiUnavailable) && /cannot load the kubeconfig \/nonexistent\/kubeconfig/.test(e.message));
});

test('exit codes: 2 with the usage line for a bad command line, 1 for a kubeconfig that cannot load', async () => {
  const usage = await run(process.execPath, [NETBOOT, 'agent']).catch((e: { code: number; stderr: string }) => e);
  assert.equal((usage as { code: number }).code, 2);
  assert.match((usage as { stderr: string }).stderr, /netboot agent: --network is required\nusage: netboot agent --network NAME --namespace NS/);
  const bad = await run(process.execPath, [NETBOOT, 'agent', '--network', 'lab', '--namespace', 'x', '--kubeconfig', '/nonexistent/kubeconfig']).catch((e: { code: number; stderr: string }) => e);
  assert.equal((bad as { code: number }).code, 1);
  assert.match((bad as { stderr: string }).stderr, /netboot agent: NB4001: cannot load the kubeconfig \/nonexistent\/kubeconfig/);
});
