/**
 * The discovery limiter: how many BootMachines agents may create for unknown
 * MACs. A cap per network and a rate per minute keep a flood of random MACs
 * (a broken switch, a fuzzer) from creating unbounded objects. Pure: the
 * clock is an input.
 */

export interface DiscoveryLimits {
  readonly maxMachines: number;
  readonly perMinute: number;
}

export type DiscoveryVerdict = 'create' | 'capped' | 'rate-limited';

/** Counts creations; `admit` says whether one more may be created at `now` (ms). */
export class DiscoveryLimiter {
  #created: number;
  #recent: number[] = [];
  #refused = 0;
  readonly limits: DiscoveryLimits;

  constructor(limits: DiscoveryLimits, alreadyCreated = 0) {
    this.limits = limits;
    this.#created = alreadyCreated;
  }

  /**
   * Decides for one new MAC and records the creation when admitted. Called
   * for every packet of an unknown MAC while the limits refuse it (a flood),
   * so the window is pruned in place, without a new array per call: its
   * times were pushed in order, so the expired ones are at the front.
   */
  admit(now: number): DiscoveryVerdict {
    let expired = 0;
    while (expired < this.#recent.length && now - (this.#recent[expired] as number) >= 60_000) expired++;
    if (expired > 0) this.#recent.splice(0, expired);
    let verdict: DiscoveryVerdict = 'create';
    if (this.#created >= this.limits.maxMachines) verdict = 'capped';
    else if (this.#recent.length >= this.limits.perMinute) verdict = 'rate-limited';
    if (verdict === 'create') {
      this.#created++;
      this.#recent.push(now);
    } else {
      this.#refused++;
    }
    return verdict;
  }

  /** Creations so far, and MACs refused by the cap or the rate. */
  get counts(): { created: number; refused: number } {
    return { created: this.#created, refused: this.#refused };
  }
}
