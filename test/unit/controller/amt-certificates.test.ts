/**
 * AmtCertificates: the provisioning certificate of a policy from its
 * Secrets (certificates made with the real openssl), analysed once per
 * Secret resourceVersion, PFX with its password, and every failure as a
 * summary whose message names Secrets and keys but never bytes or passwords.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { AmtCertificates } from '../../../src/controller/amt-certificates.ts';
import type { SecretRead } from '../../../src/controller/amt-certificates.ts';
import { CertLab, INTEL_EKU } from '../amt/openssl.ts';
import { amtPolicy, withSpec } from './builders.ts';

const lab = new CertLab();
after(() => lab.dispose());
const root = lab.root();
const inter = lab.intermediate(root);
const leaf = lab.leaf(inter, { eku: INTEL_EKU });
const chain = leaf.pem + inter.pem + root.pem;
const PASSWORD = 'Pa55-w0rd!';
const pfx = lab.pfx(leaf, [inter, root], PASSWORD);
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');

function reader(secrets: Map<string, SecretRead>) {
  const reads: string[] = [];
  return { reads, read: async (_ns: string, name: string) => { reads.push(name); return secrets.get(name) ?? 'not-found'; } };
}

const pemPolicy = amtPolicy('fleet', withSpec({ dnsSuffix: 'contoso.com', certificate: { pem: { name: 'cert', key: 'chain.pem' } } }));
const pfxPolicy = amtPolicy('fleet', withSpec({ dnsSuffix: 'contoso.com', certificate: { pfx: { name: 'cert', key: 'bundle.pfx' }, pfxPassword: { name: 'pass', key: 'password' } } }));
const readable = (s: { checks: readonly { id: string; ok: boolean; reason?: string; message: string }[] } | undefined) => s?.checks.find((c) => c.id === 'readable');

test('PEM: read once for the machines, re-read by every refresh, analysed once per resourceVersion; a new version is a change', async () => {
  const secrets = new Map<string, SecretRead>([['cert', { resourceVersion: '1', data: { 'chain.pem': b64(chain) } }]]);
  const r = reader(secrets);
  const certs = new AmtCertificates(r);
  const [a, b] = await Promise.all([certs.forPolicy('lab/fleet', pemPolicy), certs.forPolicy('lab/fleet', pemPolicy)]);
  assert.equal(a?.domain, 'rcs.contoso.com');
  assert.equal(a, b, 'one load shared by concurrent machines');
  assert.equal(r.reads.length, 1);
  assert.equal(await certs.forPolicy('lab/fleet', pemPolicy), a, 'machines use the cache');
  assert.equal(r.reads.length, 1);
  const same = await certs.refresh('lab/fleet', pemPolicy);
  assert.equal(r.reads.length, 2, 'a refresh always GETs');
  assert.equal(same.changed, false);
  assert.equal(same.certificate.summary, a, 'same resourceVersion: the same analysis');
  secrets.set('cert', { resourceVersion: '2', data: { 'chain.pem': b64(chain) } });
  const rotated = await certs.refresh('lab/fleet', pemPolicy);
  assert.equal(rotated.changed, true);
  assert.equal(rotated.certificate.versions, 'lab/cert@2');
});

test('PFX with its password from a second Secret; a wrong password, a missing Secret or key are failures naming them, never the bytes', async () => {
  const secrets = new Map<string, SecretRead>([
    ['cert', { resourceVersion: '7', data: { 'bundle.pfx': b64(pfx) } }],
    // Written with echo: a trailing newline the PFX password does not have.
    ['pass', { resourceVersion: '8', data: { password: b64(`${PASSWORD}\n`) } }],
  ]);
  const certs = new AmtCertificates(reader(secrets));
  const ok = await certs.forPolicy('lab/fleet', pfxPolicy);
  assert.equal(ok?.source, 'pfx');
  assert.equal(ok?.domain, 'rcs.contoso.com');
  assert.equal(ok?.chain.length, 3);
  assert.equal(readable(ok)?.ok, true);

  secrets.set('pass', { resourceVersion: '9', data: { password: b64('wrong') } });
  const wrong = (await certs.refresh('lab/fleet', pfxPolicy)).certificate.summary;
  assert.deepEqual([readable(wrong)?.ok, readable(wrong)?.reason], [false, 'CertificateUnreadable']);
  assert.match(readable(wrong)?.message ?? '', /^NB5002: the PFX password from the Secret is wrong/);

  secrets.set('pass', { resourceVersion: '10', data: { pw: b64(PASSWORD) } });
  const noKey = (await certs.refresh('lab/fleet', pfxPolicy)).certificate.summary;
  assert.deepEqual([readable(noKey)?.reason, readable(noKey)?.message], ['SecretNotFound', 'NB5023: Secret lab/pass has no key "password" (spec.certificate.pfxPassword.key); its keys: pw']);

  secrets.delete('cert');
  const missing = (await certs.refresh('lab/fleet', pfxPolicy)).certificate.summary;
  assert.equal(readable(missing)?.reason, 'SecretNotFound');
  assert.match(readable(missing)?.message ?? '', /^NB5023: Secret lab\/cert \(spec\.certificate\.pfx\) does not exist/);
  for (const s of [wrong, noKey, missing]) {
    const text = JSON.stringify(s);
    assert.ok(!text.includes(PASSWORD) && !text.includes(b64(pfx).slice(0, 32)), 'no password or bytes in the failure');
  }
});

test('forbidden, unreadable bytes, no reader, no certificate at all', async () => {
  const forbidden = await new AmtCertificates({ read: async () => 'forbidden' }).forPolicy('lab/fleet', pemPolicy);
  assert.match(readable(forbidden)?.message ?? '', /NB5023: the controller may not get Secret lab\/cert .*controller\.amtSecrets/);
  const junk = await new AmtCertificates({ read: async () => ({ resourceVersion: '1', data: { 'chain.pem': b64('not a certificate') } }) }).forPolicy('lab/fleet', pemPolicy);
  assert.deepEqual([readable(junk)?.ok, readable(junk)?.reason], [false, 'CertificateUnreadable']);
  const blind = await new AmtCertificates(undefined).forPolicy('lab/fleet', pemPolicy);
  assert.equal(readable(blind)?.reason, 'SecretNotFound');
  assert.equal(await new AmtCertificates(undefined).forPolicy('lab/fleet', amtPolicy('fleet')), undefined, 'a policy without a certificate has none');
});
