/**
 * What the agent remembers of each MAC for Intel AMT, from DHCP: the
 * firmware facts class matching needs (the OS's own DHCP carries no option
 * 93, so its packets alone would resolve a different class than the PXE
 * boot did) and the SMBIOS UUID from option 97, which a Hello also carries.
 * From these: which AmtNetworkPolicy applies to a machine, and the short
 * lease it gets while its DNS suffix does not match. Bounded: past the limit
 * the entry that changed (or was first seen) longest ago goes. A repeat of
 * the same facts does not move an entry, since re-inserting it on every
 * packet cost about a microsecond of the DHCP path.
 */
import { shortLeaseSeconds } from '../amt/index.ts';
import type { Client } from '../boot/classify.ts';
import { resolveClass } from '../boot/match.ts';
import type { MatchFacts } from '../boot/match.ts';
import type { BootPlan } from '../boot/plan.ts';

type Firmware = Pick<MatchFacts, 'arch' | 'vendorClass'>;

/** MACs remembered at most (as the agent's address map). */
const LIMIT = 10_000;

export class AmtMachineBook {
  readonly #firmware = new Map<string, Firmware>();
  readonly #byUuid = new Map<string, string>();

  /** Remembers what a classified request tells: firmware facts from boot clients, the UUID from anyone. */
  note(client: Client): void {
    if (client.isBootClient && (client.arch !== undefined || client.vendorClass !== undefined)) {
      const known = this.#firmware.get(client.mac);
      if (known === undefined || known.arch !== client.arch || known.vendorClass !== client.vendorClass) {
        remember(this.#firmware, client.mac, {
          ...(client.arch === undefined ? {} : { arch: client.arch }),
          ...(client.vendorClass === undefined ? {} : { vendorClass: client.vendorClass }),
        });
      }
    }
    if (client.uuid !== undefined) {
      const uuid = client.uuid.toLowerCase();
      if (this.#byUuid.get(uuid) !== client.mac) remember(this.#byUuid, uuid, client.mac);
    }
  }

  /** The MAC a platform UUID was last seen with in option 97. */
  macOfUuid(uuid: string): string | undefined {
    return this.#byUuid.get(uuid.toLowerCase());
  }

  /**
   * The AmtNetworkPolicy named by the class `mac` resolves to, or undefined
   * (unknown machine, no class, or a class without amtPolicy). `client`
   * adds the facts of the packet in hand.
   */
  policyOf(plan: BootPlan, mac: string, client?: Client): string | undefined {
    const machine = plan.machines.get(mac);
    if (machine === undefined) return undefined;
    const fw = { ...this.#firmware.get(mac), ...(client?.isBootClient === true ? { ...(client.arch === undefined ? {} : { arch: client.arch }), ...(client.vendorClass === undefined ? {} : { vendorClass: client.vendorClass }) } : {}) };
    const uuid = machine.spec.uuid ?? client?.uuid;
    const r = resolveClass({ mac, ...fw, ...(uuid === undefined ? {} : { uuid }) }, machine, plan.classes, plan.network.defaultProfile);
    if (r.kind !== 'resolved' || r.className === undefined) return undefined;
    return plan.classes.find((c) => c.name === r.className)?.spec.amtPolicy;
  }

  /**
   * Mode dhcp: the short lease for `mac` when the controller found its AMT
   * suffix mismatched (PlanMachine.amtSuffixMatch) and its class's policy has
   * spec.remediation.shortenLease; undefined for the network's usual lease.
   */
  shortLease(plan: BootPlan, mac: string, client?: Client): number | undefined {
    const machine = plan.machines.get(mac);
    if (machine?.amtSuffixMatch === undefined || plan.amtRemediation === undefined) return undefined;
    const name = this.policyOf(plan, mac, client);
    const remediation = name === undefined ? undefined : plan.amtRemediation.get(name);
    return shortLeaseSeconds(remediation === undefined ? undefined : { remediation }, plan.network.mode, { result: machine.amtSuffixMatch });
  }
}

/** Sets `key` as the newest entry, evicting the oldest past LIMIT. */
function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > LIMIT) map.delete(map.keys().next().value ?? '');
}
