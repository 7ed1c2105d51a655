/**
 * The condition types, condition reasons and event reasons the controller
 * writes. They are API: `kubectl wait`, kstatus, Argo CD health checks and
 * alert rules match on them, so they are CamelCase constants that only ever
 * gain members. The docs list them from the comments below.
 *
 * Every kind carries `Ready`, which summarises its other conditions: when
 * one of them is False, Ready is False with that condition's reason and
 * message, so `kubectl get -o wide` shows why without a describe.
 *
 * Every kind also carries `Reconciling` and `Stalled`, derived from Ready for
 * the tools that do not read Ready: kstatus (kpt, Config Sync, Flux, cli-utils)
 * only knows these "abnormal-true" conditions, and calls a custom resource
 * Current whenever neither is True. Which of the two a failing Ready sets is
 * TransientReasons' decision, the same one the Argo CD health checks make.
 */

/** Condition types, per kind. */
export const ConditionType = {
  /** Every kind: the object is fully in effect (see each evaluator for what that means per kind). */
  Ready: 'Ready',
  /** Every kind: Ready is not True yet for a reason that clears by itself (same reason and message as Ready); kstatus reads it as InProgress. */
  Reconciling: 'Reconciling',
  /** Every kind: Ready is False for a reason that does not clear by itself (same reason and message as Ready); kstatus reads it as Failed. */
  Stalled: 'Stalled',
  /** BootNetwork, AmtNetworkPolicy: the spec is consistent and what it references exists. */
  ConfigValid: 'ConfigValid',
  /** BootNetwork: the agent DaemonSet runs a ready agent on every node the network selects. */
  AgentsReady: 'AgentsReady',
  /** BootNetwork: every agent reports it serves the current plan generation. */
  PlanServed: 'PlanServed',
  /** BootNetwork: discovery reached spec.discovery.maxMachines and records new MACs only as a count. Informational: it does not make Ready False. */
  DiscoveryCapped: 'DiscoveryCapped',
  /** BootMachine: a MachineClass (or the network's defaultProfile) applies to the machine. */
  ClassResolved: 'ClassResolved',
  /** BootMachine, MachineClass: the BootProfile the object resolves to exists. */
  ProfileResolved: 'ProfileResolved',
  /** MachineClass: the AmtNetworkPolicy named in spec.amtPolicy exists. Only present when spec.amtPolicy is set. */
  AmtPolicyResolved: 'AmtPolicyResolved',
  /** BootProfile: the iPXE template renders; every {{ field }} in it is one the renderer knows. */
  TemplateValid: 'TemplateValid',
  /** BootMachine: the last boot did not fail or stall. Unknown until the machine has booted once. */
  BootHealthy: 'BootHealthy',
} as const;
export type ConditionTypeName = (typeof ConditionType)[keyof typeof ConditionType];

