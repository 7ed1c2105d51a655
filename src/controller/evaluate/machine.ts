/**
 * BootMachine: the class and profile it resolves to, whether its last boot
 * went well, and the events worth a line in `kubectl describe`.
 *
 * Ready=True means: a class (or the network's defaultProfile) applies, the
 * profile exists, and the last boot did not fail or stall. A machine that
 * never booted is Ready (BootHealthy Unknown does not block): it is set up
 * as it should be. A machine with netboot: deny is judged on its class and
 * profile only; the agents' silence towards it is policy, not a failure.
 *
 * AMT readiness (status.amt and the four Amt* conditions, ../amt.ts) is
 * written beside, for machines whose class names an AmtNetworkPolicy, and
 * never changes Ready: a machine boots whether or not AMT could be
 * provisioned.
 */
import type { DesiredCondition } from '../../api/v1alpha1/conditions.ts';
import type { BootMachine, BootPhase } from '../../api/v1alpha1/bootmachine.ts';
import type { BootNetwork } from '../../api/v1alpha1/bootnetwork.ts';
import type { MachineClass } from '../../api/v1alpha1/machineclass.ts';
import { resolveClass } from '../../boot/match.ts';
import type { Resolution } from '../../boot/match.ts';
import { ConditionType, EventReason, Reason } from '../reasons.ts';
import { evaluateMachineAmt } from '../amt.ts';
import type { MachineAmtInput } from '../amt.ts';
import { generationOf, newlyFailed, objectConditions, readyFrom } from './common.ts';
import type { ControllerMachineStatus, EventSpec } from './types.ts';

export interface MachineInput {
  readonly machine: BootMachine;
  /** spec.network's BootNetwork, or the only one in the namespace; undefined when neither exists. */
  readonly network?: BootNetwork;
  /** Every MachineClass in the machine's namespace (those limited to other networks are filtered here). */
  readonly classes: readonly MachineClass[];
  /** Names of the BootProfiles in the machine's namespace. */
  readonly profiles: ReadonlySet<string>;
  readonly now: Date;
  /** The class resolution, when the caller already made it (resolveMachine); made here otherwise. */
  readonly resolution?: Resolution;
  /** AMT inputs, when the resolved class names an AmtNetworkPolicy; without them no status.amt and no Amt* conditions are written. */
  readonly amt?: MachineAmtInput;
}

export interface MachineResult {
  readonly status: ControllerMachineStatus;
  readonly events: EventSpec[];
  /**
   * When a boot in progress would count as stalled if nothing else happens:
   * requeue the machine then, or BootHealthy stays True for a boot that died.
   * Absent when no later evaluation could change the answer by time alone.
   */
  readonly recheckAt?: Date;
  /** The next instant status.amt or an Amt* condition flips (window closes, retry due, certificate expires): requeue exactly then. */
  readonly amtTransition?: Date;
}

/** A boot that has not reached its iPXE script and saw no packet for this long has stalled. */
export const BOOT_STALL_MS = 10 * 60_000;

const FINISHED: readonly BootPhase[] = ['ScriptServed', 'LocalBoot'];
const DISCOVERED_LABEL = 'netboot.dev/discovered';

type Boot = NonNullable<NonNullable<BootMachine['status']>['boot']>;

function classCondition(machine: BootMachine, network: BootNetwork | undefined, r: Resolution, classes: readonly MachineClass[]): DesiredCondition {
  const type = ConditionType.ClassResolved;
  if (r.kind === 'unresolved') {
    const reason = machine.spec.network !== undefined && network === undefined ? Reason.NetworkNotFound
      : machine.spec.machineClass === undefined ? Reason.NoClassMatched : Reason.ClassNotFound;
    return { type, status: 'False', reason, message: r.reason };
  }
  const cls = classes.find((c) => c.metadata.name === r.className);
  if (machine.spec.profile !== undefined) {
    return { type, status: 'True', reason: Reason.ProfilePinned, message: `spec.profile pins BootProfile "${r.profile}"${cls === undefined ? '' : ` (MachineClass "${cls.metadata.name}" also applies)`}` };
  }
  if (cls === undefined) {
    return { type, status: 'True', reason: Reason.NetworkDefaultProfile, message: `no MachineClass matches; BootNetwork ${network?.metadata.name ?? ''} gives its defaultProfile "${r.profile}"` };
  }
  if (machine.spec.machineClass !== undefined) return { type, status: 'True', reason: Reason.ClassPinned, message: `spec.machineClass pins MachineClass "${cls.metadata.name}"` };
  if (cls.spec.default) return { type, status: 'True', reason: Reason.DefaultClass, message: `no selector matches; default MachineClass "${cls.metadata.name}" applies` };
  return { type, status: 'True', reason: Reason.ClassMatched, message: `MachineClass "${cls.metadata.name}" matches (priority ${cls.spec.priority})` };
}

