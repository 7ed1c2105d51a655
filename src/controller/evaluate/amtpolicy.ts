/**
 * AmtNetworkPolicy: whether its spec is a valid combination of Intel's IP
 * configuration table, whether its provisioning certificate passes Intel's
 * checks, the certificate's summary, and counts over the machines whose
 * class names the policy (matched, suffix OK, window open, window expired).
 *
 * The CRD's CEL rules reject invalid combinations at `kubectl apply`; the
 * ConfigValid check covers objects that never passed the API server
 * (standalone YAML) and CRDs older than a rule. The counts come from the
 * same evaluation the machines get (../amt.ts), at the same `now`, so they
 * never disagree with the machines' own status for long, and the policy is
 * requeued when the next window among them closes.
 */
import { certificateTransitions, certificateTrust } from '../../amt/certificate.ts';
import type { CertificateSummary } from '../../amt/certificate.ts';
import { amtPolicyStatus } from '../../amt/evaluate.ts';
import type { AmtEvaluation } from '../../amt/evaluate.ts';
import { AmtConditionType } from '../../amt/reasons.ts';
import { AmtRules } from '../../api/v1alpha1/amtnetworkpolicy.ts';
import type { AmtNetworkPolicy } from '../../api/v1alpha1/amtnetworkpolicy.ts';
import type { BootMachine } from '../../api/v1alpha1/bootmachine.ts';
import type { BootNetwork } from '../../api/v1alpha1/bootnetwork.ts';
import type { DesiredCondition } from '../../api/v1alpha1/conditions.ts';
import { certificateRead } from '../amt-certificates.ts';
import { evaluateMachineAmt } from '../amt.ts';
import { ConditionType, EventReason, Reason } from '../reasons.ts';
import { failureEvents, generationOf, objectConditions, readyFrom } from './common.ts';
import type { ControllerAmtPolicyStatus, EventSpec } from './types.ts';

export interface AmtPolicyInput {
  readonly policy: AmtNetworkPolicy;
  /** The BootMachines whose resolved class names this policy. */
  readonly machines: readonly BootMachine[];
  readonly now: Date;
  /** The certificate read from the policy's Secrets; undefined when it names none (or it was not read). */
  readonly certificate?: CertificateSummary | undefined;
  /** The BootNetwork a machine was seen on, for its remediation context. */
  readonly networkOf?: (machine: BootMachine) => BootNetwork | undefined;
}

export interface AmtPolicyResult {
  readonly status: ControllerAmtPolicyStatus;
  readonly events: EventSpec[];
  /** The next instant a count or the certificate's validity changes; requeue then. */
  readonly nextTransition?: Date;
}

/** Evaluates one AmtNetworkPolicy. Pure. */
export function evaluateAmtPolicy(input: AmtPolicyInput): AmtPolicyResult {
  const { policy, now, certificate } = input;
  const generation = generationOf(policy);
  const broken = AmtRules.filter((r) => !r.holds(policy.spec));
  const config: DesiredCondition = broken.length === 0
    ? { type: ConditionType.ConfigValid, status: 'True', reason: Reason.Valid, message: 'the addressing, FQDN and certificate settings are a valid combination' }
    : { type: ConditionType.ConfigValid, status: 'False', reason: Reason.InvalidCombination, message: broken.map((r) => r.message).join('; ') };
  const checks: DesiredCondition[] = [config];
  // Only for a policy that names a certificate: one that names none has nothing to check (its machines say NoCertificate).
  if (policy.spec.certificate !== undefined) checks.push({ type: AmtConditionType.CertificateTrusted, ...certificateTrust(certificate, now, 'policy') });
  const ready = readyFrom(checks, 'the policy is valid');

  const evaluations: AmtEvaluation[] = [];
  for (const machine of input.machines) {
    const r = evaluateMachineAmt(machine, { policyName: policy.metadata.name, policy, certificate, network: input.networkOf?.(machine) }, undefined, now);
    if (r.evaluation !== undefined) evaluations.push(r.evaluation);
  }
  const counted = amtPolicyStatus(certificateRead(certificate) ? certificate : undefined, evaluations);
  const next = [...evaluations.map((e) => e.nextTransition), ...certificateTransitions(certificate)]
    .filter((d): d is Date => d !== undefined && d.getTime() > now.getTime())
    .sort((a, b) => a.getTime() - b.getTime())[0];
  return {
    status: {
      observedGeneration: generation,
      conditions: objectConditions(policy.status?.conditions, ready, checks, generation, now),
      ...counted,
    },
    events: failureEvents(policy.status?.conditions, [config], () => EventReason.InvalidSpec),
    ...(next === undefined ? {} : { nextTransition: next }),
  };
}
