/**
 * The controller's view of the cluster: one informer per watched kind (the
 * five netboot.dev kinds and the agent DaemonSets), a per-namespace index of
 * keys so "every machine in this namespace" costs one Set walk, and typed
 * reads for the reconcilers. Every replica runs these, leader or not, so a
 * new leader starts with warm caches.
 */
import { CustomObjectsApi } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import type { AmtNetworkPolicy } from '../../api/v1alpha1/amtnetworkpolicy.ts';
import type { BootMachine } from '../../api/v1alpha1/bootmachine.ts';
import type { BootNetwork } from '../../api/v1alpha1/bootnetwork.ts';
import type { BootProfile } from '../../api/v1alpha1/bootprofile.ts';
import { API_VERSION, GROUP, VERSION, kindDefinition } from '../../api/v1alpha1/index.ts';
import type { MachineClass } from '../../api/v1alpha1/machineclass.ts';
import { Informer, splitKey } from '../../kube/informer.ts';
import type { InformerEvent, InformerOptions, InformerStats, KubeObject, ListWatchSource } from '../../kube/informer.ts';
import type { ManagedFieldsEntry } from '../../kube/apply-diff.ts';
import { trimObject } from './trim.ts';
import { signalOptions } from '../../kube/kube.ts';
import { watchSource } from '../../kube/source.ts';
import type { ListResponse } from '../../kube/source.ts';
import type { FanoutObject, FanoutView, QueueKind, WatchedKind } from './fanout.ts';

/** The label the controller puts on every DaemonSet it renders. */
export const MANAGED_BY_SELECTOR = 'app.kubernetes.io/managed-by=netboot-operator';

/** What each watched kind's cache holds. */
export interface CachedKinds {
  BootNetwork: BootNetwork;
  BootProfile: BootProfile;
  MachineClass: MachineClass;
  BootMachine: BootMachine;
  AmtNetworkPolicy: AmtNetworkPolicy;
  /** A DaemonSet as the API server sends it (raw JSON, not client-node's typed model). */
  DaemonSet: KubeObject & { readonly metadata: { readonly name: string; readonly namespace: string; readonly managedFields?: readonly ManagedFieldsEntry[] } };
}

export const WATCHED_KINDS: readonly WatchedKind[] = ['BootNetwork', 'BootProfile', 'MachineClass', 'BootMachine', 'AmtNetworkPolicy', 'DaemonSet'];

/** A source per kind; `kubeSources` gives the real ones, tests pass fakes. */
export type CacheSources = { readonly [K in WatchedKind]: ListWatchSource<CachedKinds[K]> };

/**
 * Sources for a cluster, all namespaces or one. DaemonSets are listed
 * through the custom-objects path (/apis/apps/v1/...), so list and watch
 * both hand back plain JSON, and only those labelled as ours.
 */
export function kubeSources(kc: KubeConfig, namespace?: string): CacheSources {
  const custom = <K extends QueueKind>(kind: K) => pagedSource<CachedKinds[K]>(kc, GROUP, VERSION, kindDefinition(kind)?.plural ?? '', API_VERSION, kind, namespace);
  return {
    BootNetwork: custom('BootNetwork'),
    BootProfile: custom('BootProfile'),
    MachineClass: custom('MachineClass'),
    BootMachine: custom('BootMachine'),
    AmtNetworkPolicy: custom('AmtNetworkPolicy'),
    DaemonSet: pagedSource<CachedKinds['DaemonSet']>(kc, 'apps', 'v1', 'daemonsets', 'apps/v1', 'DaemonSet', namespace, MANAGED_BY_SELECTOR),
  };
}

/** Objects per list page: 10,000 BootMachines come in 20 responses of ~2 MB rather than one of 40 MB. */
const LIST_PAGE = 500;

/**
 * A source that lists in pages (limit/continue; every page is served from
 * the first page's snapshot, so the resourceVersion to watch from is the
 * last page's) and watches like customObjectSource. The custom-objects
 * client reaches built-in groups too (/apis/apps/v1/daemonsets), and hands
 * back plain JSON for both. Each page is trimmed as it arrives, so the
 * untrimmed objects of one page at most are alive at once, not of all 20.
 */
