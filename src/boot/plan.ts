/**
 * The boot plan: everything an agent needs to answer one network's PXE
 * clients, compiled from the resources. Pure data; the controller (or the
 * standalone loader) builds it, agents only read it.
 */
import type { BootMachine } from '../api/v1alpha1/bootmachine.ts';
import type { BootNetwork } from '../api/v1alpha1/bootnetwork.ts';
import type { BootProfile } from '../api/v1alpha1/bootprofile.ts';
import type { MachineClass } from '../api/v1alpha1/machineclass.ts';

export type NetworkSpec = BootNetwork['spec'];
export type ProfileSpec = BootProfile['spec'];
export type ClassSpec = MachineClass['spec'];
export type MachineSpec = BootMachine['spec'];

/** A MachineClass as matching needs it. */
export interface PlanClass {
  readonly name: string;
  readonly spec: ClassSpec;
}

/** A BootMachine as decisions need it: spec, labels and what boot status says so far. */
export interface PlanMachine {
  readonly name: string;
  readonly spec: MachineSpec;
  readonly labels: Readonly<Record<string, string>>;
  /** Set once a bootPolicy-once / netboot-once machine fetched its script. */
  readonly completedAt?: string;
}

/** One network's plan. `generation` increases with every change, so agents can report what they serve. */
export interface BootPlan {
  readonly generation: number;
  readonly namespace: string;
  readonly networkName: string;
  readonly network: NetworkSpec;
  readonly classes: readonly PlanClass[];
  readonly profiles: ReadonlyMap<string, ProfileSpec>;
  /** Keyed by lowercase colon MAC. */
  readonly machines: ReadonlyMap<string, PlanMachine>;
}

/** The resources a plan is compiled from, already validated. */
export interface PlanSources {
  readonly network: BootNetwork;
  readonly profiles: readonly BootProfile[];
  readonly classes: readonly MachineClass[];
  readonly machines: readonly BootMachine[];
}

/** Compiles one network's plan. Classes limited to other networks and machines pinned elsewhere are left out. */
export function compilePlan(sources: PlanSources, generation: number): BootPlan {
  const networkName = sources.network.metadata.name;
  const classes = sources.classes
    .filter((c) => c.spec.networks === undefined || c.spec.networks.length === 0 || c.spec.networks.includes(networkName))
    .map((c) => ({ name: c.metadata.name, spec: c.spec }));
  const machines = new Map<string, PlanMachine>();
  for (const m of sources.machines) {
    if (m.spec.network !== undefined && m.spec.network !== networkName) continue;
    const completedAt = m.status?.boot?.completedAt;
    machines.set(m.spec.mac, { name: m.metadata.name, spec: m.spec, labels: m.metadata.labels ?? {}, ...(completedAt === undefined ? {} : { completedAt }) });
  }
  return {
    generation,
    namespace: sources.network.metadata.namespace ?? 'default',
    networkName,
    network: sources.network.spec,
    classes,
    profiles: new Map(sources.profiles.map((p) => [p.metadata.name, p.spec])),
    machines,
  };
}
