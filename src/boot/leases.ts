/**
 * DHCP lease allocation for mode dhcp, pure: the lease table and the clock
 * are inputs, a new table is the output. The agent persists the table before
 * it answers, so an address is never handed out twice, even across restarts.
 */
import { ipToNumber } from '../api/v1alpha1/ip.ts';

/** One lease. `expiresAt` in ms since the epoch. */
export interface Lease {
  readonly mac: string;
  readonly ip: string;
  readonly expiresAt: number;
}

/** Why no address could be offered, or the address. */
export type Allocation = { readonly ok: true; readonly ip: string } | { readonly ok: false; readonly reason: string };

/** Inputs of one allocation. */
export interface AllocationRequest {
  readonly mac: string;
  readonly pool: { readonly start: string; readonly end: string };
  /** MAC -> reserved address (from BootMachine spec.ipAddress). */
  readonly reservations: ReadonlyMap<string, string>;
  /** Address the client asked for (option 50 or ciaddr), if any. */
  readonly requested?: string;
  /** Addresses never to hand out (the router, the server itself). */
  readonly excluded: ReadonlySet<string>;
  readonly now: number;
}

function numberToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/**
 * Chooses an address: the reservation; else the client's current lease; else
 * the requested address if free; else the lowest free pool address; else an
 * expired lease's address (oldest first).
 */
export function allocate(leases: readonly Lease[], req: AllocationRequest): Allocation {
  const reserved = req.reservations.get(req.mac);
  if (reserved !== undefined) return { ok: true, ip: reserved };
  const reservedIps = new Set(req.reservations.values());
  const byIp = new Map(leases.map((l) => [l.ip, l]));
  const free = (ip: string) => {
    if (reservedIps.has(ip) || req.excluded.has(ip)) return false;
    const l = byIp.get(ip);
    return l === undefined || l.mac === req.mac;
  };
  const start = ipToNumber(req.pool.start);
  const end = ipToNumber(req.pool.end);
  const inPool = (ip: string) => { const n = ipToNumber(ip); return n >= start && n <= end; };
  const mine = leases.find((l) => l.mac === req.mac && inPool(l.ip) && free(l.ip));
  if (mine !== undefined) return { ok: true, ip: mine.ip };
  if (req.requested !== undefined && inPool(req.requested) && free(req.requested)) {
    const l = byIp.get(req.requested);
    if (l === undefined || l.mac === req.mac || l.expiresAt <= req.now) return { ok: true, ip: req.requested };
  }
  for (let n = start; n <= end; n++) {
    const ip = numberToIp(n);
    if (free(ip) && !byIp.has(ip)) return { ok: true, ip };
  }
  const expired = leases.filter((l) => l.expiresAt <= req.now && inPool(l.ip) && !reservedIps.has(l.ip) && !req.excluded.has(l.ip)).sort((a, b) => a.expiresAt - b.expiresAt)[0];
  if (expired !== undefined) return { ok: true, ip: expired.ip };
  return { ok: false, reason: `address pool ${req.pool.start}-${req.pool.end} is exhausted` };
}

/** The table with `mac` holding `ip` until `expiresAt`; any other lease on that ip or for that mac is dropped. */
export function bind(leases: readonly Lease[], mac: string, ip: string, expiresAt: number): Lease[] {
  return [...leases.filter((l) => l.mac !== mac && l.ip !== ip), { mac, ip, expiresAt }];
}

/** The table without `mac`'s lease (DHCPRELEASE / DHCPDECLINE handling). */
export function release(leases: readonly Lease[], mac: string): Lease[] {
  return leases.filter((l) => l.mac !== mac);
}

/** An address a BootMachine's status records (status.boot.ipAddress) and when the machine was last seen (lastSeen, ms). */
export interface RecordedAddress {
  readonly mac: string;
  readonly ip: string;
  readonly lastSeen: number;
}

/**
 * The table with the addresses BootMachine statuses record added as leases,
 * for an agent that starts answering DHCP without the previous agent's table
 * (a standby taking over, an agent on a new node). A recorded address is held
 * until lastSeen + leaseSeconds: the lease was granted or renewed no later
 * than the last time the machine was seen, so this never ends a lease early.
 * It replaces the table's leases on the same address or MAC only when it
 * lasts longer than they do (the table may be older than the status). Only
 * pool addresses are taken. Returns the table and how many were added.
 */
export function adoptLeases(leases: readonly Lease[], recorded: readonly RecordedAddress[], pool: { readonly start: string; readonly end: string }, leaseSeconds: number): { leases: Lease[]; adopted: number } {
  const start = ipToNumber(pool.start);
  const end = ipToNumber(pool.end);
  // Maps, not a scan per record: a takeover on a network of 10,000 machines must not hold the event loop.
  const kept = new Set(leases);
  const byIp = new Map(leases.map((l) => [l.ip, l]));
  const byMac = new Map(leases.map((l) => [l.mac, l]));
  const drop = (l: Lease | undefined) => {
    if (l === undefined) return;
    kept.delete(l);
    if (byIp.get(l.ip) === l) byIp.delete(l.ip);
    if (byMac.get(l.mac) === l) byMac.delete(l.mac);
  };
  let adopted = 0;
  for (const r of recorded) {
    const n = ipToNumber(r.ip);
    if (!Number.isFinite(n) || n < start || n > end || !Number.isFinite(r.lastSeen)) continue;
    const expiresAt = r.lastSeen + leaseSeconds * 1000;
    const onIp = byIp.get(r.ip);
    const ofMac = byMac.get(r.mac);
    if ((onIp !== undefined && onIp.expiresAt >= expiresAt) || (ofMac !== undefined && ofMac.expiresAt >= expiresAt)) continue;
    drop(onIp);
    drop(ofMac);
    const lease = { mac: r.mac, ip: r.ip, expiresAt };
    kept.add(lease);
    byIp.set(lease.ip, lease);
    byMac.set(lease.mac, lease);
    adopted += 1;
  }
  return { leases: [...kept], adopted };
}