function profileCondition(r: Resolution, profiles: ReadonlySet<string>, namespace: string): DesiredCondition {
  const type = ConditionType.ProfileResolved;
  if (r.kind === 'unresolved') return { type, status: 'False', reason: Reason.ClassNotResolved, message: 'no class resolved, so there is no BootProfile to boot' };
  const from = r.className === undefined ? '' : ` (from MachineClass "${r.className}")`;
  return profiles.has(r.profile)
    ? { type, status: 'True', reason: Reason.ProfileFound, message: `BootProfile "${r.profile}"${from}` }
    : { type, status: 'False', reason: Reason.ProfileNotFound, message: `BootProfile "${r.profile}"${from} does not exist in namespace ${namespace}` };
}

/** BootHealthy from status.boot, and when to look again for a stall. */
export function bootCondition(machine: BootMachine, now: Date): { condition: DesiredCondition; recheckAt?: Date } {
  const type = ConditionType.BootHealthy;
  const boot: Boot | undefined = machine.status?.boot;
  if (machine.spec.netboot === 'deny') {
    return { condition: { type, status: 'True', reason: Reason.NetbootDenied, message: 'spec.netboot is deny: agents record this machine but do not answer it; set spec.netboot: allow to boot it' } };
  }
  if (boot?.phase === undefined) return { condition: { type, status: 'Unknown', reason: Reason.NotBooted, message: 'no boot seen yet' } };
  // The boot's start time makes each failure's message unique, so a new failure is told from a repeat.
  const which = `last boot (started ${boot.lastBoot ?? 'at an unknown time'}${boot.node === undefined ? '' : `, node ${boot.node}`})`;
  if (boot.phase === 'Stopped') {
    return { condition: { type, status: 'False', reason: Reason.BootStopped, message: `${which} stopped: ${boot.stoppedReason ?? 'no reason recorded'}` } };
  }
  const last = boot.history?.at(-1);
  if (last?.event === 'TftpFailed') {
    return { condition: { type, status: 'False', reason: Reason.TftpFailed, message: `${which}: the loader transfer failed: ${last.detail ?? 'no detail recorded'}` } };
  }
  if (FINISHED.includes(boot.phase)) return { condition: { type, status: 'True', reason: Reason.Booted, message: `${which} reached ${boot.phase}` } };
  const seen = Date.parse(boot.lastSeen ?? boot.lastBoot ?? '');
  if (Number.isNaN(seen)) return { condition: { type, status: 'True', reason: Reason.BootInProgress, message: `${which} is at phase ${boot.phase}` } };
  const stallAt = seen + BOOT_STALL_MS;
  if (now.getTime() >= stallAt) {
    const minutes = Math.floor((now.getTime() - seen) / 60_000);
    return {
      condition: {
        type, status: 'False', reason: Reason.BootStalled,
        message: `${which} stalled at phase ${boot.phase}: no packet for ${minutes} min and no iPXE script fetched (check the machine's console: firmware timeouts, a loader that cannot reach the agent's HTTP port)`,
      },
    };
  }
  return { condition: { type, status: 'True', reason: Reason.BootInProgress, message: `${which} is at phase ${boot.phase}` }, recheckAt: new Date(stallAt) };
}