function pagedSource<T extends KubeObject>(kc: KubeConfig, group: string, version: string, plural: string, apiVersion: string, kind: string, namespace?: string, labelSelector?: string): ListWatchSource<T> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const path = namespace === undefined ? `/apis/${group}/${version}/${plural}` : `/apis/${group}/${version}/namespaces/${namespace}/${plural}`;
  const list = async (signal: AbortSignal): Promise<ListResponse<T>> => {
    const items: T[] = [];
    let next: string | undefined;
    let resourceVersion = '';
    do {
      const page = { group, version, plural, limit: LIST_PAGE, ...(next === undefined ? {} : { _continue: next }), ...(labelSelector === undefined ? {} : { labelSelector }) };
      const res = (namespace === undefined
        ? await api.listClusterCustomObject(page, signalOptions(signal))
        : await api.listNamespacedCustomObject({ ...page, namespace }, signalOptions(signal))) as ListResponse<T> & { metadata?: { continue?: string } };
      for (const item of res.items) items.push(normalizeObject(item, apiVersion, kind));
      resourceVersion = res.metadata?.resourceVersion ?? resourceVersion;
      next = res.metadata?.continue === '' ? undefined : res.metadata?.continue;
    } while (next !== undefined && !signal.aborted);
    return { items, metadata: { resourceVersion } };
  };
  return watchSource<T>(kc, `${plural}.${group}`, path, list, labelSelector === undefined ? {} : { labelSelector });
}

/** Trimming and interning of cached objects (trim.ts), re-exported for the caches' users. */
export { trimObject } from './trim.ts';

/** `obj` with apiVersion and kind filled in (see trimmedSource), then trimmed. */
function normalizeObject<O>(obj: O, apiVersion: string, kind: string): O {
  const o = obj as { apiVersion?: string; kind?: string } | undefined;
  if (o !== undefined && o !== null && typeof o === 'object') {
    o.apiVersion ??= apiVersion;
    o.kind ??= kind;
  }
  return trimObject(obj);
}

/**
 * `source` with every listed and watched object trimmed before the informer
 * caches it, and apiVersion and kind filled in: the API server leaves them
 * out of the items of a built-in kind's list (watch events carry them), and
 * the apply no-op check compares them like any other field.
 */
export function trimmedSource<T extends KubeObject>(source: ListWatchSource<T>, apiVersion: string, kind: string): ListWatchSource<T> {
  const normalize = <O>(obj: O): O => normalizeObject(obj, apiVersion, kind);
  return {
    resource: source.resource,
    list: async (signal) => {
      const { items, resourceVersion } = await source.list(signal);
      return { items: items.map(normalize), resourceVersion };
    },
    watch: (resourceVersion, onEvent, signal) => source.watch(resourceVersion, (event) => onEvent({ type: event.type, object: event.type === 'ERROR' ? event.object : normalize(event.object) }), signal),
  };
}

/** The informers and the namespace index. */
export class ControllerCaches implements FanoutView {
  readonly #informers: { readonly [K in WatchedKind]: Informer<CachedKinds[K]> };
  /** kind -> namespace -> keys. */
  readonly #byNamespace = new Map<WatchedKind, Map<string, Set<string>>>();

  /** Machine key -> the class and profile its status names. */
  readonly #machineRefs = new Map<string, { readonly machineClass?: string; readonly profile?: string }>();
  /** "ns/class" or "ns/profile" -> keys of the machines whose status names it. */
  readonly #byRef = { machineClass: new Map<string, Set<string>>(), profile: new Map<string, Set<string>>() };

  constructor(sources: CacheSources, options: InformerOptions | ((kind: WatchedKind) => InformerOptions) = {}) {
    const opts = (kind: WatchedKind) => (typeof options === 'function' ? options(kind) : options);
    this.#informers = {
      BootNetwork: new Informer(trimmedSource(sources.BootNetwork, API_VERSION, 'BootNetwork'), opts('BootNetwork')),
      BootProfile: new Informer(trimmedSource(sources.BootProfile, API_VERSION, 'BootProfile'), opts('BootProfile')),
      MachineClass: new Informer(trimmedSource(sources.MachineClass, API_VERSION, 'MachineClass'), opts('MachineClass')),
      BootMachine: new Informer(trimmedSource(sources.BootMachine, API_VERSION, 'BootMachine'), opts('BootMachine')),
      AmtNetworkPolicy: new Informer(trimmedSource(sources.AmtNetworkPolicy, API_VERSION, 'AmtNetworkPolicy'), opts('AmtNetworkPolicy')),
      DaemonSet: new Informer(trimmedSource(sources.DaemonSet, 'apps/v1', 'DaemonSet'), opts('DaemonSet')),
    };
    const machines = this.#informers.BootMachine;
    for (const event of ['add', 'update', 'delete'] as const) machines.on(event, (key) => this.#indexRefs(key, machines.get(key)));
    for (const kind of WATCHED_KINDS) {
      const index = new Map<string, Set<string>>();
      this.#byNamespace.set(kind, index);
      const informer = this.#informers[kind];
      // Registered before anyone else's listener, so the index is current when they run.
      informer.on('add', (key) => {
        const ns = splitKey(key).namespace ?? '';
        let keys = index.get(ns);
        if (keys === undefined) index.set(ns, keys = new Set());
        keys.add(key);
      });
      informer.on('delete', (key) => {
        const ns = splitKey(key).namespace ?? '';
        const keys = index.get(ns);
        keys?.delete(key);
        if (keys?.size === 0) index.delete(ns);
      });
    }
  }

