/**
 * BootNetwork: the agent DaemonSet to apply and the controller's part of the
 * status (plan generation, agent rollout, what agents serve, discovery).
 *
 * Ready=True means: the spec's references exist, every selected node runs a
 * ready agent, and every agent serves the current plan generation. A network
 * whose nodeSelector matches no node is Ready=False with reason NoNodes: it
 * serves nobody, and a green status would hide a typo in the selector.
 * The rollout and plan reasons clear by themselves (TransientReasons: they
 * set Reconciling, which kstatus reads as InProgress); NoNodes and
 * ProfileNotFound wait for a person and set Stalled (kstatus Failed).
 * DiscoveryCapped does not make Ready False: the network still serves every
 * known machine, the cap is the configured limit doing its job, and a
 * network kept at its cap on purpose must not read as broken to Argo CD or
 * `kubectl wait`; it is raised as a Warning event and its own condition.
 */
import type { V1DaemonSet } from '@kubernetes/client-node';
import type { DesiredCondition } from '../../api/v1alpha1/conditions.ts';
import type { BootNetwork } from '../../api/v1alpha1/bootnetwork.ts';
import { renderAgentDaemonSet } from '../daemonset.ts';
import type { AgentPodOptions } from '../daemonset.ts';
import { ConditionType, EventReason, Reason } from '../reasons.ts';
import { failureEvents, findCondition, generationOf, objectConditions, plural, readyFrom } from './common.ts';
import type { ControllerNetworkStatus, EventSpec } from './types.ts';

export interface NetworkInput {
  readonly network: BootNetwork;
  /** The agent DaemonSet as the cache last saw it; undefined when it does not exist yet. */
  readonly daemonSet?: V1DaemonSet;
  /** planDigest() of the plan compiled from the network's current sources. */
  readonly planDigest: string;
  /** Names of the BootProfiles in the network's namespace. */
  readonly profiles: ReadonlySet<string>;
  /** BootMachines discovery created on this network (label netboot.dev/discovered). */
  readonly discovered: number;
  /** Unknown MACs the agents saw but did not record (cap or rate reached); absent when unknown. */
  readonly discoveryCapped?: number;
  readonly agent: AgentPodOptions;
  readonly now: Date;
}

export interface NetworkResult {
  readonly daemonSet: V1DaemonSet;
  readonly status: ControllerNetworkStatus;
  readonly events: EventSpec[];
}

type AgentReport = NonNullable<NonNullable<BootNetwork['status']>['agentReports']>[number];

/** The next planGeneration: unchanged while the digest is, else one more (the first is 1). */
export function nextPlanGeneration(status: BootNetwork['status'], digest: string): number {
  const previous = status?.planGeneration;
  if (previous !== undefined && status?.planDigest === digest) return previous;
  return (previous ?? 0) + 1;
}

