/**
 * Discovery in cluster mode: the limiter that caps how many BootMachines
 * agents create for unknown MACs, and the creations themselves, which run
 * in the background (the packet being answered never waits for the API
 * server) and retry while the API server is unreachable. Until the cache
 * shows a created machine, it stays here as an overlay the plan includes.
 */
import { BootMachine as BootMachineSchema, machineNameFor } from '../api/v1alpha1/bootmachine.ts';
import type { BootMachine } from '../api/v1alpha1/bootmachine.ts';
import { API_VERSION } from '../api/v1alpha1/index.ts';
import { DiscoveryLimiter } from '../boot/discovery.ts';
import type { DiscoveryLimits, DiscoveryVerdict } from '../boot/discovery.ts';
import { Errors } from '../errors.ts';
import { backoffDelay } from '../kube/backoff.ts';
import { sleep } from '../kube/clock.ts';
import type { Clock } from '../kube/clock.ts';
import { kubeError } from '../kube/kube.ts';
import type { Logger } from '../observability/logger.ts';
import type { KubeStoreApi } from './kube-api.ts';
import { retryable } from './kube-status.ts';

/** The label on BootMachines that discovery created. */
export const DISCOVERED_LABEL = 'netboot.dev/discovered';

export interface DiscoveriesOptions {
  readonly api: KubeStoreApi;
  readonly clock: Clock;
  readonly log: Logger;
  readonly namespace: string;
  /** Aborting ends creations still retrying. */
  readonly signal: AbortSignal;
  /** A creation finished: created (or already there), or rejected for good and dropped from the overlay. */
  readonly onDone: (created: boolean) => void;
}

/** The BootMachine discovery creates for `mac` (as FileStore does). */
export function discoveredMachine(mac: string, namespace: string, network: string, unknownMachines: string): BootMachine {
  return BootMachineSchema.parse({
    apiVersion: API_VERSION, kind: 'BootMachine',
    metadata: { name: machineNameFor(mac), namespace, labels: { [DISCOVERED_LABEL]: 'true' } },
    // discover records the machine but boots it only once someone sets netboot: allow.
    spec: { mac, network, netboot: unknownMachines === 'discover' ? 'deny' : 'allow' },
  });
}

/** The limiter and the machines being created, by name. */
export class Discoveries {
  readonly #opts: DiscoveriesOptions;
  readonly #pending = new Map<string, BootMachine>();
  readonly #creations = new Map<string, Promise<void>>();
  #limiter = new DiscoveryLimiter({ maxMachines: 0, perMinute: 1 });
  #stale = true;
  #refusedBefore = 0;

  constructor(options: DiscoveriesOptions) {
    this.#opts = options;
  }

  /** True while `name` is created here and not yet in the cache. */
  has(name: string): boolean {
    return this.#pending.has(name);
  }

  /** The machines the plan includes beyond the cache. */
  overlay(): IterableIterator<BootMachine> {
    return this.#pending.values();
  }

  /** The cache now holds `name`; true when it was in the overlay. */
  seen(name: string): boolean {
    return this.#pending.delete(name);
  }

  /**
   * The limiter must be rebuilt: the network's limits changed, or a
   * discovered machine was deleted (so deleting junk frees the cap).
   */
  invalidate(): void {
    this.#stale = true;
  }

  /**
   * Decides for one unknown MAC. The limiter is rebuilt when stale, seeded
   * with `cached` (discovered machines of this network in the cache) plus the
   * overlay; a rebuild forgets the per-minute window, refusals carry over.
   */
  admit(now: number, limits: DiscoveryLimits, cached: () => number): DiscoveryVerdict {
    return this.#current(limits, cached).admit(now);
  }

  /** Machines known as discovered (seed included) and MACs refused by the cap or the rate. */
  counts(limits: DiscoveryLimits, cached: () => number): { created: number; refused: number } {
    const c = this.#current(limits, cached).counts;
    return { created: c.created, refused: c.refused + this.#refusedBefore };
  }

  #current(limits: DiscoveryLimits, cached: () => number): DiscoveryLimiter {
    if (this.#stale) {
      this.#refusedBefore += this.#limiter.counts.refused;
      this.#limiter = new DiscoveryLimiter(limits, cached() + this.#pending.size);
      this.#stale = false;
    }
    return this.#limiter;
  }

  /** Adds `machine` to the overlay and creates it in the background. */
  create(machine: BootMachine): void {
    const name = machine.metadata.name;
    this.#pending.set(name, machine);
    const creation = this.#create(machine).then((created) => {
      this.#creations.delete(name);
      this.#opts.onDone(created);
    });
    this.#creations.set(name, creation);
  }

  /** The creation of `name` in flight, if any (its status waits for it). */
  creation(name: string): Promise<void> | undefined {
    return this.#creations.get(name);
  }

  /** Resolves when every creation in flight has finished or given up. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.#creations.values()]);
  }

  /** Resolves true once created (or already there), false when rejected for good or stopped. */
  async #create(machine: BootMachine): Promise<boolean> {
    const { api, clock, log, namespace, signal } = this.#opts;
    const name = machine.metadata.name;
    for (let failures = 1; !signal.aborted; failures++) {
      try {
        await api.createMachine(machine); // 'exists' (another agent was first) is as good
        return true;
      } catch (err) {
        const e = kubeError(Errors.DiscoveryCreateFailed, `creating BootMachine ${namespace}/${name} for a discovered MAC`, err);
        if (!retryable(err)) {
          log.warn({ code: Errors.DiscoveryCreateFailed.code, cause: e.code, mac: machine.spec.mac }, `${e.message}; the MAC stays unrecorded until it is seen again`);
          this.#pending.delete(name);
          return false;
        }
        const delay = backoffDelay(failures, { baseMs: 1000, maxMs: 30_000 });
        if (failures === 1) log.warn({ code: Errors.DiscoveryCreateFailed.code, cause: e.code, mac: machine.spec.mac, retryInMs: delay }, `${e.message}; retrying`);
        await sleep(clock, delay, signal);
      }
    }
    return false;
  }
}
