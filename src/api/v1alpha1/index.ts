/** The netboot.dev/v1alpha1 API: every kind, in the order CRDs are printed. */
import { AmtNetworkPolicyKind } from './amtnetworkpolicy.ts';
import { BootMachineKind } from './bootmachine.ts';
import { BootNetworkKind } from './bootnetwork.ts';
import { BootProfileKind } from './bootprofile.ts';
import type { KindDefinition } from './kind.ts';
import { MachineClassKind } from './machineclass.ts';

export { API_VERSION, GROUP, VERSION } from './kind.ts';
export type { KindDefinition } from './kind.ts';

export const Kinds: readonly KindDefinition[] = [BootNetworkKind, BootProfileKind, MachineClassKind, BootMachineKind, AmtNetworkPolicyKind];

/** The definition of `kind`, or undefined when it is not one of ours. */
export function kindDefinition(kind: string): KindDefinition | undefined {
  return Kinds.find((k) => k.kind === kind);
}
