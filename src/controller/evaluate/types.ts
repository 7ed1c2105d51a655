/**
 * What the evaluators return: the controller-owned part of each kind's
 * status (never status.boot or status.agentReports, which agents own under
 * their own field managers) and the events to record.
 */
import { isDeepStrictEqual } from 'node:util';
import type { AmtNetworkPolicy } from '../../api/v1alpha1/amtnetworkpolicy.ts';
import type { BootMachine } from '../../api/v1alpha1/bootmachine.ts';
import type { BootNetwork } from '../../api/v1alpha1/bootnetwork.ts';
import type { BootProfile } from '../../api/v1alpha1/bootprofile.ts';
import type { MachineClass } from '../../api/v1alpha1/machineclass.ts';

/** One Kubernetes Event to record on the evaluated object. */
export interface EventSpec {
  readonly type: 'Normal' | 'Warning';
  /** A constant from EventReason (src/controller/reasons.ts). */
  readonly reason: string;
  readonly message: string;
}

/** BootNetwork status without the agents' entries. */
export type ControllerNetworkStatus = Omit<NonNullable<BootNetwork['status']>, 'agentReports'>;
/** BootMachine status without status.boot (agents' observations, AMT's included). */
export type ControllerMachineStatus = Omit<NonNullable<BootMachine['status']>, 'boot'>;
/** MachineClass status: all of it is the controller's. */
export type ControllerClassStatus = NonNullable<MachineClass['status']>;
/** BootProfile status: all of it is the controller's. */
export type ControllerProfileStatus = NonNullable<BootProfile['status']>;
/** AmtNetworkPolicy status: all of it is the controller's. */
export type ControllerAmtPolicyStatus = NonNullable<AmtNetworkPolicy['status']>;

/**
 * Deep equality of two statuses, nothing ignored. The Applier already skips
 * no-op writes (src/kube/apply-diff.ts, which also ignores fields other
 * managers own); this is for callers that hold two plain values.
 */
export function statusChanged(prev: unknown, next: unknown): boolean {
  return !isDeepStrictEqual(prev, next);
}
