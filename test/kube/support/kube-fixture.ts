/**
 * One test cluster per test file, with the CRDs installed and a
 * custom-objects client: the before/after pair the agent-side kube tests
 * share. Temporary directories made with `tempDir` are removed with it.
 */
import { after, before } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { installCrds, startCluster } from '../../support/cluster.ts';
import type { TestCluster } from '../../support/cluster.ts';

export interface KubeFixture {
  /** Set once the file's before() hook ran. */
  readonly cluster: TestCluster;
  readonly kc: KubeConfig;
  readonly api: CustomObjectsApi;
  /** A new directory under the system's temporary directory, removed after the file's tests. */
  tempDir(prefix: string): string;
}

/** Registers the file's before() and after() hooks and returns their cluster. */
export function useKubeCluster(): KubeFixture {
  const dirs: string[] = [];
  let state: { cluster: TestCluster; kc: KubeConfig; api: CustomObjectsApi } | undefined;
  const ready = () => {
    if (state === undefined) throw new Error('the test cluster is not started yet (use it inside a test)');
    return state;
  };
  before(async () => {
    const cluster = await startCluster();
    await installCrds(cluster);
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    state = { cluster, kc, api: kc.makeApiClient(CustomObjectsApi) };
  });
  after(async () => {
    await state?.cluster.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  return {
    get cluster() { return ready().cluster; },
    get kc() { return ready().kc; },
    get api() { return ready().api; },
    tempDir(prefix) {
      const d = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(d);
      return d;
    },
  };
}
