/**
 * The provisioning certificate of each AmtNetworkPolicy, read from the
 * Secrets its spec.certificate names (a PEM chain, or a PFX and its
 * password), analysed once per Secret resourceVersion, and shared by the
 * policy's reconcile and those of its machines.
 *
 * The controller may only `get` those Secrets (the chart grants no list or
 * watch), so nothing tells it when one changes: the policy reconcile re-reads
 * them every time it runs (and it requeues itself every few minutes), and
 * reports a change so the machines are evaluated again. A machine reconcile
 * reads the cached result, loading it once if the policy has not run yet.
 *
 * Failures (a missing Secret or key, a wrong PFX password, bytes that are no
 * certificate) become a summary whose `readable` check fails, so the machines'
 * AmtCertificateTrusted is False with the reason and the message. Neither
 * messages, logs nor status ever carry the Secret's bytes or the password:
 * only Secret names, key names and resourceVersions.
 */
import { CoreV1Api } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { analyzeCertificate } from '../amt/certificate.ts';
import type { CertificateSummary } from '../amt/certificate.ts';
import { AmtReason } from '../amt/reasons.ts';
import type { AmtReasonName } from '../amt/reasons.ts';
import type { AmtNetworkPolicy } from '../api/v1alpha1/amtnetworkpolicy.ts';
import { Errors, isNetbootError } from '../errors.ts';
import { kubeError, statusCodeOf } from '../kube/kube.ts';
import { pfxToPem } from '../store/pfx.ts';
import type { PfxOptions } from '../store/pfx.ts';

/** A Secret as far as the certificate needs it: its version and base64 values. */
export interface SecretData {
  readonly resourceVersion: string;
  readonly data: Readonly<Record<string, string>>;
}

/** One GET: the Secret, or why there is none. Other failures throw (the reconcile is retried). */
export type SecretRead = SecretData | 'not-found' | 'forbidden';

/** Reads one Secret by name (RBAC: `get` on the named Secrets only). */
export interface SecretReader {
  read(namespace: string, name: string): Promise<SecretRead>;
}

/** A SecretReader over the API server. */
export function kubeSecretReader(kc: KubeConfig): SecretReader {
  const api = kc.makeApiClient(CoreV1Api);
  return {
    async read(namespace, name) {
      try {
        const secret = await api.readNamespacedSecret({ name, namespace });
        return { resourceVersion: secret.metadata?.resourceVersion ?? '', data: secret.data ?? {} };
      } catch (err) {
        const status = statusCodeOf(err);
        if (status === 404) return 'not-found';
        if (status === 401 || status === 403) return 'forbidden';
        throw kubeError(Errors.KubeApiUnavailable, `get of Secret ${namespace}/${name} (AMT provisioning certificate)`, err);
      }
    },
  };
}

type CertificateRefs = NonNullable<AmtNetworkPolicy['spec']['certificate']>;

/** What was loaded for one policy. */
export interface PolicyCertificate {
  /** The spec it was loaded for (certificate refs and dnsSuffix); stale when the spec says otherwise. */
  readonly spec: string;
  /** The Secrets read, "ns/name@resourceVersion", or why not; equal versions give the same summary. */
  readonly versions: string;
  /** Undefined when the policy names no certificate. */
  readonly summary?: CertificateSummary;
}

/** How many analysed certificates to keep per policy key (current and previous Secret versions are enough). */
const KEPT_VERSIONS = 2;

const specOf = (spec: AmtNetworkPolicy['spec']): string => JSON.stringify([spec.certificate ?? null, spec.dnsSuffix ?? null]);

/** A summary for a certificate that could not be read. */
export function failedCertificate(source: 'pem' | 'pfx', reason: AmtReasonName, message: string): CertificateSummary {
  return { source, names: [], chain: [], checks: [{ id: 'readable', ok: false, severity: 'error', reason, message }] };
}

