/**
 * One reconciler per kind, each the same three steps (STYLE principle 3):
 * gather from the caches by key, evaluate with the pure functions in
 * ../evaluate/, apply with server-side apply (the DaemonSet, then the
 * status; both skipped when nothing changed). Events are recorded only
 * after the status write, so a failed write that is retried does not
 * report its events twice.
 *
 * AMT (issue 5): a machine whose class names an AmtNetworkPolicy gets
 * status.amt and the Amt* conditions, and is requeued at the exact instant
 * the next of them flips (a window closes, a retry falls due, a certificate
 * expires). The policy re-reads its certificate Secrets on every reconcile,
 * requeues itself every CERTIFICATE_REFRESH_MS so a rotated Secret is seen
 * (no watch: the controller may only `get` them), and requeues its machines
 * when the certificate changed.
 */
import type { V1DaemonSet } from '@kubernetes/client-node';
import { compilePlan } from '../../boot/plan.ts';
import { planDigest } from '../../boot/plan-digest.ts';
import type { Applier, AppliedObject } from '../../kube/apply.ts';
import type { ApplyableObject, ObjectApplier } from '../../kube/apply-object.ts';
import type { Clock } from '../../kube/clock.ts';
import { splitKey } from '../../kube/informer.ts';
import type { ReconcileResult, Reconciler } from '../../kube/queue.ts';
import { agentDaemonSetName, agentPodSelector } from '../daemonset.ts';
import type { AgentPodOptions } from '../daemonset.ts';
import { evaluateAmtPolicy } from '../evaluate/amtpolicy.ts';
import { evaluateClass } from '../evaluate/class.ts';
import { evaluateMachine } from '../evaluate/machine.ts';
import { evaluateNetwork } from '../evaluate/network.ts';
import { evaluateProfile } from '../evaluate/profile.ts';
import type { EventSpec } from '../evaluate/types.ts';
import type { EventRecorder } from '../events.ts';
import { EventReason } from '../reasons.ts';
import { STALE_AFTER_MS } from '../stale-reports.ts';
import type { StaleReportPruner } from '../stale-reports.ts';
import type { AmtCertificates } from '../amt-certificates.ts';
import type { MachineAmtInput } from '../amt.ts';
import { resolveMachine } from '../evaluate/machine.ts';
import type { CachedKinds, ControllerCaches } from './caches.ts';
import type { QueueKind } from './fanout.ts';

/** The label discovery puts on the BootMachines it creates. */
export const DISCOVERED_LABEL = 'netboot.dev/discovered';
/** The agent counter (in status.agentReports[].counters) of unknown MACs discovery did not record. */
export const DISCOVERY_CAPPED_COUNTER = 'discoveryCapped';

/** What the reconcilers read and write through. */
export interface ReconcileContext {
  readonly caches: ControllerCaches;
  /** Status (and netboot.dev object) applies, behind the write gate. */
  readonly applier: Applier;
  /** DaemonSet applies, behind the write gate. */
  readonly objects: ObjectApplier;
  readonly events: EventRecorder;
  readonly agent: AgentPodOptions;
  readonly clock: Clock;
  /** AmtNetworkPolicy certificates, read from their Secrets and shared by policies and machines. */
  readonly certificates: AmtCertificates;
  /** Removes agentReports entries of agents that are gone (src/controller/stale-reports.ts). */
  readonly staleReports?: StaleReportPruner;
  /** Queues a key now (a policy whose certificate changed requeues its machines). */
  readonly enqueue?: (kind: QueueKind, key: string) => void;
}

/** How often a policy re-reads its certificate Secrets when nothing else requeues it. */
export const CERTIFICATE_REFRESH_MS = 5 * 60_000;

/**
 * The longest requeue: a certificate that expires in a year must not become
 * a timer beyond setTimeout's 24.8-day limit (it would fire at once, in a
 * loop). A machine looked at every 12 hours for nothing costs no write.
 */
export const MAX_REQUEUE_MS = 12 * 3_600_000;

/** The soonest of several requeue delays (ms), ignoring absent ones, capped at MAX_REQUEUE_MS; undefined when none. */
function soonest(...delays: (number | undefined)[]): ReconcileResult {
  const ms = delays.filter((d): d is number => d !== undefined).sort((a, b) => a - b)[0];
  return ms === undefined ? undefined : { requeueAfterMs: Math.min(MAX_REQUEUE_MS, Math.max(1, ms)) };
}

type Obj = CachedKinds[QueueKind];

function names(ctx: ReconcileContext, kind: QueueKind, namespace: string): Set<string> {
  const out = new Set<string>();
  for (const key of ctx.caches.keysIn(kind, namespace)) out.add(splitKey(key).name);
  return out;
}

function record(ctx: ReconcileContext, obj: Obj, events: readonly EventSpec[]): void {
  for (const e of events) ctx.events.record(obj, e);
}

