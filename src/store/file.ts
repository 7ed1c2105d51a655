/**
 * The file store of standalone mode: resources come from YAML files, status
 * goes back to YAML (`<state>/bootmachines.yaml`) so `netboot status` shows
 * what a cluster would show, and leases go to `<state>/leases.json`, written
 * atomically (rename) before an address is offered.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { emitYaml } from './emit.ts';
import { BootMachine as BootMachineSchema, machineNameFor } from '../api/v1alpha1/bootmachine.ts';
import type { BootMachine } from '../api/v1alpha1/bootmachine.ts';
import type { BootNetwork } from '../api/v1alpha1/bootnetwork.ts';
import type { BootProfile } from '../api/v1alpha1/bootprofile.ts';
import type { MachineClass } from '../api/v1alpha1/machineclass.ts';
import { API_VERSION } from '../api/v1alpha1/index.ts';
import type { LoadedResource } from '../api/load.ts';
import { DiscoveryLimiter } from '../boot/discovery.ts';
import type { DiscoveryVerdict } from '../boot/discovery.ts';
import type { Lease } from '../boot/leases.ts';
import { compilePlan } from '../boot/plan.ts';
import type { BootPlan } from '../boot/plan.ts';
import { applyObservation } from '../boot/status.ts';
import { resolveClass } from '../boot/match.ts';
import type { BootObservation } from '../boot/status.ts';
import { Errors, NetbootError } from '../errors.ts';
import type { BootStore } from './store.ts';

export const MACHINES_FILE = 'bootmachines.yaml';
export const LEASES_FILE = 'leases.json';

function ofKind<T>(resources: readonly LoadedResource[], kind: string, namespace: string): T[] {
  return resources.filter((r) => r.kind === kind && r.namespace === namespace).map((r) => r.object as T);
}

/** Reads machines written by an earlier run, so status and discoveries survive a restart. */
export function readMachinesFile(stateDir: string): BootMachine[] {
  const file = join(stateDir, MACHINES_FILE);
  if (!existsSync(file)) return [];
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => BootMachineSchema.parse(d.toJS()));
}

export class FileStore implements BootStore {
  readonly #stateDir: string;
  readonly #network: BootNetwork;
  readonly #profiles: BootProfile[];
  readonly #classes: MachineClass[];
  readonly #machines = new Map<string, BootMachine>();
  readonly #listeners = new Set<(plan: BootPlan) => void>();
  readonly #limiter: DiscoveryLimiter;
  #plan: BootPlan;
  #generation = 1;
  #leases: Lease[];
  #dirty = false;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();

