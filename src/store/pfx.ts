/**
 * PFX (PKCS#12) provisioning certificates to PEM, for src/amt/certificate.ts.
 * Node has no PKCS#12 parser, so this runs `openssl pkcs12`. The password
 * travels in the child's environment (`-passin env:`), never on its command
 * line where `ps` shows it; the PFX goes in on stdin. `-nokeys`: the checks
 * need only the certificates, so the private key never leaves the file.
 * Files exported by older Windows use RC2-40, which OpenSSL 3 keeps in its
 * legacy provider: on "unsupported" the conversion is retried with -legacy.
 */
import { spawn } from 'node:child_process';
import { Errors, NetbootError } from '../errors.ts';

export interface PfxOptions {
  /** The openssl binary (default: `openssl` on PATH). */
  readonly openssl?: string;
  /** Kill openssl after this long (default 10 s). */
  readonly timeoutMs?: number;
}

interface Run { readonly code: number | null; readonly stdout: string; readonly stderr: string; readonly timedOut: boolean }

function run(openssl: string, args: readonly string[], input: Uint8Array, password: string, timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(openssl, args, {
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', NETBOOT_PFX_PASSWORD: password },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr, timedOut }); });
    child.stdin.on('error', () => { /* openssl may exit before reading all input; its exit status says why */ });
    child.stdin.end(input);
  });
}

/**
 * The certificates of a PFX as PEM text (leaf and CA certificates, in the
 * file's order). Throws NetbootError: AmtPfxPasswordRejected (NB5002) for a
 * wrong password, AmtCertificateUnreadable (NB5001) when the bytes are not
 * a PFX or hold no certificate, AmtPfxConversionFailed (NB5003) on timeout,
 * ToolMissing (NB9001) when openssl is not installed.
 */
export async function pfxToPem(pfx: Uint8Array, password: string, options: PfxOptions = {}): Promise<string> {
  const openssl = options.openssl ?? 'openssl';
  const timeoutMs = options.timeoutMs ?? 10_000;
  const args = ['pkcs12', '-nokeys', '-passin', 'env:NETBOOT_PFX_PASSWORD'];
  let r: Run;
  try {
    r = await run(openssl, args, pfx, password, timeoutMs);
    if (r.code !== 0 && !r.timedOut && /unsupported|RC2|legacy/i.test(r.stderr)) r = await run(openssl, [...args, '-legacy'], pfx, password, timeoutMs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NetbootError(Errors.ToolMissing, `${openssl} is not installed: it is needed to read PFX provisioning certificates (or store the certificate as a PEM chain instead)`, { cause: err });
    throw new NetbootError(Errors.AmtPfxConversionFailed, `could not run ${openssl}: ${(err as Error).message}`, { cause: err });
  }
  if (r.timedOut) throw new NetbootError(Errors.AmtPfxConversionFailed, `${openssl} pkcs12 did not finish within ${timeoutMs} ms`);
  const detail = r.stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '').slice(0, 2).join(' / ');
  if (r.code !== 0) {
    if (/mac verify|invalid password|bad decrypt/i.test(r.stderr)) throw new NetbootError(Errors.AmtPfxPasswordRejected, 'the PFX password from the Secret is wrong: check pfxPassword\'s Secret and key');
    throw new NetbootError(Errors.AmtCertificateUnreadable, `the PFX could not be read (${detail || `openssl exit ${String(r.code)}`})`);
  }
  if (!r.stdout.includes('-----BEGIN CERTIFICATE-----')) throw new NetbootError(Errors.AmtCertificateUnreadable, 'the PFX holds no certificate');
  return r.stdout;
}