/** Condition reasons. The condition each belongs to is named first. */
export const Reason = {
  /** Ready=True, Reconciling=False, Stalled=False: every other condition of the object holds. */
  Ready: 'Ready',
  /** Stalled=False: Ready is not True, but for a reason that clears by itself; see Reconciling. */
  Reconciling: 'Reconciling',
  /** Reconciling=False: Ready is False for a reason that does not clear by itself; see Stalled. */
  Stalled: 'Stalled',
  /** ConfigValid=True, TemplateValid=True: nothing wrong found. */
  Valid: 'Valid',

  /** ConfigValid=False (BootNetwork), ProfileResolved=False: a referenced BootProfile does not exist in the namespace. */
  ProfileNotFound: 'ProfileNotFound',
  /** ConfigValid=False (AmtNetworkPolicy): the spec breaks a rule of Intel's AMT IP configuration table; the message names it. */
  InvalidCombination: 'InvalidCombination',

  /** AgentsReady=False: the agent DaemonSet does not exist yet (it is created by this reconcile). Transient: as Ready's reason it sets Reconciling, not Stalled. */
  DaemonSetPending: 'DaemonSetPending',
  /** AgentsReady=False: the DaemonSet controller has not caught up with the latest DaemonSet spec, or pods are being replaced. Transient: as Ready's reason it sets Reconciling, not Stalled. */
  RollingOut: 'RollingOut',
  /** AgentsReady=False: no node matches the network's nodeSelector and tolerations, so nothing serves the network. */
  NoNodes: 'NoNodes',
  /** AgentsReady=False: some selected nodes have no ready agent (image pull, crash, a port already taken, readiness probe failing). Transient: as Ready's reason it sets Reconciling, not Stalled. */
  AgentsNotReady: 'AgentsNotReady',
  /** AgentsReady=True: every selected node runs a ready agent. */
  AgentsReady: 'AgentsReady',

  /** PlanServed=True: every agent serves the current planGeneration. */
  PlanServed: 'PlanServed',
  /** PlanServed=False: some agent still serves an older plan, or has not reported the current one yet. Transient: as Ready's reason it sets Reconciling, not Stalled. */
  PlanNotServed: 'PlanNotServed',
  /** PlanServed=False: no agent has reported what it serves. Transient: as Ready's reason it sets Reconciling, not Stalled. */
  NoAgentReports: 'NoAgentReports',

  /** DiscoveryCapped=True: discovery created spec.discovery.maxMachines BootMachines and stopped creating more. */
  CapReached: 'CapReached',
  /** DiscoveryCapped=False: discovery may still create BootMachines. */
  BelowCap: 'BelowCap',
  /** DiscoveryCapped=False: spec.unknownMachines is ignore, so discovery creates nothing. */
  DiscoveryDisabled: 'DiscoveryDisabled',

  /** ClassResolved=True: a MachineClass selector matches the machine. */
  ClassMatched: 'ClassMatched',
  /** ClassResolved=True: no selector matches; a default MachineClass applies. */
  DefaultClass: 'DefaultClass',
  /** ClassResolved=True: spec.machineClass pins the class. */
  ClassPinned: 'ClassPinned',
  /** ClassResolved=True: spec.profile pins the profile (a class may or may not also apply). */
  ProfilePinned: 'ProfilePinned',
  /** ClassResolved=True: no class applies; the network's defaultProfile does. */
  NetworkDefaultProfile: 'NetworkDefaultProfile',
  /** ClassResolved=False: no class matches and the network has no defaultProfile, so agents will not answer the machine. */
  NoClassMatched: 'NoClassMatched',
  /** ClassResolved=False: spec.machineClass names a MachineClass that does not exist or does not apply to the machine's network. */
  ClassNotFound: 'ClassNotFound',
  /** ClassResolved=False: spec.network names a BootNetwork that does not exist. */
  NetworkNotFound: 'NetworkNotFound',

  /** ProfileResolved=True: the BootProfile exists. */
  ProfileFound: 'ProfileFound',
  /** ProfileResolved=False (BootMachine): no class resolved, so there is no profile to look for. */
  ClassNotResolved: 'ClassNotResolved',

  /** AmtPolicyResolved=True: the AmtNetworkPolicy exists. */
  AmtPolicyFound: 'AmtPolicyFound',
  /** AmtPolicyResolved=False: spec.amtPolicy names an AmtNetworkPolicy that does not exist in the namespace. */
  AmtPolicyNotFound: 'AmtPolicyNotFound',

  /** TemplateValid=False: the iPXE template uses a {{ field }} the renderer does not know; the message names it and the spec field. */
  UnknownTemplateField: 'UnknownTemplateField',

  /** BootHealthy=Unknown: no agent has seen the machine boot yet. */
  NotBooted: 'NotBooted',
  /** BootHealthy=True: the last boot reached the iPXE script (or the local-disk script). */
  Booted: 'Booted',
  /** BootHealthy=True: a boot is under way and has not stalled. */
  BootInProgress: 'BootInProgress',
  /** BootHealthy=True: spec.netboot is deny, so the agents' silence is policy, not a failure. */
  NetbootDenied: 'NetbootDenied',
  /** BootHealthy=False: the agent stopped answering the last boot; the message is status.boot.stoppedReason. */
  BootStopped: 'BootStopped',
  /** BootHealthy=False: the first-stage loader transfer failed (TFTP). */
  TftpFailed: 'TftpFailed',
  /** BootHealthy=False: the last boot went quiet before fetching its iPXE script (firmware gave up, or a step failed where no agent could see it). */
  BootStalled: 'BootStalled',
} as const;
export type ReasonName = (typeof Reason)[keyof typeof Reason];

