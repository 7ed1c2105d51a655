/**
 * Server-side apply of netboot.dev objects and their status subresource, as
 * one fixed field manager with force (the controller owns its fields; agents
 * own status.boot under their own manager). Writes are skipped when the
 * cached object already matches (apply-diff.ts), and failures become
 * catalogue errors naming the object, never the raw response.
 */
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { kindDefinition } from '../api/v1alpha1/index.ts';
import { Errors, NetbootError } from '../errors.ts';
import { applyWouldChange } from './apply-diff.ts';
import type { ManagedFieldsEntry } from './apply-diff.ts';
import { kubeError } from './kube.ts';

/** The controller's field manager. */
export const FIELD_MANAGER = 'netboot-controller';

/** An object as the cache holds it, the parts apply reads. */
export interface AppliedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly managedFields?: readonly ManagedFieldsEntry[];
    readonly [k: string]: unknown;
  };
  readonly [k: string]: unknown;
}

/** Whether a write went out, and the object the API server returned if so. */
export interface ApplyOutcome<T = AppliedObject> {
  readonly written: boolean;
  readonly object?: T;
}

/** The CustomObjectsApi calls apply needs (tests may wrap them to count writes). */
export type ApplyApi = Pick<CustomObjectsApi, 'patchNamespacedCustomObject' | 'patchNamespacedCustomObjectStatus' | 'patchClusterCustomObject' | 'patchClusterCustomObjectStatus'>;

/** Field manager and how to find a kind's plural (default: the netboot.dev kinds). */
export interface ApplierOptions {
  readonly fieldManager?: string;
  readonly pluralOf?: (kind: string) => string | undefined;
}

/** "BootNetwork default/lab", for messages. */
export function describeObject(obj: Pick<AppliedObject, 'kind' | 'metadata'>): string {
  const { namespace, name } = obj.metadata;
  return `${obj.kind} ${namespace === undefined ? name : `${namespace}/${name}`}`;
}

/** Applies objects and statuses with one field manager. */
export class Applier {
  readonly #api: ApplyApi;
  readonly #fieldManager: string;
  readonly #pluralOf: (kind: string) => string | undefined;

  constructor(api: ApplyApi, options: ApplierOptions = {}) {
    this.#api = api;
    this.#fieldManager = options.fieldManager ?? FIELD_MANAGER;
    this.#pluralOf = options.pluralOf ?? ((kind) => kindDefinition(kind)?.plural);
  }

  /**
   * Applies `desired` (apiVersion, kind, metadata, spec...). With `current`
   * (the cached object), nothing is sent when the apply would change nothing.
   * Without it the apply always goes out (and creates the object if needed).
   */
  async apply<T extends AppliedObject>(desired: T, current?: AppliedObject): Promise<ApplyOutcome<T>> {
    if (current !== undefined && !applyWouldChange(current, desired, this.#fieldManager)) return { written: false };
    const ref = this.#ref(desired);
    const what = `server-side apply of ${describeObject(desired)}`;
    const body = desired;
    const options = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
    try {
      const object = (ref.namespace === undefined
        ? await this.#api.patchClusterCustomObject({ ...ref, body, fieldManager: this.#fieldManager, force: true }, options)
        : await this.#api.patchNamespacedCustomObject({ ...ref, namespace: ref.namespace, body, fieldManager: this.#fieldManager, force: true }, options)) as T;
      return { written: true, object };
    } catch (err) {
      throw kubeError(Errors.KubeApplyFailed, what, err);
    }
  }

  /**
   * Applies `status` to the status subresource of `current` (the cached
   * object) unless `current.status` already says the same. If the cache is
   * stale the write may be skipped or go to a recreated object; either way
   * the informer's next event for the key reconciles it again (the API
   * server ignores metadata.uid in an apply body, so it cannot guard this).
   */
  async applyStatus<T extends AppliedObject>(current: T, status: Record<string, unknown>): Promise<ApplyOutcome<T>> {
    const { name, namespace } = current.metadata;
    const body = {
      apiVersion: current.apiVersion,
      kind: current.kind,
      metadata: { name, ...(namespace === undefined ? {} : { namespace }) },
      status,
    };
    if (!applyWouldChange(current, body, this.#fieldManager, 'status')) return { written: false };
    const ref = this.#ref(current);
    const what = `server-side apply of the status of ${describeObject(current)}`;
    const options = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
    try {
      const object = (ref.namespace === undefined
        ? await this.#api.patchClusterCustomObjectStatus({ ...ref, body, fieldManager: this.#fieldManager, force: true }, options)
        : await this.#api.patchNamespacedCustomObjectStatus({ ...ref, namespace: ref.namespace, body, fieldManager: this.#fieldManager, force: true }, options)) as T;
      return { written: true, object };
    } catch (err) {
      throw kubeError(Errors.KubeApplyFailed, what, err);
    }
  }

  #ref(obj: Pick<AppliedObject, 'apiVersion' | 'kind' | 'metadata'>): { group: string; version: string; plural: string; name: string; namespace?: string } {
    const slash = obj.apiVersion.indexOf('/');
    const plural = this.#pluralOf(obj.kind);
    if (slash < 0 || plural === undefined) {
      throw new NetbootError(Errors.KubeApplyFailed, `server-side apply of ${describeObject(obj)} not sent: ${obj.apiVersion} ${obj.kind} is not a custom resource this applier knows`);
    }
    const { name, namespace } = obj.metadata;
    return { group: obj.apiVersion.slice(0, slash), version: obj.apiVersion.slice(slash + 1), plural, name, ...(namespace === undefined ? {} : { namespace }) };
  }
}
