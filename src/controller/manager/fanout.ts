/**
 * Which keys a change makes stale. Informers report only a key; this reads
 * the new object from the caches and compares it with a small memo of what
 * it last saw, so a status-only write (ours, or an agent's) wakes only the
 * object itself, and a spec change fans out to what depends on it:
 *
 *   BootNetwork   spec    → its machines (and itself)
 *   BootProfile   spec    → networks (plan, delayed), machines, classes of the namespace
 *   MachineClass  spec    → networks (delayed), machines, AMT policies (delayed)
 *   AmtNetworkPolicy spec → classes and machines of the namespace (AMT status)
 *   BootMachine   plan fields (spec, labels, completedAt) → networks (delayed);
 *                 status.machineClass/profile → the old and new class/profile (recount);
 *                 class or status.amt → AMT policies (recount)
 *   DaemonSet             → its owner BootNetwork
 *
 * Delayed keys wait `delayMs` (150 ms) and recounts `countDelayMs` (1 s),
 * so a burst (10,000 machines re-resolving) collapses into a few reconciles
 * of each network and class instead of one per machine. `countDelayMs` may
 * be a function read at each recount: the manager stretches it while many
 * machines are still queued (see recountDelayMs in manager.ts), so a count
 * is written once the machines settled rather than every second meanwhile.
 */
import { splitKey } from '../../kube/informer.ts';

/** The kinds the controller watches. */
export type WatchedKind = 'BootNetwork' | 'BootProfile' | 'MachineClass' | 'BootMachine' | 'AmtNetworkPolicy' | 'DaemonSet';
/** The kinds with a work queue (a DaemonSet is reconciled through its network). */
export type QueueKind = Exclude<WatchedKind, 'DaemonSet'>;
export const QUEUE_KINDS: readonly QueueKind[] = ['BootNetwork', 'BootProfile', 'MachineClass', 'BootMachine', 'AmtNetworkPolicy'];

/** The parts of a cached object fan-out reads. */
export interface FanoutObject {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly generation?: number;
    readonly labels?: Readonly<Record<string, string>>;
    readonly ownerReferences?: readonly { readonly apiVersion?: string; readonly kind?: string; readonly name?: string }[];
  };
  readonly spec?: { readonly network?: string };
  readonly status?: { readonly machineClass?: string; readonly profile?: string; readonly amt?: unknown; readonly boot?: { readonly completedAt?: string } };
}

/** Read access to the caches. */
export interface FanoutView {
  get(kind: WatchedKind, key: string): FanoutObject | undefined;
  /** Keys of `kind` in `namespace`. */
  keysIn(kind: QueueKind, namespace: string): Iterable<string>;
}

/** Receives each stale key; `delayMs` 0 means now. */
export type Enqueue = (kind: QueueKind, key: string, delayMs: number) => void;

/** What a machine's dependents care about. */
interface MachineMemo {
  readonly generation: number | undefined;
  readonly labels: string;
  readonly completedAt: string | undefined;
  readonly network: string | undefined;
  readonly machineClass: string | undefined;
  readonly profile: string | undefined;
  readonly amt: string;
}

const GROUP_PREFIX = 'netboot.dev/';

function machineMemo(obj: FanoutObject): MachineMemo {
  return {
    generation: obj.metadata?.generation,
    labels: JSON.stringify(obj.metadata?.labels ?? {}),
    completedAt: obj.status?.boot?.completedAt,
    network: obj.spec?.network,
    machineClass: obj.status?.machineClass,
    profile: obj.status?.profile,
    amt: obj.status?.amt === undefined ? '' : JSON.stringify(obj.status.amt),
  };
}

/** Turns informer events into work-queue keys. One instance sees every event of every kind. */
export class Fanout {
  readonly #view: FanoutView;
  readonly #delayMs: number;
  /** Recounts (class, profile, policy statuses after machines moved) wait longer: 10,000 moves are one recount. */
  readonly #countDelayMs: () => number;
  /** Last seen metadata.generation of networks, profiles, classes and policies ("Kind ns/name"). */
  readonly #generations = new Map<string, number | undefined>();
  readonly #machines = new Map<string, MachineMemo>();
  /** DaemonSet key -> owner network key. */
  readonly #daemonSetOwners = new Map<string, string>();

  constructor(view: FanoutView, options: { readonly delayMs?: number; readonly countDelayMs?: number | (() => number) } = {}) {
    this.#view = view;
    this.#delayMs = options.delayMs ?? 150;
    const count = options.countDelayMs ?? 1000;
    this.#countDelayMs = typeof count === 'function' ? count : () => count;
  }

