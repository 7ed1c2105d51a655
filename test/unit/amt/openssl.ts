/**
 * Test certificates made with the real `openssl` CLI in a temporary
 * directory: a root, an intermediate and a leaf, with the options the AMT
 * checks care about (Intel EKU OID or OU, digest, lifetime).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Issued {
  readonly pem: string;
  readonly key: string;
  readonly certPath: string;
  readonly keyPath: string;
}

export interface LeafOptions {
  readonly cn?: string;
  readonly ou?: string;
  readonly eku?: string;
  readonly san?: string;
  readonly digest?: 'sha1' | 'sha256' | 'sha384';
  readonly days?: number;
}

/** A scratch directory of certificates; call `dispose()` in `after`. */
export class CertLab {
  readonly dir = mkdtempSync(join(tmpdir(), 'netboot-amt-cert-'));
  #n = 0;

  openssl(args: readonly string[], env: Record<string, string> = {}): Buffer {
    return execFileSync('openssl', args, { cwd: this.dir, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** A self-signed CA certificate. */
  root(cn = 'Netboot Test Root', digest: 'sha1' | 'sha256' = 'sha256'): Issued {
    const n = this.#n++;
    const certPath = join(this.dir, `root${n}.pem`);
    const keyPath = join(this.dir, `root${n}.key`);
    this.openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyPath, '-out', certPath,
      '-subj', `/O=Netboot Test/CN=${cn}`, '-days', '3650', `-${digest}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    return { pem: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8'), certPath, keyPath };
  }

  /** A certificate for `subject` signed by `issuer` with extensions `ext`. */
  issue(issuer: Issued, subject: string, ext: string[], digest: string, days: number): Issued {
    const n = this.#n++;
    const certPath = join(this.dir, `cert${n}.pem`);
    const keyPath = join(this.dir, `cert${n}.key`);
    const csr = join(this.dir, `cert${n}.csr`);
    const extFile = join(this.dir, `cert${n}.ext`);
    writeFileSync(extFile, `${ext.join('\n')}\n`);
    this.openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyPath, '-out', csr, '-subj', subject]);
    this.openssl(['x509', '-req', '-in', csr, '-CA', issuer.certPath, '-CAkey', issuer.keyPath, '-set_serial', String(1000 + n), '-out', certPath,
      '-days', String(days), `-${digest}`, '-extfile', extFile]);
    return { pem: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8'), certPath, keyPath };
  }

  intermediate(root: Issued, cn = 'Netboot Test Intermediate', digest = 'sha256'): Issued {
    return this.issue(root, `/O=Netboot Test/CN=${cn}`, ['basicConstraints=critical,CA:TRUE', 'keyUsage=critical,keyCertSign,cRLSign'], digest, 1825);
  }

  leaf(issuer: Issued, o: LeafOptions = {}): Issued {
    const cn = o.cn ?? 'rcs.contoso.com';
    const subject = `/O=Contoso${o.ou === undefined ? '' : `/OU=${o.ou}`}/CN=${cn}`;
    const ext = ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment'];
    if (o.eku !== undefined) ext.push(`extendedKeyUsage=${o.eku}`);
    if (o.san !== undefined) ext.push(`subjectAltName=${o.san}`);
    return this.issue(issuer, subject, ext, o.digest ?? 'sha256', o.days ?? 365);
  }

  /** A PFX of `leaf` + `chain` (no key needed by the checks, but a real PFX carries it). */
  pfx(leaf: Issued, chain: readonly Issued[], password: string, legacy = false): Buffer {
    const n = this.#n++;
    const chainPath = join(this.dir, `chain${n}.pem`);
    const out = join(this.dir, `bundle${n}.pfx`);
    writeFileSync(chainPath, chain.map((c) => c.pem).join(''));
    this.openssl(['pkcs12', '-export', '-in', leaf.certPath, '-inkey', leaf.keyPath, '-certfile', chainPath, '-out', out, '-passout', 'env:PASS', ...(legacy ? ['-legacy'] : [])], { PASS: password });
    return readFileSync(out);
  }

  /** A self-signed RSASSA-PSS certificate (DER reader test). */
  pssSelfSigned(digest: 'sha256' | 'sha384'): string {
    const n = this.#n++;
    const certPath = join(this.dir, `pss${n}.pem`);
    this.openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(this.dir, `pss${n}.key`), '-out', certPath, '-subj', '/CN=PSS Test',
      '-days', '30', `-${digest}`, '-sigopt', 'rsa_padding_mode:pss', '-sigopt', 'rsa_pss_saltlen:32']);
    return readFileSync(certPath, 'utf8');
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export const INTEL_EKU = 'serverAuth,2.16.840.1.113741.1.2.3';