/** The MachineClass and profile the machine resolves to, as the agents resolve it. */
export function resolveMachine(input: Pick<MachineInput, 'machine' | 'network' | 'classes'>): Resolution {
  const { machine, network } = input;
  const namespace = machine.metadata.namespace ?? 'default';
  const networkName = network?.metadata.name ?? machine.spec.network ?? machine.status?.boot?.network;
  const fw = machine.status?.boot?.firmware;
  if (machine.spec.network !== undefined && network === undefined) {
    return { kind: 'unresolved', reason: `spec.network names BootNetwork "${machine.spec.network}", which does not exist in namespace ${namespace}` };
  }
  // The same filter compilePlan applies, so the controller resolves what the agents will.
  const classes = input.classes
    .filter((c) => c.spec.networks === undefined || c.spec.networks.length === 0 || (networkName !== undefined && c.spec.networks.includes(networkName)))
    .map((c) => ({ name: c.metadata.name, spec: c.spec }));
  return resolveClass(
    { mac: machine.spec.mac, ...(fw?.arch === undefined ? {} : { arch: fw.arch }), ...(fw?.vendorClass === undefined ? {} : { vendorClass: fw.vendorClass }), ...(machine.spec.uuid === undefined ? {} : { uuid: machine.spec.uuid }) },
    { name: machine.metadata.name, spec: machine.spec, labels: machine.metadata.labels ?? {} },
    classes, network?.spec.defaultProfile,
  );
}

/** Evaluates one BootMachine. Pure: the clock is `now`, the world is the input. */
export function evaluateMachine(input: MachineInput): MachineResult {
  const { machine, network, now } = input;
  const prev = machine.status;
  const generation = generationOf(machine);
  const namespace = machine.metadata.namespace ?? 'default';
  const networkName = network?.metadata.name ?? machine.spec.network ?? prev?.boot?.network;
  const resolution = input.resolution ?? resolveMachine(input);
  const classCond = classCondition(machine, network, resolution, input.classes);
  const profileCond = profileCondition(resolution, input.profiles, namespace);
  const boot = bootCondition(machine, now);
  const checks = [classCond, profileCond, boot.condition];
  const machineClass = resolution.kind === 'resolved' ? resolution.className : undefined;
  const profile = resolution.kind === 'resolved' ? resolution.profile : undefined;
  const ready = readyFrom(checks, `boots BootProfile "${profile ?? ''}"${machineClass === undefined ? '' : ` of MachineClass "${machineClass}"`}`);
  // AMT conditions sit beside the boot checks, outside Ready (see the file comment).
  const amt = input.amt === undefined ? undefined : evaluateMachineAmt(machine, input.amt, prev?.conditions, now);

  const status: ControllerMachineStatus = {
    observedGeneration: generation,
    conditions: objectConditions(prev?.conditions, ready, [...checks, ...(amt?.conditions ?? [])], generation, now),
    ...(machineClass === undefined ? {} : { machineClass }),
    ...(profile === undefined ? {} : { profile }),
    ...(amt?.status === undefined ? {} : { amt: amt.status }),
  };

  const events: EventSpec[] = [];
  // The controller writes observedGeneration on its first evaluation; agents never do.
  const evaluatedBefore = prev?.observedGeneration !== undefined || (prev?.conditions?.length ?? 0) > 0;
  if (!evaluatedBefore && machine.metadata.labels?.[DISCOVERED_LABEL] === 'true') {
    const by = prev?.boot?.node === undefined ? '' : ` by the agent on node ${prev.boot.node}`;
    events.push({ type: 'Normal', reason: EventReason.Discovered, message: `discovered on BootNetwork ${networkName ?? '(unknown)'}${by}; spec.netboot is ${machine.spec.netboot}` });
  }
  if (evaluatedBefore && prev?.machineClass !== machineClass) {
    events.push({ type: 'Normal', reason: EventReason.ClassChanged, message: `class ${prev?.machineClass ?? '(none)'} -> ${machineClass ?? '(none)'}` });
  }
  if (newlyFailed(prev?.conditions, boot.condition)) events.push({ type: 'Warning', reason: EventReason.BootFailed, message: boot.condition.message });
  events.push(...(amt?.events ?? []));

  return {
    status, events,
    ...(boot.recheckAt === undefined ? {} : { recheckAt: boot.recheckAt }),
    ...(amt?.nextTransition === undefined ? {} : { amtTransition: amt.nextTransition }),
  };
}
