/**
 * MachineClass: how many machines it resolves for, and whether what it
 * assigns exists. Ready=True means its BootProfile (and AmtNetworkPolicy,
 * when set) exist, so the machines it matches can boot.
 */
import type { DesiredCondition } from '../../api/v1alpha1/conditions.ts';
import type { BootMachine } from '../../api/v1alpha1/bootmachine.ts';
import type { MachineClass } from '../../api/v1alpha1/machineclass.ts';
import { ConditionType, Reason } from '../reasons.ts';
import { failureEvents, generationOf, objectConditions, plural, readyFrom } from './common.ts';
import type { ControllerClassStatus, EventSpec } from './types.ts';

export interface ClassInput {
  readonly machineClass: MachineClass;
  /** BootMachines in the class's namespace, with the status.machineClass the controller resolved. */
  readonly machines: readonly BootMachine[];
  /** Names of the BootProfiles in the namespace. */
  readonly profiles: ReadonlySet<string>;
  /** Names of the AmtNetworkPolicies in the namespace. */
  readonly amtPolicies: ReadonlySet<string>;
  readonly now: Date;
}

export interface ClassResult {
  readonly status: ControllerClassStatus;
  readonly events: EventSpec[];
}

/** Evaluates one MachineClass. Pure. */
export function evaluateClass(input: ClassInput): ClassResult {
  const { machineClass: cls, now } = input;
  const name = cls.metadata.name;
  const namespace = cls.metadata.namespace ?? 'default';
  const generation = generationOf(cls);
  const matchedMachines = input.machines.filter((m) => m.status?.machineClass === name).length;

  const checks: DesiredCondition[] = [input.profiles.has(cls.spec.profile)
    ? { type: ConditionType.ProfileResolved, status: 'True', reason: Reason.ProfileFound, message: `BootProfile "${cls.spec.profile}"` }
    : { type: ConditionType.ProfileResolved, status: 'False', reason: Reason.ProfileNotFound, message: `spec.profile names BootProfile "${cls.spec.profile}", which does not exist in namespace ${namespace}` }];
  const policy = cls.spec.amtPolicy;
  if (policy !== undefined) {
    checks.push(input.amtPolicies.has(policy)
      ? { type: ConditionType.AmtPolicyResolved, status: 'True', reason: Reason.AmtPolicyFound, message: `AmtNetworkPolicy "${policy}"` }
      : { type: ConditionType.AmtPolicyResolved, status: 'False', reason: Reason.AmtPolicyNotFound, message: `spec.amtPolicy names AmtNetworkPolicy "${policy}", which does not exist in namespace ${namespace}` });
  }
  const ready = readyFrom(checks, `assigns BootProfile "${cls.spec.profile}" to ${plural(matchedMachines, 'machine')}`);
  return {
    status: {
      observedGeneration: generation,
      conditions: objectConditions(cls.status?.conditions, ready, checks, generation, now),
      matchedMachines,
    },
    events: failureEvents(cls.status?.conditions, checks),
  };
}
