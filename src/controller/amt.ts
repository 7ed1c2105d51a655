/**
 * The controller's side of AMT readiness, pure: gathers one machine's facts
 * from what is stored in the cluster (spec.amt, the agents' status.boot.amt,
 * the BootNetwork it was seen on), runs src/amt's evaluateAmt with its
 * policy and certificate at `now`, and shapes the result for BootMachine
 * status: status.amt, the four Amt* conditions, a Warning event when the
 * suffix starts to mismatch, and the next instant anything flips.
 *
 * Everything is recomputed from stored facts on every reconcile, so a
 * controller that was down while a window closed writes the right state on
 * its first reconcile after the restart.
 */
import { evaluateAmt } from '../amt/evaluate.ts';
import type { AmtEvaluation, AmtMachineFacts } from '../amt/evaluate.ts';
import type { CertificateSummary } from '../amt/certificate.ts';
import type { SuffixObservation } from '../amt/facts.ts';
import { AmtConditionType, AmtReason } from '../amt/reasons.ts';
import type { AmtNetworkContext } from '../amt/remediation.ts';
import { parseInstant } from '../amt/time.ts';
import type { AmtNetworkPolicy } from '../api/v1alpha1/amtnetworkpolicy.ts';
import type { AmtMachineStatus, AmtObservation } from '../api/v1alpha1/amtstatus.ts';
import type { BootMachine } from '../api/v1alpha1/bootmachine.ts';
import type { BootNetwork } from '../api/v1alpha1/bootnetwork.ts';
import type { Condition, DesiredCondition } from '../api/v1alpha1/conditions.ts';
import { EventReason } from './reasons.ts';
import type { EventSpec } from './evaluate/types.ts';

/** The four condition types, in the order they are written. */
export const AMT_CONDITION_TYPES: readonly string[] = [
  AmtConditionType.NetworkConfigValid, AmtConditionType.DnsSuffixMatched, AmtConditionType.ProvisioningWindowOpen, AmtConditionType.CertificateTrusted,
];

/** What the machine reconcile gathered for AMT: only present when the machine's class names a policy. */
export interface MachineAmtInput {
  /** spec.amtPolicy of the machine's resolved MachineClass. */
  readonly policyName: string;
  /** The policy; undefined when the class names one that does not exist. */
  readonly policy?: AmtNetworkPolicy | undefined;
  /** The policy's certificate as read from its Secrets (a failed read is a summary whose `readable` check fails). */
  readonly certificate?: CertificateSummary | undefined;
  /** The BootNetwork the machine was seen on (status.boot.network), else the one it boots on. */
  readonly network?: BootNetwork | undefined;
}

export interface MachineAmtResult {
  /** BootMachine status.amt; absent when the named policy does not exist. */
  readonly status?: AmtMachineStatus;
  /** The four Amt* conditions. */
  readonly conditions: readonly DesiredCondition[];
  readonly events: readonly EventSpec[];
  /** The next instant after `now` at which status.amt or a condition flips; requeue the machine then. */
  readonly nextTransition?: Date;
  readonly evaluation?: AmtEvaluation;
}

const suffixSightings = (list: AmtObservation['servedOption15']): SuffixObservation[] | undefined =>
  list?.map((o) => {
    const at = parseInstant(o.at);
    return at === undefined ? { value: o.value } : { value: o.value, at };
  });

/** The AMT context of a BootNetwork: its name, mode, and in mode dhcp the option 15 and lease it hands out. */
export function networkContext(network: BootNetwork | undefined): AmtNetworkContext | undefined {
  if (network === undefined) return undefined;
  return { name: network.metadata.name, mode: network.spec.mode, domainName: network.spec.dhcp?.domainName, leaseSeconds: network.spec.dhcp?.leaseSeconds };
}

/**
 * One machine's AMT facts, each from its best source: spec.amt (what the
 * user read in MEBx) over what agents observed (status.boot.amt). The
 * first sighting is kept once set: the agents' value, else the one the
 * controller wrote before (status.amt.firstSeenAt).
 */
export function amtFacts(machine: BootMachine, network: BootNetwork | undefined): AmtMachineFacts {
  const obs = machine.status?.boot?.amt;
  const probe = obs?.probe;
  const firstSeen = parseInstant(obs?.firstSeenAt) ?? parseInstant(machine.status?.amt?.firstSeenAt);
  const served = suffixSightings(obs?.servedOption15);
  const site = suffixSightings(obs?.siteOption15);
  const hello = obs?.hello;
  const leaseSeen = (served?.length ?? 0) + (site?.length ?? 0) > 0;
  return {
    version: { spec: machine.spec.amt?.version, httpServerHeader: probe?.httpServerHeader, rmcp: probe?.rmcp },
    provisioningState: probe?.provisioningState,
    suffix: { spec: machine.spec.amt?.dnsSuffix, servedOption15: served, siteOption15: site, osRequestedDomain: obs?.osRequestedDomain },
    osAnswering: probe?.osAnswering,
    firstSeen,
    attempts: hello === undefined ? undefined : { count: hello.count, last: parseInstant(hello.at), rootHashes: hello.rootHashes },
    network: networkContext(network),
    // Only what is certain: a DHCP lease was seen, so the host uses DHCP. The probed address is
    // not compared with the host's: probes only go to addresses the host was seen on, so a
    // difference means a renewed lease, not a dedicated AMT address.
    ...(leaseSeen ? { observed: { hostDhcp: true } } : {}),
  };
}

/** The machine's AMT status, conditions, event and next transition. Pure. */
export function evaluateMachineAmt(machine: BootMachine, input: MachineAmtInput, previous: readonly Condition[] | undefined, now: Date): MachineAmtResult {
  const { policy } = input;
  if (policy === undefined) {
    const message = `MachineClass ${machine.status?.machineClass ?? ''} names AmtNetworkPolicy ${input.policyName}, which does not exist in namespace ${machine.metadata.namespace ?? 'default'}: create it or fix the class's spec.amtPolicy`;
    return { conditions: AMT_CONDITION_TYPES.map((type) => ({ type, status: 'Unknown' as const, reason: AmtReason.NoAmtPolicy, message })), events: [] };
  }
  const evaluation = evaluateAmt(amtFacts(machine, input.network), { name: policy.metadata.name, spec: policy.spec }, input.certificate, now);
  const events: EventSpec[] = [];
  const suffix = evaluation.conditions.find((c) => c.type === AmtConditionType.DnsSuffixMatched);
  const before = previous?.find((c) => c.type === AmtConditionType.DnsSuffixMatched);
  if (suffix?.status === 'False' && (before?.status !== 'False' || before.reason !== suffix.reason)) {
    const fix = evaluation.status.remediation;
    events.push({ type: 'Warning', reason: EventReason.AmtSuffixMismatch, message: `${evaluation.suffix.message}${fix === undefined ? '' : `; to fix: ${fix}`}`.slice(0, 1024) });
  }
  return {
    status: evaluation.status,
    conditions: evaluation.conditions,
    events,
    ...(evaluation.nextTransition === undefined ? {} : { nextTransition: evaluation.nextTransition }),
    evaluation,
  };
}
