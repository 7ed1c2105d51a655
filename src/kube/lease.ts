/**
 * Leader election as pure functions over a Lease record (coordination.k8s.io/v1
 * LeaseSpec, times in milliseconds). Who may take the lease, and what to write
 * when taking, renewing or releasing it, depend only on the record, the time
 * and our identity; the elector in leader.ts does the I/O around them.
 *
 * Expiry is `renewTime + leaseDurationSeconds`, read with the local clock. The
 * holder stops leading `renewDeadline` after its last renewal, so clocks may
 * disagree by up to leaseDuration - renewDeadline (5 s by default) before two
 * leaders could overlap.
 */

/** A Lease's spec as the elector reads and writes it. */
export interface LeaseRecord {
  /** Who leads; '' after a release. */
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  /** When the current holder took the lease (ms since the epoch). */
  readonly acquireTime?: number;
  /** The holder's last renewal (ms since the epoch). */
  readonly renewTime?: number;
  /** How many times the holder changed. */
  readonly leaseTransitions: number;
}

/**
 * What to do about a lease: create it (none exists), renew it (ours), take it
 * (released or expired) or wait until `expiresAt` (someone else holds it).
 */
export type LeaseDecision =
  | { readonly action: 'create' }
  | { readonly action: 'renew' }
  | { readonly action: 'take'; readonly reason: 'released' | 'expired' }
  | { readonly action: 'wait'; readonly holder: string; readonly expiresAt: number };

/** When the holder's claim runs out; a lease never renewed has already expired. */
export function leaseExpiresAt(record: LeaseRecord): number {
  if (record.renewTime === undefined) return Number.NEGATIVE_INFINITY;
  return record.renewTime + record.leaseDurationSeconds * 1000;
}

/** May `identity` take or keep the lease at `now`? See LeaseDecision. */
export function decideLease(record: LeaseRecord | undefined, now: number, identity: string): LeaseDecision {
  if (record === undefined) return { action: 'create' };
  if (record.holderIdentity === identity) return { action: 'renew' };
  if (record.holderIdentity === '') return { action: 'take', reason: 'released' };
  const expiresAt = leaseExpiresAt(record);
  if (now >= expiresAt) return { action: 'take', reason: 'expired' };
  return { action: 'wait', holder: record.holderIdentity, expiresAt };
}

/**
 * The record `identity` writes to create, take or renew the lease at `now`.
 * Renewing keeps acquireTime; a change of holder counts one transition.
 */
export function claimedRecord(previous: LeaseRecord | undefined, identity: string, now: number, leaseDurationSeconds: number): LeaseRecord {
  if (previous !== undefined && previous.holderIdentity === identity) {
    return { ...previous, leaseDurationSeconds, renewTime: now };
  }
  return {
    holderIdentity: identity,
    leaseDurationSeconds,
    acquireTime: now,
    renewTime: now,
    leaseTransitions: previous === undefined ? 0 : previous.leaseTransitions + 1,
  };
}

/**
 * The record a leader writes when it steps down: no holder and a one-second
 * duration, so the next candidate takes it at its next try instead of
 * waiting for the full lease to expire (client-go writes the same).
 */
export function releasedRecord(previous: LeaseRecord, now: number): LeaseRecord {
  return { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: previous.leaseTransitions };
}
