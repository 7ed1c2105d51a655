/**
 * Which host interface serves a BootNetwork, and which address we put in
 * option 54 and siaddr: the configured interface, else the one holding an
 * address inside spec.subnet (NIC names differ across nodes; the subnet does
 * not), and the advertise address when one is configured.
 */
import { networkInterfaces } from 'node:os';
import type { NetworkInterfaceInfo } from 'node:os';
import { ipInCidr } from '../api/v1alpha1/ip.ts';
import { Errors, NetbootError } from '../errors.ts';

export interface ServingInterface {
  readonly name: string;
  /** The interface's own IPv4 address: sockets bind here. */
  readonly address: string;
  /** What clients are told (option 54, siaddr, URLs). */
  readonly serverAddress: string;
}

type Interfaces = Record<string, NetworkInterfaceInfo[] | undefined>;

/** Picks the serving interface; throws NetbootError (InterfaceNotFound) naming what exists when none fits. */
export function servingInterface(want: { interface?: string; subnet: string; advertiseAddress?: string }, all: Interfaces = networkInterfaces()): ServingInterface {
  const v4 = (name: string) => (all[name] ?? []).filter((a) => a.family === 'IPv4');
  const describe = () => Object.keys(all).map((n) => `${n} (${v4(n).map((a) => a.cidr).join(', ') || 'no IPv4'})`).join('; ');
  let chosen: { name: string; address: string } | undefined;
  if (want.interface !== undefined) {
    const addrs = v4(want.interface);
    if (addrs.length === 0) throw new NetbootError(Errors.InterfaceNotFound, `interface ${want.interface} does not exist or has no IPv4 address; this host has: ${describe()}`);
    const inSubnet = addrs.find((a) => ipInCidr(a.address, want.subnet)) ?? addrs[0];
    chosen = inSubnet === undefined ? undefined : { name: want.interface, address: inSubnet.address };
  } else {
    for (const name of Object.keys(all).sort()) {
      const a = v4(name).find((x) => ipInCidr(x.address, want.subnet));
      if (a !== undefined) { chosen = { name, address: a.address }; break; }
    }
    if (chosen === undefined) throw new NetbootError(Errors.InterfaceNotFound, `no interface has an address in ${want.subnet}; this host has: ${describe()}. Set spec.interface or fix spec.subnet.`);
  }
  if (chosen === undefined) throw new NetbootError(Errors.InterfaceNotFound, `interface ${want.interface ?? '?'} has no usable IPv4 address`);
  return { ...chosen, serverAddress: want.advertiseAddress ?? chosen.address };
}