/** Agents desired/ready from the DaemonSet's status, and the AgentsReady condition. */
export function agentsCondition(network: BootNetwork, ds: V1DaemonSet | undefined): { desired: number; ready: number; condition: DesiredCondition } {
  const type = ConditionType.AgentsReady;
  const desired = ds?.status?.desiredNumberScheduled ?? 0;
  const ready = ds?.status?.numberReady ?? 0;
  const updated = ds?.status?.updatedNumberScheduled ?? 0;
  const of = `${ready}/${desired} agents ready`;
  const make = (status: 'True' | 'False', reason: string, message: string) => ({ desired, ready, condition: { type, status, reason, message } });
  if (ds === undefined) return make('False', Reason.DaemonSetPending, 'the agent DaemonSet does not exist yet');
  const generation = ds.metadata?.generation ?? 0;
  const observed = ds.status?.observedGeneration;
  if (observed === undefined || observed < generation) {
    return make('False', Reason.RollingOut, `the DaemonSet controller has not processed generation ${generation} of DaemonSet ${ds.metadata?.name ?? ''} yet (${of})`);
  }
  if (desired === 0) {
    const selector = JSON.stringify({ 'kubernetes.io/os': 'linux', ...network.spec.nodeSelector });
    const tolerations = network.spec.tolerations?.length ?? 0;
    return make('False', Reason.NoNodes, `no node matches nodeSelector ${selector}${tolerations === 0 ? ' (and no tolerations are set, so tainted nodes are excluded)' : ` with ${plural(tolerations, 'toleration')}`}: `
      + 'label the nodes attached to this segment, or change spec.nodeSelector');
  }
  if (updated < desired) return make('False', Reason.RollingOut, `${updated}/${desired} agents run the current pod template, ${of}`);
  if (ready < desired) return make('False', Reason.AgentsNotReady, `${of}: see the agent pods (kubectl get pods -l app.kubernetes.io/instance=${network.metadata.name}) for image pulls, crashes or ports already in use`);
  return make('True', Reason.AgentsReady, network.spec.mode === 'dhcp' && desired > 1 ? `${of}; ${dhcpStandbyMessage(desired)}` : of);
}

/** Mode dhcp with more than one agent: what the agents do about it, and what to do. */
export function dhcpStandbyMessage(agents: number): string {
  return `mode dhcp: one agent answers DHCP and ${plural(agents - 1, 'agent')} stand by (status.agentReports[].dhcp), since each keeps its own lease table; `
    + 'select one node with spec.nodeSelector';
}

/** PlanServed, planServed and the summed counters from the agents' own reports. */
export function planCondition(reports: readonly AgentReport[], planGeneration: number, readyAgents: number): { planServed?: number; counters?: Record<string, number>; condition: DesiredCondition } {
  const type = ConditionType.PlanServed;
  if (reports.length === 0) {
    return { condition: { type, status: 'False', reason: Reason.NoAgentReports, message: 'no agent has reported the plan it serves yet' } };
  }
  // An agent that never matched a published digest serves no generation: count it as 0.
  const served = reports.map((r) => r.planGeneration ?? 0);
  const planServed = Math.min(...served);
  const counters: Record<string, number> = {};
  for (const r of reports) for (const [k, v] of Object.entries(r.counters ?? {})) counters[k] = (counters[k] ?? 0) + v;
  const behind = reports.filter((r) => r.planGeneration !== planGeneration).map((r) => `${r.node} (${r.planGeneration ?? 'none'})`);
  const withCounters = Object.keys(counters).length === 0 ? {} : { counters };
  if (behind.length > 0) {
    const shown = behind.slice(0, 5).join(', ') + (behind.length > 5 ? `, and ${behind.length - 5} more` : '');
    return { planServed, ...withCounters, condition: { type, status: 'False', reason: Reason.PlanNotServed, message: `${plural(behind.length, 'agent')} of ${reports.length} still serve an older plan than generation ${planGeneration}: ${shown}` } };
  }
  if (reports.length < readyAgents) {
    return { planServed, ...withCounters, condition: { type, status: 'False', reason: Reason.PlanNotServed, message: `${reports.length} of ${readyAgents} ready agents have reported plan generation ${planGeneration}` } };
  }
  return { planServed, ...withCounters, condition: { type, status: 'True', reason: Reason.PlanServed, message: `${plural(reports.length, 'agent')} serve plan generation ${planGeneration}` } };
}

