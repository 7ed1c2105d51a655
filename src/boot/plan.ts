/**
 * The boot plan: everything an agent needs to answer one network's PXE
 * clients, compiled from the resources. Pure data; the controller (or the
 * standalone loader) builds it, agents only read it.
 */
import type { AmtNetworkPolicy } from '../api/v1alpha1/amtnetworkpolicy.ts';
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
  /**
   * The controller's verdict in status.amt.suffixMatch, carried only when it
   * is Mismatch on a machine not yet provisioned: the one case an agent acts
   * on (a short lease), so Match/Unknown flips do not change the plan.
   */
  readonly amtSuffixMatch?: 'Mismatch';
}

/** An AmtNetworkPolicy's remediation block, as the agent needs it for short leases. */
export interface PlanAmtRemediation {
  readonly shortenLease: boolean;
  readonly shortLeaseSeconds: number;
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
  /**
   * Mode dhcp only: the remediation of each AmtNetworkPolicy a class of this
   * plan names whose spec.remediation.shortenLease is on, by policy name.
   * Absent when there is none (the digest then does not change).
   */
  readonly amtRemediation?: ReadonlyMap<string, PlanAmtRemediation>;
}

/** The resources a plan is compiled from, already validated. */
export interface PlanSources {
  readonly network: BootNetwork;
  readonly profiles: readonly BootProfile[];
  readonly classes: readonly MachineClass[];
  readonly machines: readonly BootMachine[];
  /** The namespace's AmtNetworkPolicies; only their remediation block is read. */
  readonly amtPolicies?: readonly AmtNetworkPolicy[];
}

/** Compiles one network's plan. Classes limited to other networks and machines pinned elsewhere are left out. */
export function compilePlan(sources: PlanSources, generation: number): BootPlan {
  const networkName = sources.network.metadata.name;
  const classes = sources.classes
    .filter((c) => c.spec.networks === undefined || c.spec.networks.length === 0 || c.spec.networks.includes(networkName))
    .map((c) => ({ name: c.metadata.name, spec: c.spec }));
  const machines = new Map<string, PlanMachine>();
  // completedAt matters only to "once" boots (decideScript). Carrying it for
  // every machine would change the plan's digest on every finished boot, and
  // each change costs a plan generation and a report write per agent.
  const anyOnceProfile = sources.profiles.some((p) => p.spec.bootPolicy === 'once');
  for (const m of sources.machines) {
    if (m.spec.network !== undefined && m.spec.network !== networkName) continue;
    const completedAt = anyOnceProfile || m.spec.netboot === 'once' ? m.status?.boot?.completedAt : undefined;
    machines.set(m.spec.mac, {
      name: m.metadata.name, spec: m.spec, labels: m.metadata.labels ?? {},
      ...(completedAt === undefined ? {} : { completedAt }),
      ...(amtMismatch(m) ? { amtSuffixMatch: 'Mismatch' as const } : {}),
    });
  }
  const amtRemediation = sources.network.spec.mode === 'dhcp' ? shortLeasePolicies(sources.amtPolicies ?? [], classes) : undefined;
  return {
    generation,
    namespace: sources.network.metadata.namespace ?? 'default',
    networkName,
    network: sources.network.spec,
    classes,
    profiles: new Map(sources.profiles.map((p) => [p.metadata.name, p.spec])),
    machines,
    ...(amtRemediation === undefined ? {} : { amtRemediation }),
  };
}

/** True when the controller found the machine's AMT suffix wrong and AMT is not provisioned yet. */
export function amtMismatch(m: Pick<BootMachine, 'status'>): boolean {
  return m.status?.amt?.suffixMatch === 'Mismatch' && m.status.amt.provisioningState !== 'post';
}

function shortLeasePolicies(policies: readonly AmtNetworkPolicy[], classes: readonly PlanClass[]): ReadonlyMap<string, PlanAmtRemediation> | undefined {
  const named = new Set(classes.map((c) => c.spec.amtPolicy).filter((n) => n !== undefined));
  const out = new Map<string, PlanAmtRemediation>();
  for (const p of policies) {
    if (!named.has(p.metadata.name) || !p.spec.remediation.shortenLease) continue;
    out.set(p.metadata.name, { shortenLease: true, shortLeaseSeconds: p.spec.remediation.shortLeaseSeconds });
  }
  return out.size === 0 ? undefined : out;
}