  /** Loads the named network (or the only one) and everything in its namespace. */
  constructor(resources: readonly LoadedResource[], stateDir: string, networkName?: string) {
    const networks = resources.filter((r) => r.kind === 'BootNetwork' && (networkName === undefined || r.name === networkName));
    if (networks.length !== 1) {
      const names = resources.filter((r) => r.kind === 'BootNetwork').map((r) => r.name).join(', ') || 'none';
      throw new NetbootError(Errors.ReferenceMissing, networkName === undefined
        ? `expected exactly one BootNetwork in the files (found: ${names}); choose one with --network`
        : `BootNetwork "${networkName}" is not in the files (found: ${names})`);
    }
    const net = networks[0] as LoadedResource;
    this.#network = net.object as BootNetwork;
    this.#profiles = ofKind(resources, 'BootProfile', net.namespace);
    this.#classes = ofKind(resources, 'MachineClass', net.namespace);
    this.#stateDir = stateDir;
    mkdirSync(stateDir, { recursive: true });
    for (const m of readMachinesFile(stateDir)) this.#machines.set(m.spec.mac, m);
    for (const m of ofKind<BootMachine>(resources, 'BootMachine', net.namespace)) {
      // The files own spec; the state file owns status.
      const prev = this.#machines.get(m.spec.mac);
      this.#machines.set(m.spec.mac, { ...m, ...(prev?.status === undefined ? {} : { status: prev.status }) });
    }
    const leasesFile = join(stateDir, LEASES_FILE);
    this.#leases = existsSync(leasesFile) ? JSON.parse(readFileSync(leasesFile, 'utf8')) as Lease[] : [];
    const discovered = [...this.#machines.values()].filter((m) => m.metadata.labels?.['netboot.dev/discovered'] === 'true').length;
    this.#limiter = new DiscoveryLimiter(this.#network.spec.discovery, discovered);
    this.#plan = this.#compile();
  }

  #compile(): BootPlan {
    return compilePlan({ network: this.#network, profiles: this.#profiles, classes: this.#classes, machines: [...this.#machines.values()] }, this.#generation);
  }

  #replan(): void {
    this.#generation++;
    this.#plan = this.#compile();
    for (const l of this.#listeners) l(this.#plan);
  }

  plan(): BootPlan { return this.#plan; }

  onPlan(listener: (plan: BootPlan) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  report(obs: BootObservation): void {
    const m = this.#machines.get(obs.mac);
    if (m === undefined) return;
    const boot = applyObservation(m.status?.boot, obs);
    this.#machines.set(obs.mac, { ...m, status: { ...m.status, boot } });
    // completedAt changes what the next boot gets (bootPolicy once): publish a new plan.
    if (obs.completes === true) this.#replan();
    this.#schedule();
  }

  discover(mac: string, now: number): DiscoveryVerdict | 'exists' {
    if (this.#machines.has(mac)) return 'exists';
    const verdict = this.#limiter.admit(now);
    if (verdict !== 'create') return verdict;
    const machine = BootMachineSchema.parse({
      apiVersion: API_VERSION, kind: 'BootMachine',
      metadata: { name: machineNameFor(mac), namespace: this.#plan.namespace, labels: { 'netboot.dev/discovered': 'true' } },
      // discover records the machine but boots it only once someone sets netboot: allow.
      spec: { mac, network: this.#plan.networkName, netboot: this.#plan.network.unknownMachines === 'discover' ? 'deny' : 'allow' },
    });
    this.#machines.set(mac, machine);
    this.#replan();
    this.#schedule();
    return 'create';
  }

  leases(): readonly Lease[] { return this.#leases; }

  async saveLeases(leases: readonly Lease[]): Promise<void> {
    this.#leases = [...leases];
    const file = join(this.#stateDir, LEASES_FILE);
    await writeFile(`${file}.tmp`, JSON.stringify(this.#leases, null, 1));
    await rename(`${file}.tmp`, file);
  }

  /** Discovery counters for status. */
  get discoveryCounts(): { created: number; refused: number } { return this.#limiter.counts; }

  #schedule(): void {
    this.#dirty = true;
    // unref: a pending write must not keep a finished process alive; serve flushes on shutdown.
    this.#timer ??= setTimeout(() => { this.#timer = undefined; void this.flush(); }, 1000).unref();
  }

  async flush(): Promise<void> {
    if (this.#timer !== undefined) { clearTimeout(this.#timer); this.#timer = undefined; }
    if (!this.#dirty) return this.#writing;
    this.#dirty = false;
    const docs = [...this.#machines.values()].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
      .map((m) => emitYaml(withResolution(m, this.#plan) as unknown as Record<string, unknown>));
    const file = join(this.#stateDir, MACHINES_FILE);
    this.#writing = this.#writing.then(async () => {
      await writeFile(`${file}.tmp`, docs.join('---\n'));
      await rename(`${file}.tmp`, file);
    });
    return this.#writing;
  }

  async close(): Promise<void> {
    await this.flush();
  }
}


/**
 * Standalone mode plays the controller's part too: the class and profile a
 * machine resolves to right now, from its spec and the firmware it was seen with.
 */
function withResolution(m: BootMachine, plan: BootPlan): BootMachine {
  const fw = m.status?.boot?.firmware;
  const r = resolveClass({ mac: m.spec.mac, ...(fw?.arch === undefined ? {} : { arch: fw.arch }), ...(fw?.vendorClass === undefined ? {} : { vendorClass: fw.vendorClass }), ...(m.spec.uuid === undefined ? {} : { uuid: m.spec.uuid }) },
    plan.machines.get(m.spec.mac), plan.classes, plan.network.defaultProfile);
  const { machineClass: _c, profile: _p, ...rest } = m.status ?? {};
  const resolved = r.kind === 'resolved' ? { ...(r.className === undefined ? {} : { machineClass: r.className }), profile: r.profile } : {};
  return { ...m, status: { ...rest, ...resolved } };
}
