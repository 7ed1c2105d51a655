/**
 * The kernel's IPv4 neighbour (ARP) table, read for the MAC behind a client
 * address the agent never saw DHCP from. A BIOS PXE ROM that takes its boot
 * file from our ProxyDHCP OFFER gets its address from the site's DHCP server
 * and never sends us a packet from it before its TFTP read; unless that
 * server's ACK was broadcast (site-dhcp.ts hears those), the transfer could
 * not be tied to a machine. By then the client has ARPed for our address,
 * which puts its entry into our table (the agent runs in the host's network
 * namespace). Only entries on the serving interface count: a client behind
 * a router has no entry of its own there.
 */
import { readFileSync } from 'node:fs';

/** /proc/net/arp's "complete" flag (ATF_COM): the hardware address is known. */
const ATF_COM = 0x2;

/** The MAC of `address` on `device` in /proc/net/arp's text, when its entry is complete. */
export function macInArpTable(text: string, address: string, device: string): string | undefined {
  // IP address  HW type  Flags  HW address  Mask  Device
  for (const line of text.split('\n').slice(1)) {
    const [ip, , flags, mac, , dev] = line.trim().split(/\s+/);
    if (ip !== address || dev !== device || mac === undefined) continue;
    if ((Number.parseInt(flags ?? '0', 16) & ATF_COM) === 0 || mac === '00:00:00:00:00:00') continue;
    return mac.toLowerCase();
  }
  return undefined;
}

/** Looks `address` up on `device` in the running kernel's table; undefined when absent or unreadable (never throws). */
export function neighborMac(address: string, device: string, read: () => string = () => readFileSync('/proc/net/arp', 'utf8')): string | undefined {
  let text: string;
  try {
    text = read();
  } catch {
    return undefined;
  }
  return macInArpTable(text, address, device);
}