/** Whether a summary describes a certificate that was read (a chain), rather than a failure to read one. */
export function certificateRead(summary: CertificateSummary | undefined): summary is CertificateSummary {
  return summary !== undefined && summary.chain.length > 0;
}

/** The certificates of every policy, by policy key ("namespace/name"). */
export class AmtCertificates {
  readonly #reader: SecretReader | undefined;
  readonly #pfx: PfxOptions;
  readonly #byPolicy = new Map<string, PolicyCertificate>();
  readonly #loading = new Map<string, Promise<PolicyCertificate>>();
  /** Analysed certificates by versions string, per policy (bounded). */
  readonly #analysed = new Map<string, Map<string, CertificateSummary>>();

  /** `reader` undefined: this controller reads no Secrets, and says so in each policy's certificate. */
  constructor(reader: SecretReader | undefined, options: { readonly pfx?: PfxOptions } = {}) {
    this.#reader = reader;
    this.#pfx = options.pfx ?? {};
  }

  /** The certificate for `policy`'s machines: the last one read, or read now if none was (or the spec changed). */
  async forPolicy(key: string, policy: AmtNetworkPolicy): Promise<CertificateSummary | undefined> {
    const known = this.#byPolicy.get(key);
    if (known !== undefined && known.spec === specOf(policy.spec)) return known.summary;
    return (await this.#singleFlight(key, policy)).summary;
  }

  /**
   * Reads the Secrets again (the policy reconcile). `changed` is true when
   * a certificate was known for the policy and this one differs from it, so
   * the policy's machines must be evaluated again.
   */
  async refresh(key: string, policy: AmtNetworkPolicy): Promise<{ readonly certificate: PolicyCertificate; readonly changed: boolean }> {
    const before = this.#byPolicy.get(key);
    const certificate = await this.#singleFlight(key, policy, true);
    const changed = before !== undefined && (before.spec !== certificate.spec || before.versions !== certificate.versions);
    return { certificate, changed };
  }

  /** Drops a deleted policy's entry. */
  forget(key: string): void {
    this.#byPolicy.delete(key);
    this.#analysed.delete(key);
  }

  async #singleFlight(key: string, policy: AmtNetworkPolicy, fresh = false): Promise<PolicyCertificate> {
    const pending = this.#loading.get(key);
    if (pending !== undefined && !fresh) return pending;
    const load = this.#load(key, policy).finally(() => { if (this.#loading.get(key) === load) this.#loading.delete(key); });
    this.#loading.set(key, load);
    const loaded = await load;
    this.#byPolicy.set(key, loaded);
    return loaded;
  }

  async #load(key: string, policy: AmtNetworkPolicy): Promise<PolicyCertificate> {
    const spec = specOf(policy.spec);
    const refs = policy.spec.certificate;
    if (refs === undefined || (refs.pem === undefined && refs.pfx === undefined)) return { spec, versions: '' };
    const namespace = policy.metadata.namespace ?? 'default';
    const source = refs.pem !== undefined ? 'pem' : 'pfx';
    if (this.#reader === undefined) {
      return { spec, versions: 'no-reader', summary: failedCertificate(source, AmtReason.SecretNotFound, `${Errors.AmtCertificateSecretMissing.code}: this controller was started without access to Secrets, so it cannot read the provisioning certificate`) };
    }
    const reads = new Map<string, SecretRead>();
    const read = async (name: string): Promise<SecretRead> => {
      let r = reads.get(name);
      if (r === undefined) reads.set(name, r = await (this.#reader as SecretReader).read(namespace, name));
      return r;
    };
    const value = await this.#values(namespace, refs, read);
    const versions = [...reads].map(([name, r]) => `${namespace}/${name}@${typeof r === 'string' ? r : r.resourceVersion}`).join(',');
    if ('failure' in value) return { spec, versions, summary: failedCertificate(source, AmtReason.SecretNotFound, value.failure) };
    const cached = this.#analysed.get(key)?.get(`${spec} ${versions}`);
    if (cached !== undefined) return { spec, versions, summary: cached };
    const summary = await this.#analyse(source, value, policy.spec.dnsSuffix);
    this.#remember(key, `${spec} ${versions}`, summary);
    return { spec, versions, summary };
  }

  /** The certificate bytes (and PFX password) from the Secrets, or a failure naming what is missing. */
  async #values(namespace: string, refs: CertificateRefs, read: (name: string) => Promise<SecretRead>): Promise<{ readonly bytes: Buffer; readonly password?: string } | { readonly failure: string }> {
    const field = refs.pem !== undefined ? 'pem' : 'pfx';
    const ref = refs.pem ?? refs.pfx;
    if (ref === undefined) return { failure: 'the policy names no certificate' };
    const main = await keyOf(namespace, ref, `spec.certificate.${field}`, read);
    if (typeof main === 'string') return { failure: main };
    if (field === 'pem') return { bytes: main };
    if (refs.pfxPassword === undefined) return { failure: `${Errors.AmtCertificateSecretMissing.code}: spec.certificate.pfx needs spec.certificate.pfxPassword` };
    const password = await keyOf(namespace, refs.pfxPassword, 'spec.certificate.pfxPassword', read);
    if (typeof password === 'string') return { failure: password };
    return { bytes: main, password: password.toString('utf8') };
  }

