/**
 * What the controller's caches keep of an object, and how little memory it
 * takes. At 10,000 BootMachines the caches are most of the controller's
 * heap, and most of that is repetition: JSON.parse gives every object its
 * own copy of every string value ("netboot.dev/v1alpha1", "Ready is True:
 * nothing is left to reconcile", the same lastTransitionTime for every
 * machine written in one second) and its own copy of the controller's
 * managedFields tree (~50 small objects per machine, identical for every
 * machine with the same status shape). Measured with a heap snapshot of the
 * controller at 10,000 BootMachines: ~70 objects and ~38 strings per machine,
 * ~40 MiB of objects and ~15 MiB of data strings in all.
 *
 * trimObject drops what the controller never reads (other managers'
 * managedFields entries, kubectl's last-applied annotation) and makes the
 * repeated parts shared: strings where repetition is the rule (apiVersion,
 * kind, label values, status scalars, conditions, managedFields scalars) go
 * through an intern table, and the managedFields tree is replaced by one
 * frozen copy per distinct tree. Values are unchanged (same strings, equal
 * trees), so readers cannot tell, except that the shared tree is frozen.
 */

/** The field manager whose managedFields entries the caches keep (the apply no-op check reads them). */
export const OWN_MANAGER = 'netboot-controller';
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Strings longer than this are not interned: long values are rarely repeated. */
const MAX_INTERNED_LENGTH = 256;

/**
 * Canonical copies of strings and managedFields trees. Each table is
 * cleared when it reaches its cap, so values nobody holds any more are
 * retained only until then (a bounded cost), and sharing starts afresh.
 */
export class Interner {
  readonly #maxStrings: number;
  readonly #maxTrees: number;
  #strings = new Map<string, string>();
  #trees = new Map<string, Readonly<Record<string, unknown>>>();

  constructor(options: { readonly maxStrings?: number; readonly maxTrees?: number } = {}) {
    this.#maxStrings = options.maxStrings ?? 65_536;
    this.#maxTrees = options.maxTrees ?? 1024;
  }

  /** The canonical copy of `value` (itself the first time); anything else unchanged. */
  string<V>(value: V): V {
    if (typeof value !== 'string' || value.length > MAX_INTERNED_LENGTH) return value;
    const known = this.#strings.get(value);
    if (known !== undefined) return known as V;
    if (this.#strings.size >= this.#maxStrings) this.#strings = new Map();
    this.#strings.set(value, value);
    return value;
  }

  /** A frozen canonical copy of a JSON tree equal to `tree`; anything that is not a plain object is returned unchanged. */
  tree<V>(tree: V): V {
    if (typeof tree !== 'object' || tree === null || Array.isArray(tree)) return tree;
    // JSON.parse keeps the server's key order, so equal trees from the server serialize alike.
    const key = JSON.stringify(tree);
    const known = this.#trees.get(key);
    if (known !== undefined) return known as V;
    if (this.#trees.size >= this.#maxTrees) this.#trees = new Map();
    const frozen = deepFreeze(tree as Record<string, unknown>);
    this.#trees.set(key, frozen);
    return frozen as V;
  }

  /** Entries held now, for tests and metrics. */
  sizes(): { readonly strings: number; readonly trees: number } {
    return { strings: this.#strings.size, trees: this.#trees.size };
  }
}

function deepFreeze<T extends object>(value: T): T {
  for (const v of Object.values(value)) if (typeof v === 'object' && v !== null) deepFreeze(v);
  return Object.freeze(value);
}

/** The interner the caches share (one per process: the same strings recur across kinds). */
export const sharedInterner = new Interner();

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Interns every string value directly under `rec` (not nested ones). */
function internScalars(rec: Rec, interner: Interner): void {
  for (const [k, v] of Object.entries(rec)) if (typeof v === 'string') rec[k] = interner.string(v);
}

/**
 * Trims `obj` in place for a cache and returns it: keeps only the
 * controller's own managedFields entries (with shared trees), drops
 * kubectl's last-applied annotation, interns the strings that repeat
 * across objects. Idempotent.
 */
export function trimObject<T>(obj: T, interner: Interner = sharedInterner): T {
  if (!isRec(obj)) return obj;
  const o: Rec = obj;
  for (const k of ['apiVersion', 'kind'] as const) if (typeof o[k] === 'string') o[k] = interner.string(o[k]);
  const metadata = o['metadata'];
  if (isRec(metadata)) {
    const managed = metadata['managedFields'];
    if (Array.isArray(managed)) {
      metadata['managedFields'] = managed.filter((m: unknown) => isRec(m) && m['manager'] === OWN_MANAGER).map((m: Rec) => {
        internScalars(m, interner);
        if (m['fieldsV1'] !== undefined) m['fieldsV1'] = interner.tree(m['fieldsV1']);
        return m;
      });
    }
    const annotations = metadata['annotations'];
    if (isRec(annotations) && LAST_APPLIED in annotations) {
      const { [LAST_APPLIED]: _dropped, ...rest } = annotations;
      metadata['annotations'] = rest;
    }
    // Label values name racks, roles, vendors: a few values shared by many objects.
    if (isRec(metadata['labels'])) internScalars(metadata['labels'], interner);
  }
  const status = o['status'];
  if (isRec(status)) {
    internScalars(status, interner);
    const conditions = status['conditions'];
    if (Array.isArray(conditions)) for (const c of conditions) if (isRec(c)) internScalars(c, interner);
  }
  return obj;
}
