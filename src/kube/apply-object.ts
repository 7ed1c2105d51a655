/**
 * Server-side apply of any kind the API server serves (apps/v1 DaemonSets,
 * core/v1 Events), as one fixed field manager with force. It complements
 * apply.ts's Applier, which knows only the netboot.dev kinds: the path comes
 * from API discovery (client-node's KubernetesObjectApi caches it per
 * apiVersion), and the same no-op check (apply-diff.ts) skips a write when
 * the cached object already holds every value.
 */
import { KubernetesObjectApi, PatchStrategy } from '@kubernetes/client-node';
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { Errors, NetbootError } from '../errors.ts';
import { FIELD_MANAGER, describeObject } from './apply.ts';
import type { ApplyOutcome } from './apply.ts';
import { applyWouldChange } from './apply-diff.ts';
import type { ManagedFieldsEntry } from './apply-diff.ts';
import { kubeError } from './kube.ts';

/** An object to apply: apiVersion, kind, name and (for namespaced kinds) namespace are required. */
export interface ApplyableObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly [k: string]: unknown };
  readonly [k: string]: unknown;
}

/** What apply needs from the API: one SSA patch (tests and write counters wrap it). */
export interface ObjectApplyApi {
  /** Sends `body` as an apply patch under `fieldManager` with force; resolves with the stored object. */
  applyPatch(body: ApplyableObject, fieldManager: string): Promise<unknown>;
}

/** The ObjectApplyApi of a cluster, through KubernetesObjectApi (discovery + generic paths). */
export function kubeObjectApplyApi(kc: KubeConfig): ObjectApplyApi {
  const api = KubernetesObjectApi.makeApiClient(kc);
  return {
    applyPatch: (body, fieldManager) =>
      // client-node's serializer passes unknown fields and string timestamps through unchanged.
      api.patch(structuredClone(body) as KubernetesObject, undefined, undefined, fieldManager, true, PatchStrategy.ServerSideApply),
  };
}

/** The current object as a cache holds it (only managedFields and the applied values are read). */
export interface CurrentObject {
  readonly metadata?: { readonly managedFields?: readonly ManagedFieldsEntry[] };
}

/** Applies objects of any kind with one field manager. */
export class ObjectApplier {
  readonly #api: ObjectApplyApi;
  readonly #fieldManager: string;

  constructor(api: ObjectApplyApi, options: { readonly fieldManager?: string } = {}) {
    this.#api = api;
    this.#fieldManager = options.fieldManager ?? FIELD_MANAGER;
  }

  /** The field manager every apply is sent as. */
  get fieldManager(): string {
    return this.#fieldManager;
  }

  /**
   * Applies `desired`. With `current` (the cached object), nothing is sent
   * when the apply would change nothing; without it the apply always goes
   * out (creating the object if needed). Failures are catalogue errors
   * naming the object.
   */
  async apply<T extends ApplyableObject>(desired: T, current?: CurrentObject): Promise<ApplyOutcome<T>> {
    if (desired.apiVersion === '' || desired.kind === '' || desired.metadata.name === '') {
      throw new NetbootError(Errors.KubeApplyFailed, `server-side apply of ${describeObject(desired)} not sent: apiVersion, kind and metadata.name are required`);
    }
    if (current !== undefined && !applyWouldChange(current, desired as unknown as Record<string, unknown>, this.#fieldManager)) return { written: false };
    try {
      const object = await this.#api.applyPatch(desired, this.#fieldManager) as T;
      return { written: true, object };
    } catch (err) {
      throw kubeError(Errors.KubeApplyFailed, `server-side apply of ${describeObject(desired)}`, err);
    }
  }
}
