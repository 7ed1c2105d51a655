/**
 * The docs' YAML on a real kube-apiserver: every ```yaml block in docs/
 * holding a netboot.dev object passes a server-side dry-run apply against
 * the generated CRDs (their CEL rules included), as a reader copying it
 * would apply it. test/unit/docs/examples.test.ts checks the same blocks
 * with the standalone schemas; test/kube/api.test.ts applies examples/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { installCrds, startCluster } from '../support/cluster.ts';
import type { TestCluster } from '../support/cluster.ts';
import { codeBlocks, docPages, readPage } from '../support/docs.ts';

let cluster: TestCluster;

before(async () => {
  cluster = await startCluster();
  await installCrds(cluster);
});
after(async () => { await cluster?.stop(); });

const blocks = docPages().flatMap((page) => codeBlocks(readPage(page))
  .filter((b) => b.lang === 'yaml' && b.text.includes('apiVersion: netboot.dev/'))
  .map((b) => ({ where: `${page}:${b.line}`, text: b.text })));

test('the docs hold netboot.dev yaml blocks', () => {
  assert.ok(blocks.length >= 10, `found ${blocks.length}`);
});

for (const { where, text } of blocks) {
  test(`${where} applies (server-side dry run)`, async () => {
    const r = await cluster.kubectlResult(['apply', '--server-side', '--dry-run=server', '--field-manager=netboot-docs', '-f', '-'], text);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /serverside-applied \(server dry run\)/);
  });
}