  /** Subscribes to every kind's events. */
  on(listener: (kind: WatchedKind, event: InformerEvent, key: string) => void): void {
    for (const kind of WATCHED_KINDS) {
      for (const event of ['add', 'update', 'delete'] as const) this.#informers[kind].on(event, (key) => listener(kind, event, key));
    }
  }

  start(): void {
    for (const kind of WATCHED_KINDS) this.#informers[kind].start();
  }

  async stop(): Promise<void> {
    await Promise.all(WATCHED_KINDS.map((kind) => this.#informers[kind].stop()));
  }

  /** Resolves true once every informer has listed once (false if stopped first). */
  async waitForSync(): Promise<boolean> {
    const synced = await Promise.all(WATCHED_KINDS.map((kind) => this.#informers[kind].waitForSync()));
    return synced.every(Boolean);
  }

  hasSynced(): boolean {
    return WATCHED_KINDS.every((kind) => this.#informers[kind].hasSynced());
  }

  /** The cached object of `kind` at `key` ("namespace/name"). */
  object<K extends WatchedKind>(kind: K, key: string): CachedKinds[K] | undefined {
    return (this.#informers[kind] as Informer<CachedKinds[K]>).get(key);
  }

  /** FanoutView: the same, untyped. */
  get(kind: WatchedKind, key: string): FanoutObject | undefined {
    return this.#informers[kind].get(key) as FanoutObject | undefined;
  }

  /** Keys of `kind` in `namespace` (live view; do not mutate). */
  keysIn(kind: WatchedKind, namespace: string): ReadonlySet<string> {
    return this.#byNamespace.get(kind)?.get(namespace) ?? EMPTY;
  }

  /** The cached objects of `kind` in `namespace`. */
  listIn<K extends WatchedKind>(kind: K, namespace: string): CachedKinds[K][] {
    const informer = this.#informers[kind] as Informer<CachedKinds[K]>;
    const out: CachedKinds[K][] = [];
    for (const key of this.keysIn(kind, namespace)) {
      const obj = informer.get(key);
      if (obj !== undefined) out.push(obj);
    }
    return out;
  }

  /**
   * The machines whose status.machineClass (or status.profile) is `name`
   * in `namespace`: what a class or profile counts, without walking every
   * machine of the namespace.
   */
  machinesWith(field: 'machineClass' | 'profile', namespace: string, name: string): CachedKinds['BootMachine'][] {
    const out: CachedKinds['BootMachine'][] = [];
    for (const key of this.#byRef[field].get(`${namespace}/${name}`) ?? []) {
      const m = this.#informers.BootMachine.get(key);
      if (m !== undefined) out.push(m);
    }
    return out;
  }

  #indexRefs(key: string, machine: CachedKinds['BootMachine'] | undefined): void {
    const before = this.#machineRefs.get(key);
    const after = machine === undefined ? undefined : { machineClass: machine.status?.machineClass, profile: machine.status?.profile };
    if (after === undefined) this.#machineRefs.delete(key);
    else this.#machineRefs.set(key, after);
    const ns = splitKey(key).namespace ?? '';
    for (const field of ['machineClass', 'profile'] as const) {
      const was = before?.[field];
      const is = after?.[field];
      if (was === is) continue;
      const index = this.#byRef[field];
      if (was !== undefined) {
        const set = index.get(`${ns}/${was}`);
        set?.delete(key);
        if (set?.size === 0) index.delete(`${ns}/${was}`);
      }
      if (is !== undefined) {
        let set = index.get(`${ns}/${is}`);
        if (set === undefined) index.set(`${ns}/${is}`, set = new Set());
        set.add(key);
      }
    }
  }

  /** Every cached key of `kind`. */
  keys(kind: WatchedKind): string[] {
    return this.#informers[kind].keys();
  }

  /** Objects cached per kind. */
  sizes(): Record<WatchedKind, number> {
    return Object.fromEntries(WATCHED_KINDS.map((k) => [k, this.#informers[k].keys().length])) as Record<WatchedKind, number>;
  }

  /** Informer counters per kind. */
  stats(): Record<WatchedKind, InformerStats> {
    return Object.fromEntries(WATCHED_KINDS.map((k) => [k, this.#informers[k].stats()])) as Record<WatchedKind, InformerStats>;
  }
}

const EMPTY: ReadonlySet<string> = new Set();
