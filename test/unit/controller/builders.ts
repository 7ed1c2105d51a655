/**
 * Test object builders with modifiers, in the style of cert-manager's
 * `gen` package: `network('lab', withGeneration(3), withStatus({...}))`.
 * Objects go through the zod schemas, so defaults are filled as the API
 * server (or the standalone loader) would fill them.
 */
import type { V1DaemonSet } from '@kubernetes/client-node';
import { AmtNetworkPolicy } from '../../../src/api/v1alpha1/amtnetworkpolicy.ts';
import { BootMachine } from '../../../src/api/v1alpha1/bootmachine.ts';
import { BootNetwork } from '../../../src/api/v1alpha1/bootnetwork.ts';
import { BootProfile } from '../../../src/api/v1alpha1/bootprofile.ts';
import { MachineClass } from '../../../src/api/v1alpha1/machineclass.ts';
import type { AgentPodOptions } from '../../../src/controller/daemonset.ts';

type Obj = { metadata: Record<string, unknown>; spec: Record<string, unknown>; status?: Record<string, unknown> };
export type Mod = (o: Obj) => void;

const API = 'netboot.dev/v1alpha1';
export const NOW = new Date('2026-11-23T10:00:00Z');
export const LATER = new Date('2026-11-23T11:00:00Z');

export const withGeneration = (generation: number): Mod => (o) => { o.metadata['generation'] = generation; };
export const withLabels = (labels: Record<string, string>): Mod => (o) => { o.metadata['labels'] = { ...(o.metadata['labels'] as object), ...labels }; };
export const withSpec = (spec: Record<string, unknown>): Mod => (o) => { Object.assign(o.spec, spec); };
export const withStatus = (status: Record<string, unknown>): Mod => (o) => { o.status = { ...o.status, ...status }; };
export const withUid = (uid: string): Mod => (o) => { o.metadata['uid'] = uid; };

function build(kind: string, name: string, spec: Record<string, unknown>, mods: readonly Mod[]): Obj & { apiVersion: string; kind: string } {
  const o = { apiVersion: API, kind, metadata: { name, namespace: 'lab' } as Record<string, unknown>, spec: structuredClone(spec) } as Obj & { apiVersion: string; kind: string };
  for (const m of mods) m(o);
  return o;
}

export function network(name: string, ...mods: Mod[]): BootNetwork {
  return BootNetwork.parse(build('BootNetwork', name, { mode: 'proxy', subnet: '192.168.50.0/24' }, [withUid(`uid-${name}`), ...mods]));
}

export function machine(mac: string, ...mods: Mod[]): BootMachine {
  return BootMachine.parse(build('BootMachine', mac.replaceAll(':', '-'), { mac }, mods));
}

export function machineClass(name: string, profile: string, ...mods: Mod[]): MachineClass {
  return MachineClass.parse(build('MachineClass', name, { profile, selector: { macPrefixes: ['52:54:00'] } }, mods));
}

export function profile(name: string, ...mods: Mod[]): BootProfile {
  return BootProfile.parse(build('BootProfile', name, { ipxe: { kernel: 'http://boot/vmlinuz', cmdline: 'console=ttyS0 mac={{ mac }}' } }, mods));
}

export function amtPolicy(name: string, ...mods: Mod[]): AmtNetworkPolicy {
  return AmtNetworkPolicy.parse(build('AmtNetworkPolicy', name, {}, mods));
}

/** A DaemonSet as the cache would hold it after the DaemonSet controller reported. */
export function observedDaemonSet(s: { generation?: number; observedGeneration?: number; desired: number; ready: number; updated?: number }): V1DaemonSet {
  return {
    apiVersion: 'apps/v1', kind: 'DaemonSet',
    metadata: { name: 'netboot-agent-lab', namespace: 'lab', generation: s.generation ?? 1 },
    status: {
      observedGeneration: s.observedGeneration ?? s.generation ?? 1,
      desiredNumberScheduled: s.desired, currentNumberScheduled: s.desired, numberMisscheduled: 0,
      numberReady: s.ready, updatedNumberScheduled: s.updated ?? s.desired,
    },
  };
}

export const AGENT: AgentPodOptions = { image: 'ghcr.io/example/netboot:1.0.0', serviceAccountName: 'netboot-agent' };

/** An agent's entry in BootNetwork status.agentReports. */
export function report(node: string, planGeneration: number | undefined, counters?: Record<string, number>) {
  return { node, planDigest: 'd', ready: true, updatedAt: '2026-11-23T09:00:00Z', ...(planGeneration === undefined ? {} : { planGeneration }), ...(counters === undefined ? {} : { counters }) };
}

/** The condition of `type` in a result's status, or a failure naming it. */
export function condition(status: { conditions?: readonly { type: string; status: string; reason: string; message: string; lastTransitionTime: string; observedGeneration?: number }[] | undefined }, type: string) {
  const c = status.conditions?.find((x) => x.type === type);
  if (c === undefined) throw new Error(`no ${type} condition in ${JSON.stringify(status.conditions)}`);
  return c;
}