  /** Handles one informer event; calls `enqueue` for every stale key (the object's own first). */
  changed(kind: WatchedKind, event: 'add' | 'update' | 'delete', key: string, enqueue: Enqueue): void {
    const obj = event === 'delete' ? undefined : this.#view.get(kind, key);
    if (kind === 'DaemonSet') return this.#daemonSet(key, obj, enqueue);
    enqueue(kind, key, 0);
    const namespace = splitKey(key).namespace ?? '';
    if (kind === 'BootMachine') return this.#machine(key, namespace, obj, enqueue);
    if (!this.#specChanged(kind, key, obj)) return;
    const all = (k: QueueKind, delayMs: number) => { for (const other of this.#view.keysIn(k, namespace)) enqueue(k, other, delayMs); };
    switch (kind) {
      case 'BootNetwork': {
        const name = splitKey(key).name;
        for (const m of this.#view.keysIn('BootMachine', namespace)) {
          const network = this.#view.get('BootMachine', m)?.spec?.network;
          if (network === undefined || network === name) enqueue('BootMachine', m, 0);
        }
        return;
      }
      case 'BootProfile':
        all('BootNetwork', this.#delayMs);
        all('MachineClass', 0);
        all('BootMachine', 0);
        return;
      case 'MachineClass':
        all('BootNetwork', this.#delayMs);
        all('AmtNetworkPolicy', this.#delayMs);
        all('BootMachine', 0);
        return;
      case 'AmtNetworkPolicy':
        all('MachineClass', 0);
        all('BootMachine', 0);
        return;
    }
  }

  /** Machines known to the memo (for tests and metrics). */
  machinesTracked(): number {
    return this.#machines.size;
  }

  /** True on add, delete or a generation change; status-only updates are not spec changes. */
  #specChanged(kind: QueueKind, key: string, obj: FanoutObject | undefined): boolean {
    const memoKey = `${kind} ${key}`;
    if (obj === undefined) {
      this.#generations.delete(memoKey);
      return true;
    }
    const had = this.#generations.has(memoKey);
    const before = this.#generations.get(memoKey);
    const generation = obj.metadata?.generation;
    this.#generations.set(memoKey, generation);
    return !had || before !== generation;
  }

  #machine(key: string, namespace: string, obj: FanoutObject | undefined, enqueue: Enqueue): void {
    const before = this.#machines.get(key);
    const after = obj === undefined ? undefined : machineMemo(obj);
    if (after === undefined) this.#machines.delete(key);
    else this.#machines.set(key, after);
    const countDelayMs = this.#countDelayMs();
    const recount = (kind: QueueKind, name: string | undefined) => { if (name !== undefined) enqueue(kind, `${namespace}/${name}`, countDelayMs); };
    const planChanged = before === undefined || after === undefined || before.generation !== after.generation
      || before.labels !== after.labels || before.completedAt !== after.completedAt;
    if (planChanged) {
      // A machine pinned to one network changes only that network's plan (unless it moved).
      const networks = new Set([before, after].filter((m) => m !== undefined).map((m) => m.network));
      if (networks.has(undefined)) for (const n of this.#view.keysIn('BootNetwork', namespace)) enqueue('BootNetwork', n, this.#delayMs);
      else for (const n of networks) if (n !== undefined) enqueue('BootNetwork', `${namespace}/${n}`, this.#delayMs);
    }
    if (before?.machineClass !== after?.machineClass) {
      recount('MachineClass', before?.machineClass);
      recount('MachineClass', after?.machineClass);
    }
    if (before?.profile !== after?.profile) {
      recount('BootProfile', before?.profile);
      recount('BootProfile', after?.profile);
    }
    if (before?.machineClass !== after?.machineClass || (before?.amt ?? '') !== (after?.amt ?? '')) {
      for (const p of this.#view.keysIn('AmtNetworkPolicy', namespace)) enqueue('AmtNetworkPolicy', p, countDelayMs);
    }
  }

  #daemonSet(key: string, obj: FanoutObject | undefined, enqueue: Enqueue): void {
    const namespace = splitKey(key).namespace ?? '';
    const owner = obj?.metadata?.ownerReferences?.find((o) => o.kind === 'BootNetwork' && (o.apiVersion ?? '').startsWith(GROUP_PREFIX))?.name;
    // A deleted DaemonSet is gone from the cache: its owner comes from the memo.
    const network = owner === undefined ? this.#daemonSetOwners.get(key) : `${namespace}/${owner}`;
    if (obj === undefined || owner === undefined) this.#daemonSetOwners.delete(key);
    else this.#daemonSetOwners.set(key, `${namespace}/${owner}`);
    if (network !== undefined) enqueue('BootNetwork', network, 0);
  }
}
