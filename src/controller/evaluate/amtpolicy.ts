/**
 * AmtNetworkPolicy: for now only whether its spec is a valid combination of
 * Intel's IP configuration table. The CRD's CEL rules reject invalid ones at
 * `kubectl apply`; this check covers objects that never passed the API
 * server (standalone YAML) and CRDs older than a rule. The certificate and
 * per-machine counts come with the AMT rule engine and stay absent here.
 */
import { AmtRules } from '../../api/v1alpha1/amtnetworkpolicy.ts';
import type { AmtNetworkPolicy } from '../../api/v1alpha1/amtnetworkpolicy.ts';
import type { BootMachine } from '../../api/v1alpha1/bootmachine.ts';
import type { DesiredCondition } from '../../api/v1alpha1/conditions.ts';
import { ConditionType, EventReason, Reason } from '../reasons.ts';
import { failureEvents, generationOf, objectConditions, readyFrom } from './common.ts';
import type { ControllerAmtPolicyStatus, EventSpec } from './types.ts';

export interface AmtPolicyInput {
  readonly policy: AmtNetworkPolicy;
  /** BootMachines in the namespace; unused until the AMT rule engine counts them. */
  readonly machines: readonly BootMachine[];
  readonly now: Date;
}

export interface AmtPolicyResult {
  readonly status: ControllerAmtPolicyStatus;
  readonly events: EventSpec[];
}

/** Evaluates one AmtNetworkPolicy. Pure. */
export function evaluateAmtPolicy(input: AmtPolicyInput): AmtPolicyResult {
  const { policy, now } = input;
  const generation = generationOf(policy);
  const broken = AmtRules.filter((r) => !r.holds(policy.spec));
  const config: DesiredCondition = broken.length === 0
    ? { type: ConditionType.ConfigValid, status: 'True', reason: Reason.Valid, message: 'the addressing, FQDN and certificate settings are a valid combination' }
    : { type: ConditionType.ConfigValid, status: 'False', reason: Reason.InvalidCombination, message: broken.map((r) => r.message).join('; ') };
  const ready = readyFrom([config], 'the policy is valid');
  return {
    status: {
      observedGeneration: generation,
      conditions: objectConditions(policy.status?.conditions, ready, [config], generation, now),
    },
    events: failureEvents(policy.status?.conditions, [config], () => EventReason.InvalidSpec),
  };
}
