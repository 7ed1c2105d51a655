/**
 * `planDigest` with a memory: the same hex digest as src/boot/plan-digest.ts,
 * but each machine's canonical text is kept between calls and reused while
 * its spec, labels, completedAt and amtSuffixMatch are unchanged. At 10,000 machines
 * the plain digest costs 40-60 ms of event loop (JSON canonicalisation of
 * every machine); this one costs about 4 ms (a sort and one hash). A unit
 * test checks it against planDigest, so the two cannot drift apart silently.
 */
import { createHash } from 'node:crypto';
import { amtRemediationText, canonical } from '../boot/plan-digest.ts';
import type { BootPlan, PlanMachine } from '../boot/plan.ts';

interface Memo {
  readonly source: PlanMachine;
  readonly text: string;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

const isEmpty = (labels: Readonly<Record<string, string>>) => Object.keys(labels).length === 0;

/** Same content as the memo's source, judged by identity of the parts compilePlan copies by reference. */
function sameEntry(a: PlanMachine, b: PlanMachine): boolean {
  return a === b || (a.name === b.name && a.spec === b.spec && a.completedAt === b.completedAt && a.amtSuffixMatch === b.amtSuffixMatch
    && (a.labels === b.labels || (isEmpty(a.labels) && isEmpty(b.labels))));
}

/** Computes plan digests, remembering per-machine text between calls. */
export class PlanDigester {
  #memo = new Map<string, Memo>();

  /** Equal to `planDigest(plan)`. */
  digest(plan: BootPlan): string {
    const hash = createHash('sha256');
    hash.update(canonical({ namespace: plan.namespace, networkName: plan.networkName, network: plan.network }));
    for (const c of [...plan.classes].sort((a, b) => compare(a.name, b.name))) hash.update(`\nclass ${canonical(c)}`);
    for (const name of [...plan.profiles.keys()].sort(compare)) hash.update(`\nprofile ${name} ${canonical(plan.profiles.get(name))}`);
    const next = new Map<string, Memo>();
    for (const mac of [...plan.machines.keys()].sort(compare)) {
      const entry = plan.machines.get(mac) as PlanMachine;
      const prev = this.#memo.get(mac);
      const memo = prev !== undefined && sameEntry(prev.source, entry) ? prev : { source: entry, text: `\nmachine ${mac} ${canonical(entry)}` };
      next.set(mac, memo);
      hash.update(memo.text);
    }
    hash.update(amtRemediationText(plan));
    // Only machines of the latest plan are kept, so deleted machines do not pile up.
    this.#memo = next;
    return hash.digest('hex').slice(0, 32);
  }
}
