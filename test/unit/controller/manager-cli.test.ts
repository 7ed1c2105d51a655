/** `netboot controller` flags and environment → config, and the metrics address parser. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { controllerConfig } from '../../../src/cli/controller.ts';
import { parseListenAddress } from '../../../src/controller/manager/http.ts';
import { Errors, isNetbootError } from '../../../src/errors.ts';

test('defaults: all namespaces, leader election on, lease in POD_NAMESPACE or netboot-system, agent image from the version', () => {
  const c = controllerConfig([], {});
  assert.equal(c.namespace, undefined);
  assert.equal(c.metricsAddress, '0.0.0.0:8081');
  assert.equal(c.leaderElect, true);
  assert.equal(c.leaseNamespace, 'netboot-system');
  assert.equal(c.leaseName, 'netboot-controller');
  assert.match(c.agentImage, /^ghcr\.io\/netboot-operator\/netboot:\d+\.\d+\.\d+/);
  assert.equal(c.agentServiceAccount, 'netboot-agent');
  assert.deepEqual([c.leaseDurationSeconds, c.renewDeadlineSeconds, c.retryPeriodSeconds], [15, 10, 2]);
  assert.match(c.identity, /_\d+$/, 'hostname_pid');
  const env = controllerConfig([], { POD_NAMESPACE: 'ops', NETBOOT_AGENT_IMAGE: 'registry.example/netboot:dev' });
  assert.equal(env.leaseNamespace, 'ops');
  assert.equal(env.agentImage, 'registry.example/netboot:dev');
});

test('flags override, --leader-elect alone means true, bad values are ControllerConfigInvalid', () => {
  const c = controllerConfig(['--namespace', 'lab', '--leader-elect=false', '--lease-namespace=x', '--identity', 'me', '--agent-image', 'img', '--agent-service-account', 'sa',
    '--leader-elect-lease-duration', '6', '--leader-elect-renew-deadline', '4', '--leader-elect-retry-period', '1', '--write-qps', '50', '--write-burst', '80'], {});
  assert.deepEqual(
    [c.namespace, c.leaderElect, c.leaseNamespace, c.identity, c.agentImage, c.agentServiceAccount, c.leaseDurationSeconds, c.renewDeadlineSeconds, c.retryPeriodSeconds, c.writeQps, c.writeBurst],
    ['lab', false, 'x', 'me', 'img', 'sa', 6, 4, 1, 50, 80]);
  assert.equal(controllerConfig(['--leader-elect', '--namespace', 'lab'], {}).leaderElect, true);
  const invalid = (args: string[]) => assert.throws(() => controllerConfig(args, {}), (e: unknown) => isNetbootError(e, Errors.ControllerConfigInvalid), args.join(' '));
  invalid(['--leader-elect=maybe']);
  invalid(['--leader-elect-renew-deadline', '20']);
  invalid(['--write-qps', '0']);
  invalid(['--leader-elect-lease-duration', '1.5']);
  assert.throws(() => controllerConfig(['--bogus'], {}), /unknown option --bogus/);
});

test('metrics address: host:port, [v6]:port, :port; anything else is refused', () => {
  assert.deepEqual(parseListenAddress('0.0.0.0:8081'), { host: '0.0.0.0', port: 8081 });
  assert.deepEqual(parseListenAddress('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  assert.deepEqual(parseListenAddress('[::1]:9000'), { host: '::1', port: 9000 });
  assert.deepEqual(parseListenAddress(':8081'), { host: '0.0.0.0', port: 8081 });
  for (const bad of ['8081', 'host:', 'host:99999', 'a:b']) assert.throws(() => parseListenAddress(bad), (e: unknown) => isNetbootError(e, Errors.ControllerConfigInvalid), bad);
});