/**
 * The Ready=False reasons that clear without anyone changing a spec: a
 * DaemonSet being created or rolled out, agents starting, a new plan still
 * spreading to them. With one of these, Ready=False sets Reconciling=True
 * (kstatus InProgress, Argo CD Progressing). Every other Ready=False reason is
 * terminal: it sets Stalled=True (kstatus Failed, Argo CD Degraded) and stays
 * until someone changes the spec, creates what it references, or the machine
 * boots again. AgentsNotReady is transient although a crash-looping agent
 * may need a person: pods are restarted by the kubelet, and, as for a
 * Deployment before its progress deadline, waiting is the honest answer.
 *
 * Terminal is the default on purpose: a reason added later reads as Failed
 * until it is listed here, never as an endless InProgress that holds a
 * `kpt live apply` or an Argo CD sync. The doc comment of each reason listed
 * here says "Transient" (test/unit/controller/reasons.test.ts checks both
 * ways), so docs/conditions.md shows it. scripts/gen-argocd.ts builds the Argo
 * CD health checks from this list.
 */
export const TransientReasons: readonly ReasonName[] = [
  Reason.DaemonSetPending,
  Reason.RollingOut,
  Reason.AgentsNotReady,
  Reason.PlanNotServed,
  Reason.NoAgentReports,
];

/** Whether a Ready=False `reason` clears by itself (see TransientReasons). */
export function isTransientReason(reason: string): boolean {
  return (TransientReasons as readonly string[]).includes(reason);
}

/** Event reasons (kubectl get events, kubectl describe). */
export const EventReason = {
  /** Normal, BootMachine: an agent created this machine on first sight (unknownMachines discover or boot). */
  Discovered: 'Discovered',
  /** Normal, BootMachine: the resolved MachineClass changed ("class a -> b"). */
  ClassChanged: 'ClassChanged',
  /** Warning, BootMachine: a new boot failure or stall was reported. */
  BootFailed: 'BootFailed',
  /** Warning, BootNetwork: discovery reached its cap; new MACs are no longer recorded as BootMachines. */
  DiscoveryCapped: 'DiscoveryCapped',
  /** Normal, BootNetwork: every selected node now runs a ready agent. */
  AgentsReady: 'AgentsReady',
  /** Warning, BootNetwork: agents were all ready and no longer are. */
  AgentsNotReady: 'AgentsNotReady',
  /** Warning, any kind: a reference (profile, AMT policy) now points at nothing. */
  ReferenceMissing: 'ReferenceMissing',
  /** Warning, BootProfile, AmtNetworkPolicy: the spec became invalid (unknown template field, invalid AMT combination). */
  InvalidSpec: 'InvalidSpec',
  /** Warning, BootMachine: the DNS suffix AMT knows stopped matching the provisioning certificate (AmtDnsSuffixMatched became False); the message is the remediation, naming the network and the deadline. */
  AmtSuffixMismatch: 'AmtSuffixMismatch',
  /** Warning, BootNetwork: mode dhcp and more than one node runs an agent; one answers DHCP, the others stand by. */
  DhcpAgentsStandBy: 'DhcpAgentsStandBy',
  /** Normal, BootNetwork: an agentReports entry was removed because no agent pod runs on its node any more (src/controller/stale-reports.ts). */
  StaleAgentReportRemoved: 'StaleAgentReportRemoved',
} as const;
export type EventReasonName = (typeof EventReason)[keyof typeof EventReason];
