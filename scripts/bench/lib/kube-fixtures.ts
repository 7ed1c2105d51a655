/**
 * The controller benchmark's inventory: one proxy BootNetwork on loopback
 * with unprivileged ports, two BootProfiles, 50 MachineClasses and N
 * BootMachines laid out so that each non-default class's MAC prefix matches
 * one group of machines (200 each at 10,000) and the default class catches
 * group 0. Every fifth class also selects on a rack label, as a real
 * inventory split by rack and vendor would.
 *
 * Machine i belongs to group floor(i / perGroup); its MAC is
 * 02:00:GG:HH:LL:00 (GG the group, HH:LL the index within it). Locally
 * administered MACs: they can never collide with a real NIC.
 */
import type { PlanClass } from '../../../src/boot/plan.ts';
import type { KubeObject } from './kube.ts';

export const API_VERSION = 'netboot.dev/v1alpha1';
export const NETWORK = 'bench';
export const PROFILES = ['linux-a', 'linux-b'] as const;
export const CLASSES = 50;
export const DEFAULT_CLASS = 'class-00';

export interface Ports { readonly dhcp: number; readonly pxe: number; readonly tftp: number; readonly http: number }

const hex2 = (n: number) => n.toString(16).padStart(2, '0');

export function className(i: number): string {
  return `class-${String(i).padStart(2, '0')}`;
}

/** The MAC prefix of group g (one octet per group, so 256 groups at most). */
export function groupPrefix(g: number): string {
  return `02:00:${hex2(g)}`;
}

export function machineMac(i: number, perGroup: number): string {
  const g = Math.floor(i / perGroup);
  const j = i % perGroup;
  return `${groupPrefix(g)}:${hex2(j >> 8)}:${hex2(j & 0xff)}:00`;
}

export function bootNetwork(namespace: string, ports: Ports): KubeObject {
  return {
    apiVersion: API_VERSION, kind: 'BootNetwork',
    metadata: { name: NETWORK, namespace },
    spec: { mode: 'proxy', subnet: '127.0.0.0/8', interface: 'lo', unknownMachines: 'ignore', ports: { ...ports } },
  };
}

export function bootProfile(namespace: string, name: string): KubeObject {
  return {
    apiVersion: API_VERSION, kind: 'BootProfile',
    metadata: { name, namespace },
    spec: {
      ipxe: {
        kernel: `http://images.example.com/${name}/vmlinuz`,
        initrds: [`http://images.example.com/${name}/initrd.img`],
        cmdline: `console=ttyS0,115200 ip=dhcp hostname={{ hostname }} BOOTIF={{ mac }} profile=${name}`,
      },
      bootPolicy: 'always',
    },
  };
}

/** The spec of class i as first created (all defaults written out, so it doubles as a PlanClass spec). */
export function classSpec(i: number): PlanClass['spec'] {
  const profile = PROFILES[i % 2] as string;
  if (i === 0) return { default: true, priority: -100, profile };
  const selector: NonNullable<PlanClass['spec']['selector']> = i % 5 === 0
    ? { macPrefixes: [groupPrefix(i)], machineLabels: { matchLabels: { 'example.com/rack': `r${i}` } } }
    : { macPrefixes: [groupPrefix(i)] };
  return { default: false, priority: 10 + (i % 3), selector, networks: [NETWORK], profile };
}

export function machineClass(namespace: string, name: string, spec: PlanClass['spec']): KubeObject {
  return { apiVersion: API_VERSION, kind: 'MachineClass', metadata: { name, namespace }, spec: { ...spec } };
}

export function bootMachine(namespace: string, i: number, perGroup: number): KubeObject {
  const mac = machineMac(i, perGroup);
  const g = Math.floor(i / perGroup);
  const n = String(i).padStart(5, '0');
  return {
    apiVersion: API_VERSION, kind: 'BootMachine',
    metadata: { name: mac.replaceAll(':', '-'), namespace, labels: { 'example.com/rack': `r${g}`, 'example.com/role': i % 10 === 0 ? 'storage' : 'compute' } },
    spec: {
      mac,
      uuid: `4c4c4544-0000-4000-8000-0000000${n}`,
      hostname: `node-${n}.lab.example.com`,
      network: NETWORK,
      netboot: 'allow',
    },
  };
}
