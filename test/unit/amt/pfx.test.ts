/**
 * PFX round trip through the openssl adapter (src/store/pfx.ts) into the
 * certificate checks: PFX files made in the test by the real openssl CLI.
 */
import { after, test } from 'node:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { pfxToPem } from '../../../src/store/pfx.ts';
import { analyzeCertificate, certificateTrust } from '../../../src/amt/certificate.ts';
import { Errors, isNetbootError } from '../../../src/errors.ts';
import { CertLab, INTEL_EKU } from './openssl.ts';

const lab = new CertLab();
after(() => lab.dispose());
const now = new Date(Date.now() + 60_000);

test('a PFX with its password converts to the chain, and the chain passes the checks', async () => {
  const root = lab.root();
  const inter = lab.intermediate(root);
  const leaf = lab.leaf(inter, { eku: INTEL_EKU, san: 'DNS:rcs.contoso.com' });
  for (const legacy of [false, true]) {
    const pfx = lab.pfx(leaf, [inter, root], 'pa$$ "word" ü', legacy);
    const pem = await pfxToPem(pfx, 'pa$$ "word" ü');
    assert.ok(!pem.includes('PRIVATE KEY'), 'the key stays in the PFX');
    const s = analyzeCertificate(pem, { source: 'pfx' });
    assert.equal(s.chain.length, 3, `legacy=${String(legacy)}`);
    assert.equal(s.domain, 'rcs.contoso.com');
    const direct = analyzeCertificate(leaf.pem + inter.pem + root.pem);
    assert.equal(s.rootSha256, direct.rootSha256);
    assert.equal(certificateTrust(s, now).status, 'True', `legacy=${String(legacy)}: ${certificateTrust(s, now).message}`);
  }
});

test('wrong password, garbage bytes, a missing openssl and a timeout are coded errors', async () => {
  const root = lab.root();
  const leaf = lab.leaf(root, { eku: INTEL_EKU });
  const pfx = lab.pfx(leaf, [root], 'right');
  await assert.rejects(pfxToPem(pfx, 'wrong'), (e) => isNetbootError(e, Errors.AmtPfxPasswordRejected) && /password from the Secret is wrong/.test(e.message));
  await assert.rejects(pfxToPem(Buffer.from('not a pfx'), 'x'), (e) => isNetbootError(e, Errors.AmtCertificateUnreadable));
  await assert.rejects(pfxToPem(pfx, 'right', { openssl: '/nonexistent/openssl' }), (e) => isNetbootError(e, Errors.ToolMissing));
  // A script stands in for an openssl that hangs: it ignores its input and outlives the timeout.
  const hang = join(lab.dir, 'hang.sh');
  writeFileSync(hang, '#!/bin/sh\nexec sleep 5\n', { mode: 0o755 });
  await assert.rejects(pfxToPem(pfx, 'right', { openssl: hang, timeoutMs: 100 }), (e) => isNetbootError(e, Errors.AmtPfxConversionFailed) && /did not finish within 100 ms/.test(e.message));
});
