/**
 * The Kubernetes ListWatchSource: lists through the generated client and
 * watches through kubeWatch (request.ts: the KubeConfig's TLS and auth,
 * undici's request, lines split here). The informer owns the state machine.
 */
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject, ListWatchSource, WatchEvent } from './informer.ts';
import { signalOptions } from './kube.ts';
import { kubeWatch } from './request.ts';

/** A list response, as every `list*` call of client-node returns it. */
export interface ListResponse<T> {
  readonly items: readonly T[];
  readonly metadata?: { readonly resourceVersion?: string };
}

/** Filters and the server-side watch timeout. */
export interface SourceOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** The API server ends each watch after this long and the informer resumes it. Default 300. */
  readonly watchTimeoutSeconds?: number;
}

/**
 * A source for any collection: `path` is its URL path
 * ("/apis/apps/v1/namespaces/x/daemonsets"), `list` the matching list call
 * (honouring the same selectors), `resource` a name for messages.
 */
export function watchSource<T extends KubeObject>(
  kc: KubeConfig, resource: string, path: string, list: (signal: AbortSignal) => Promise<ListResponse<T>>, options: SourceOptions = {},
): ListWatchSource<T> {
  return {
    resource,
    async list(signal) {
      const res = await list(signal);
      return { items: res.items, resourceVersion: res.metadata?.resourceVersion ?? '' };
    },
    watch(resourceVersion, onEvent, signal) {
      const query = {
        resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: options.watchTimeoutSeconds ?? 300,
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
      };
      return kubeWatch(kc, path, query, (type, object) => onEvent({ type, object } satisfies WatchEvent), signal);
    },
  };
}

/** Which custom resource to watch; no namespace means all namespaces. */
export interface CustomResourceRef {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly namespace?: string;
}

/** A source for a custom resource (the netboot.dev kinds). */
export function customObjectSource<T extends KubeObject>(kc: KubeConfig, ref: CustomResourceRef, options: SourceOptions = {}): ListWatchSource<T> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const { group, version, plural, namespace } = ref;
  const path = namespace === undefined ? `/apis/${group}/${version}/${plural}` : `/apis/${group}/${version}/namespaces/${namespace}/${plural}`;
  const selectors = { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector };
  const list = (signal: AbortSignal) => (namespace === undefined
    ? api.listClusterCustomObject({ group, version, plural, ...selectors }, signalOptions(signal))
    : api.listNamespacedCustomObject({ group, version, namespace, plural, ...selectors }, signalOptions(signal))) as Promise<ListResponse<T>>;
  return watchSource(kc, `${plural}.${group}`, path, list, options);
}