  async #analyse(source: 'pem' | 'pfx', value: { readonly bytes: Buffer; readonly password?: string }, dnsSuffix: string | undefined): Promise<CertificateSummary> {
    const options = { source, expectedSuffix: dnsSuffix };
    if (source === 'pem') return analyzeCertificate(value.bytes.toString('utf8'), options);
    const password = value.password ?? '';
    try {
      return analyzeCertificate(await this.#pfxPem(value.bytes, password), options);
    } catch (err) {
      if (!isNetbootError(err)) throw err;
      // pfxToPem's messages name the Secret field, never the bytes or the password.
      return failedCertificate('pfx', AmtReason.CertificateUnreadable, `${err.code}: ${err.message}`);
    }
  }

  /** A password written with `echo` into a file ends in a newline: tried without it when the whole one is rejected. */
  async #pfxPem(bytes: Buffer, password: string): Promise<string> {
    try {
      return await pfxToPem(bytes, password, this.#pfx);
    } catch (err) {
      const trimmed = password.replace(/\r?\n$/, '');
      if (isNetbootError(err, Errors.AmtPfxPasswordRejected) && trimmed !== password) return pfxToPem(bytes, trimmed, this.#pfx);
      throw err;
    }
  }

  #remember(key: string, versions: string, summary: CertificateSummary): void {
    let byVersion = this.#analysed.get(key);
    if (byVersion === undefined) this.#analysed.set(key, byVersion = new Map());
    byVersion.set(versions, summary);
    while (byVersion.size > KEPT_VERSIONS) byVersion.delete(byVersion.keys().next().value as string);
  }
}

/** One key of one Secret, decoded; or the failure sentence (with its error code). */
async function keyOf(namespace: string, ref: { readonly name: string; readonly key: string }, field: string, read: (name: string) => Promise<SecretRead>): Promise<Buffer | string> {
  const secret = await read(ref.name);
  const code = Errors.AmtCertificateSecretMissing.code;
  if (secret === 'not-found') return `${code}: Secret ${namespace}/${ref.name} (${field}) does not exist: create it in the policy's namespace, or fix ${field}.name`;
  if (secret === 'forbidden') return `${code}: the controller may not get Secret ${namespace}/${ref.name} (${field}): add it to controller.amtSecrets in the Helm values`;
  const value = secret.data[ref.key];
  if (value === undefined) {
    const keys = Object.keys(secret.data);
    return `${code}: Secret ${namespace}/${ref.name} has no key "${ref.key}" (${field}.key); its keys: ${keys.length === 0 ? '(none)' : keys.join(', ')}`;
  }
  return Buffer.from(value, 'base64');
}

