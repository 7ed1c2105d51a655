/**
 * The informer's cache as pure functions: keys, the diff a relist produces
 * against what was cached, and the change one watch event makes. Listeners
 * hear only keys; the objects stay here for reconcilers to read.
 */

/** The parts of an object the cache reads. */
export interface KubeObject {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly resourceVersion?: string };
}

/** One line of a watch stream: ADDED, MODIFIED, DELETED, BOOKMARK or ERROR (object is a Status). */
export interface WatchEvent {
  readonly type: string;
  readonly object: unknown;
}

/** What happened to a key. */
export type InformerEvent = 'add' | 'update' | 'delete';

/** One change for listeners. */
export interface CacheChange {
  readonly event: InformerEvent;
  readonly key: string;
}

/** The cache key of an object: "namespace/name", or "name" when cluster-scoped. */
export function objectKey(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return ns === undefined || ns === '' ? name : `${ns}/${name}`;
}

/** The inverse of `objectKey`. */
export function splitKey(key: string): { readonly namespace?: string; readonly name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/**
 * The cache a relist yields and the changes since `cached`: deletes for keys
 * that vanished (deleted while nobody watched), adds for new keys, updates
 * where the resourceVersion moved. Unchanged objects produce nothing.
 */
export function diffRelist<T extends KubeObject>(cached: ReadonlyMap<string, T>, items: readonly T[]): { readonly cache: Map<string, T>; readonly changes: CacheChange[] } {
  const cache = new Map(items.map((o) => [objectKey(o), o] as const));
  const changes: CacheChange[] = [];
  for (const key of cached.keys()) if (!cache.has(key)) changes.push({ event: 'delete', key });
  for (const [key, obj] of cache) {
    const prev = cached.get(key);
    if (prev === undefined) changes.push({ event: 'add', key });
    else if (prev.metadata?.resourceVersion !== obj.metadata?.resourceVersion) changes.push({ event: 'update', key });
  }
  return { cache, changes };
}

/**
 * Applies one ADDED/MODIFIED/DELETED/BOOKMARK event to `cache` (mutated) and
 * returns the change for listeners, if any, and the resourceVersion to resume
 * from. An event that repeats the cached resourceVersion changes nothing.
 */
export function applyWatchEvent<T extends KubeObject>(cache: Map<string, T>, event: WatchEvent): { readonly change?: CacheChange; readonly resourceVersion?: string } {
  const obj = event.object as T;
  const rv = obj?.metadata?.resourceVersion;
  const resourceVersion = rv === undefined || rv === '' ? undefined : rv;
  if (event.type !== 'ADDED' && event.type !== 'MODIFIED' && event.type !== 'DELETED') return { resourceVersion };
  const key = objectKey(obj);
  if (event.type === 'DELETED') return cache.delete(key) ? { change: { event: 'delete', key }, resourceVersion } : { resourceVersion };
  const prev = cache.get(key);
  cache.set(key, obj);
  if (prev === undefined) return { change: { event: 'add', key }, resourceVersion };
  return prev.metadata?.resourceVersion === rv ? { resourceVersion } : { change: { event: 'update', key }, resourceVersion };
}