async function writeStatus(ctx: ReconcileContext, obj: Obj, status: object, events: readonly EventSpec[]): Promise<void> {
  await ctx.applier.applyStatus(obj as unknown as AppliedObject, status as Record<string, unknown>);
  record(ctx, obj, events);
}

/** The sum of one counter over the agents' reports, or undefined when no agent reports it. */
function agentCounter(network: CachedKinds['BootNetwork'], counter: string): number | undefined {
  let sum: number | undefined;
  for (const r of network.status?.agentReports ?? []) {
    const v = r.counters?.[counter];
    if (v !== undefined) sum = (sum ?? 0) + v;
  }
  return sum;
}

/** BootNetwork: compile the plan from the caches, digest it, apply the DaemonSet and the status. */
export async function reconcileNetwork(ctx: ReconcileContext, key: string): Promise<ReconcileResult> {
  const network = ctx.caches.object('BootNetwork', key);
  if (network === undefined) { // deleted: the DaemonSet goes with it (owner reference)
    ctx.staleReports?.forget(key);
    return;
  }
  const namespace = network.metadata.namespace ?? 'default';
  const name = network.metadata.name;
  const machines = ctx.caches.listIn('BootMachine', namespace);
  const plan = compilePlan({ network, profiles: ctx.caches.listIn('BootProfile', namespace), classes: ctx.caches.listIn('MachineClass', namespace), machines, amtPolicies: ctx.caches.listIn('AmtNetworkPolicy', namespace) }, 0);
  let discovered = 0;
  for (const m of machines) if (m.metadata.labels?.[DISCOVERED_LABEL] === 'true' && m.spec.network === name) discovered++;
  const daemonSet = ctx.caches.object('DaemonSet', `${namespace}/${agentDaemonSetName(name)}`);
  const capped = agentCounter(network, DISCOVERY_CAPPED_COUNTER);
  const result = evaluateNetwork({
    network,
    ...(daemonSet === undefined ? {} : { daemonSet: daemonSet as unknown as V1DaemonSet }),
    planDigest: planDigest(plan),
    profiles: names(ctx, 'BootProfile', namespace),
    discovered,
    ...(capped === undefined ? {} : { discoveryCapped: capped }),
    agent: ctx.agent,
    now: new Date(ctx.clock.now()),
  });
  await ctx.objects.apply(result.daemonSet as unknown as ApplyableObject, daemonSet);
  await writeStatus(ctx, network, result.status, result.events);
  if (ctx.staleReports === undefined) return;
  const scheduled = (daemonSet as { status?: { desiredNumberScheduled?: number } } | undefined)?.status?.desiredNumberScheduled;
  const pruned = await ctx.staleReports.prune(network, agentPodSelector(name), scheduled, ctx.clock.now());
  for (const e of pruned.removed) {
    ctx.events.record(network, { type: 'Normal', reason: EventReason.StaleAgentReportRemoved, message: `removed the status.agentReports entry of node ${e.node}: no agent pod of DaemonSet ${agentDaemonSetName(name)} runs there and the entry was not updated for ${STALE_AFTER_MS / 1000} s` });
  }
  return soonest(pruned.recheckInMs);
}

/** BootMachine: resolve class and profile against the network's classes; requeue when a boot could stall. */
export async function reconcileMachine(ctx: ReconcileContext, key: string): Promise<ReconcileResult> {
  const machine = ctx.caches.object('BootMachine', key);
  if (machine === undefined) return;
  const namespace = machine.metadata.namespace ?? 'default';
  let network: CachedKinds['BootNetwork'] | undefined;
  if (machine.spec.network !== undefined) {
    network = ctx.caches.object('BootNetwork', `${namespace}/${machine.spec.network}`);
  } else {
    const networks = ctx.caches.keysIn('BootNetwork', namespace);
    if (networks.size === 1) network = ctx.caches.object('BootNetwork', networks.values().next().value as string);
  }
  const classes = ctx.caches.listIn('MachineClass', namespace);
  const resolution = resolveMachine({ machine, classes, ...(network === undefined ? {} : { network }) });
  const amt = await gatherAmt(ctx, machine, resolution.kind === 'resolved' ? resolution.className : undefined, network);
  const now = ctx.clock.now();
  const result = evaluateMachine({
    machine,
    ...(network === undefined ? {} : { network }),
    classes,
    profiles: names(ctx, 'BootProfile', namespace),
    now: new Date(now),
    resolution,
    ...(amt === undefined ? {} : { amt }),
  });
  await writeStatus(ctx, machine, result.status, result.events);
  return soonest(
    // A second's slack, so the recheck lands after the stall deadline rather than just before it.
    result.recheckAt === undefined ? undefined : Math.max(1000, result.recheckAt.getTime() - now + 1000),
    // Exact: the evaluation at that instant already sees the window closed (closesAt is exclusive).
    result.amtTransition === undefined ? undefined : result.amtTransition.getTime() - now,
  );
}

