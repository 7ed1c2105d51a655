/**
 * The Lease object behind leader election, read and written with optimistic
 * concurrency: an update carries the resourceVersion that was read, so of two
 * candidates that both saw an expired lease exactly one succeeds and the
 * other gets 409 Conflict ("someone else won").
 */
import { CoordinationV1Api, V1MicroTime } from '@kubernetes/client-node';
import type { KubeConfig, V1Lease, V1LeaseSpec } from '@kubernetes/client-node';
import { Errors } from '../errors.ts';
import { kubeError, signalOptions, statusCodeOf } from './kube.ts';
import type { LeaseRecord } from './lease.ts';

/** Where the elector keeps its lease; the kube one is below, tests use an in-memory one. */
export interface LeaseStore {
  /** For messages: "Lease netboot-system/netboot-controller". */
  readonly description: string;
  /** The current record and its resourceVersion, or undefined when there is no lease. */
  get(signal: AbortSignal): Promise<{ readonly record: LeaseRecord; readonly resourceVersion: string } | undefined>;
  /** Creates the lease; 'conflict' when it exists already. */
  create(record: LeaseRecord, signal: AbortSignal): Promise<'ok' | 'conflict'>;
  /** Replaces the lease if it is still at `resourceVersion`; 'conflict' otherwise. */
  update(record: LeaseRecord, resourceVersion: string, signal: AbortSignal): Promise<'ok' | 'conflict'>;
}

function millis(t: Date | string | undefined): number | undefined {
  if (t === undefined || t === null) return undefined;
  // client-node types MicroTime as a Date but hands back the raw string.
  const ms = new Date(t).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

/** LeaseSpec → record (absent fields as an unheld, expired lease would have them). */
export function recordFromSpec(spec: V1LeaseSpec | undefined): LeaseRecord {
  const acquireTime = millis(spec?.acquireTime);
  const renewTime = millis(spec?.renewTime);
  return {
    holderIdentity: spec?.holderIdentity ?? '',
    leaseDurationSeconds: spec?.leaseDurationSeconds ?? 0,
    ...(acquireTime === undefined ? {} : { acquireTime }),
    ...(renewTime === undefined ? {} : { renewTime }),
    leaseTransitions: spec?.leaseTransitions ?? 0,
  };
}

/** Record → LeaseSpec; times become MicroTime (the API server wants six fractional digits). */
export function specFromRecord(record: LeaseRecord): V1LeaseSpec {
  return {
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    ...(record.acquireTime === undefined ? {} : { acquireTime: new V1MicroTime(record.acquireTime) }),
    ...(record.renewTime === undefined ? {} : { renewTime: new V1MicroTime(record.renewTime) }),
    leaseTransitions: record.leaseTransitions,
  };
}

/** The Lease `namespace/name` on the API server of `kc`. */
export function kubeLeaseStore(kc: KubeConfig, ref: { readonly namespace: string; readonly name: string }): LeaseStore {
  const api = kc.makeApiClient(CoordinationV1Api);
  const { namespace, name } = ref;
  const description = `Lease ${namespace}/${name}`;
  const fail = (action: string, err: unknown) => kubeError(Errors.LeaseRequestFailed, `${action} ${description}`, err);
  const write = async (action: string, call: () => Promise<V1Lease>): Promise<'ok' | 'conflict'> => {
    try {
      await call();
      return 'ok';
    } catch (err) {
      if (statusCodeOf(err) === 409) return 'conflict';
      throw fail(action, err);
    }
  };
  return {
    description,
    async get(signal) {
      try {
        const lease = await api.readNamespacedLease({ name, namespace }, signalOptions(signal));
        return { record: recordFromSpec(lease.spec), resourceVersion: lease.metadata?.resourceVersion ?? '' };
      } catch (err) {
        if (statusCodeOf(err) === 404) return undefined;
        throw fail('reading', err);
      }
    },
    create(record, signal) {
      const body: V1Lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec: specFromRecord(record) };
      return write('creating', () => api.createNamespacedLease({ namespace, body }, signalOptions(signal)));
    },
    update(record, resourceVersion, signal) {
      const body: V1Lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace, resourceVersion }, spec: specFromRecord(record) };
      return write('updating', () => api.replaceNamespacedLease({ name, namespace, body }, signalOptions(signal)));
    },
  };
}