function discoveryCondition(network: BootNetwork, discovered: number, notRecorded: number | undefined): DesiredCondition {
  const type = ConditionType.DiscoveryCapped;
  const { maxMachines } = network.spec.discovery;
  if (network.spec.unknownMachines === 'ignore') {
    return { type, status: 'False', reason: Reason.DiscoveryDisabled, message: 'unknownMachines is ignore: discovery creates no BootMachines' };
  }
  if (discovered < maxMachines) {
    return { type, status: 'False', reason: Reason.BelowCap, message: `discovery created ${discovered} of at most ${maxMachines} BootMachines` };
  }
  const lost = notRecorded === undefined || notRecorded === 0 ? '' : `; ${plural(notRecorded, 'more unknown MAC')} were seen but not recorded`;
  return {
    type, status: 'True', reason: Reason.CapReached,
    message: `discovery created ${discovered} BootMachines, the cap of spec.discovery.maxMachines (${maxMachines})${lost}. `
      + 'Delete discovered machines you do not need (kubectl delete bootmachines -l netboot.dev/discovered=true) or raise spec.discovery.maxMachines',
  };
}

/** Evaluates one BootNetwork. Pure: the clock is `now`, the world is the input. */
export function evaluateNetwork(input: NetworkInput): NetworkResult {
  const { network, now } = input;
  const prev = network.status;
  const generation = generationOf(network);
  const planGeneration = nextPlanGeneration(prev, input.planDigest);

  const defaultProfile = network.spec.defaultProfile;
  const config: DesiredCondition = defaultProfile !== undefined && !input.profiles.has(defaultProfile)
    ? { type: ConditionType.ConfigValid, status: 'False', reason: Reason.ProfileNotFound, message: `spec.defaultProfile names BootProfile "${defaultProfile}", which does not exist in namespace ${network.metadata.namespace ?? 'default'}` }
    : { type: ConditionType.ConfigValid, status: 'True', reason: Reason.Valid, message: 'the spec is valid and its references exist' };
  const agents = agentsCondition(network, input.daemonSet);
  const plan = planCondition(prev?.agentReports ?? [], planGeneration, agents.ready);
  const discovery = discoveryCondition(network, input.discovered, input.discoveryCapped);
  const checks = [config, agents.condition, plan.condition];
  const ready = readyFrom(checks, `${agents.ready}/${agents.desired} agents serve plan generation ${planGeneration}`
    + (discovery.status === 'True' ? '; discovery is capped (see DiscoveryCapped)' : ''));

  const status: ControllerNetworkStatus = {
    observedGeneration: generation,
    conditions: objectConditions(prev?.conditions, ready, [...checks, discovery], generation, now),
    agents: { desired: agents.desired, ready: agents.ready },
    agentsReady: `${agents.ready}/${agents.desired}`,
    planGeneration,
    planDigest: input.planDigest,
    ...(plan.planServed === undefined ? {} : { planServed: plan.planServed }),
    discovered: input.discovered,
    ...(input.discoveryCapped === undefined ? {} : { discoveryCapped: input.discoveryCapped }),
    ...(plan.counters === undefined ? {} : { counters: plan.counters }),
  };

  const events: EventSpec[] = failureEvents(prev?.conditions, [config]);
  const wasCapped = findCondition(prev?.conditions, ConditionType.DiscoveryCapped)?.status === 'True';
  if (discovery.status === 'True' && !wasCapped) events.push({ type: 'Warning', reason: EventReason.DiscoveryCapped, message: discovery.message });
  const agentsWere = findCondition(prev?.conditions, ConditionType.AgentsReady)?.status;
  // A new network starts not ready, which is no news: warn only when ready agents go away.
  if (agents.condition.status === 'True' && agentsWere !== 'True') events.push({ type: 'Normal', reason: EventReason.AgentsReady, message: agents.condition.message });
  if (agents.condition.status !== 'True' && agentsWere === 'True') events.push({ type: 'Warning', reason: EventReason.AgentsNotReady, message: agents.condition.message });
  if (network.spec.mode === 'dhcp' && agents.desired > 1 && (prev?.agents?.desired ?? 0) <= 1) {
    events.push({ type: 'Warning', reason: EventReason.DhcpAgentsStandBy, message: `${agents.desired} nodes run an agent for this network; ${dhcpStandbyMessage(agents.desired)}` });
  }

  return { daemonSet: renderAgentDaemonSet(network, input.agent), status, events };
}