/**
 * The AMT inputs of a machine whose class names an AmtNetworkPolicy: the
 * policy, its certificate (read once and shared; see AmtCertificates) and
 * the BootNetwork the machine was seen on. Undefined without a policy name.
 */
async function gatherAmt(ctx: ReconcileContext, machine: CachedKinds['BootMachine'], className: string | undefined, network: CachedKinds['BootNetwork'] | undefined): Promise<MachineAmtInput | undefined> {
  if (className === undefined) return undefined;
  const namespace = machine.metadata.namespace ?? 'default';
  const policyName = ctx.caches.object('MachineClass', `${namespace}/${className}`)?.spec.amtPolicy;
  if (policyName === undefined) return undefined;
  const policyKey = `${namespace}/${policyName}`;
  const policy = ctx.caches.object('AmtNetworkPolicy', policyKey);
  const seenOn = machine.status?.boot?.network;
  const where = (seenOn === undefined ? undefined : ctx.caches.object('BootNetwork', `${namespace}/${seenOn}`)) ?? network;
  return {
    policyName,
    policy,
    certificate: policy === undefined ? undefined : await ctx.certificates.forPolicy(policyKey, policy),
    network: where,
  };
}

/** MachineClass: matched machines, and whether its profile and AMT policy exist. */
export async function reconcileClass(ctx: ReconcileContext, key: string): Promise<ReconcileResult> {
  const machineClass = ctx.caches.object('MachineClass', key);
  if (machineClass === undefined) return;
  const namespace = machineClass.metadata.namespace ?? 'default';
  const result = evaluateClass({
    machineClass,
    // Only the machines that name it: what it counts, without walking 10,000 others.
    machines: ctx.caches.machinesWith('machineClass', namespace, machineClass.metadata.name),
    profiles: names(ctx, 'BootProfile', namespace),
    amtPolicies: names(ctx, 'AmtNetworkPolicy', namespace),
    now: new Date(ctx.clock.now()),
  });
  await writeStatus(ctx, machineClass, result.status, result.events);
}

/** BootProfile: the machines booting it, and whether its template renders. */
export async function reconcileProfile(ctx: ReconcileContext, key: string): Promise<ReconcileResult> {
  const profile = ctx.caches.object('BootProfile', key);
  if (profile === undefined) return;
  const namespace = profile.metadata.namespace ?? 'default';
  const result = evaluateProfile({ profile, machines: ctx.caches.machinesWith('profile', namespace, profile.metadata.name), now: new Date(ctx.clock.now()) });
  await writeStatus(ctx, profile, result.status, result.events);
}

/**
 * AmtNetworkPolicy: whether the spec is a valid combination, its certificate
 * (re-read from the Secrets every time), and counts over its machines.
 */
export async function reconcileAmtPolicy(ctx: ReconcileContext, key: string): Promise<ReconcileResult> {
  const policy = ctx.caches.object('AmtNetworkPolicy', key);
  if (policy === undefined) {
    ctx.certificates.forget(key);
    return;
  }
  const namespace = policy.metadata.namespace ?? 'default';
  // The machines under this policy: those of the classes that name it.
  const machines = ctx.caches.listIn('MachineClass', namespace)
    .filter((c) => c.spec.amtPolicy === policy.metadata.name)
    .flatMap((c) => ctx.caches.machinesWith('machineClass', namespace, c.metadata.name));
  const { certificate, changed } = await ctx.certificates.refresh(key, policy);
  if (changed && ctx.enqueue !== undefined) for (const m of machines) ctx.enqueue('BootMachine', `${namespace}/${m.metadata.name}`);
  const networkOf = (m: CachedKinds['BootMachine']): CachedKinds['BootNetwork'] | undefined => {
    const name = m.status?.boot?.network ?? m.spec.network;
    if (name !== undefined) return ctx.caches.object('BootNetwork', `${namespace}/${name}`);
    const networks = ctx.caches.keysIn('BootNetwork', namespace);
    return networks.size === 1 ? ctx.caches.object('BootNetwork', networks.values().next().value as string) : undefined;
  };
  const now = ctx.clock.now();
  const result = evaluateAmtPolicy({ policy, machines, now: new Date(now), certificate: certificate.summary, networkOf });
  await writeStatus(ctx, policy, result.status, result.events);
  return soonest(CERTIFICATE_REFRESH_MS, result.nextTransition === undefined ? undefined : result.nextTransition.getTime() - now);
}

/** The reconciler of each queue. */
export function reconcilers(ctx: ReconcileContext): Record<QueueKind, Reconciler> {
  return {
    BootNetwork: (key) => reconcileNetwork(ctx, key),
    BootMachine: (key) => reconcileMachine(ctx, key),
    MachineClass: (key) => reconcileClass(ctx, key),
    BootProfile: (key) => reconcileProfile(ctx, key),
    AmtNetworkPolicy: (key) => reconcileAmtPolicy(ctx, key),
  };
}
