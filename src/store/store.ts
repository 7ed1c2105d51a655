/**
 * The Store: where boot plans come from and where boot observations go. The
 * agent depends only on this interface; `src/cli/` picks the implementation
 * (files for standalone mode, the Kubernetes API in a cluster).
 */
import type { Lease } from '../boot/leases.ts';
import type { BootPlan } from '../boot/plan.ts';
import type { BootObservation } from '../boot/status.ts';
import type { DiscoveryVerdict } from '../boot/discovery.ts';

export interface BootStore {
  /** The current plan for the agent's network. */
  plan(): BootPlan;
  /** Calls `listener` with each new plan; returns an unsubscribe function. */
  onPlan(listener: (plan: BootPlan) => void): () => void;
  /**
   * Records an observation: a boot event, AMT facts (status.boot.amt), or
   * both. Writes are coalesced: at most one per machine per second, and an
   * observation that changes nothing (a first-seen time already recorded,
   * a repeated lease) writes nothing. MACs without a BootMachine are dropped.
   */
  report(observation: BootObservation): void;
  /**
   * Creates a BootMachine for an unknown MAC seen on the network, subject to
   * the network's discovery cap and rate. 'exists' when one is already known.
   */
  discover(mac: string, now: number): DiscoveryVerdict | 'exists';
  /** The persisted DHCP lease table (mode dhcp). */
  leases(): readonly Lease[];
  /** Replaces the lease table; resolves once it is durable, before the agent answers. */
  saveLeases(leases: readonly Lease[]): Promise<void>;
  /** Mode dhcp: a reason when this agent must not answer DHCP on port 67 now (another agent serves the network); undefined otherwise. */
  dhcpStandby?(): string | undefined;
  /** Writes everything pending now. */
  flush(): Promise<void>;
  close(): Promise<void>;
}
