/**
 * The file store of standalone mode: resources come from YAML files, status
 * goes back to YAML (`<state>/bootmachines.yaml`) so `netboot status` shows
 * what a cluster would show, and leases go to `<state>/leases.json`, written
 * atomically (rename) before an address is offered.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { DOCUMENT_SEPARATOR, emitYaml, YamlStream } from './emit.ts';
import type { RenderPacing } from './emit.ts';
import { BootMachine as BootMachineSchema, machineNameFor } from '../api/v1alpha1/bootmachine.ts';
import type { BootMachine } from '../api/v1alpha1/bootmachine.ts';
import type { BootNetwork } from '../api/v1alpha1/bootnetwork.ts';
import type { BootProfile } from '../api/v1alpha1/bootprofile.ts';
import type { MachineClass } from '../api/v1alpha1/machineclass.ts';
import type { AmtNetworkPolicy } from '../api/v1alpha1/amtnetworkpolicy.ts';
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
import { readLeaseFile, writeLeaseFile } from './lease-file.ts';
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

/**
 * The whole status file for `machines` emitted afresh: documents sorted by
 * name, each resolved as the controller would. FileStore writes exactly these
 * bytes, re-emitting only the machines that changed.
 */
export function emitMachinesFile(machines: Iterable<BootMachine>, plan: BootPlan): string {
  return [...machines].sort(byName).map((m) => emitYaml(withResolution(m, plan) as unknown as Record<string, unknown>)).join(DOCUMENT_SEPARATOR);
}

/** The order localeCompare gives, without the cost of a collator per comparison. */
const collator = new Intl.Collator();
const byName = (a: BootMachine, b: BootMachine) => collator.compare(a.metadata.name, b.metadata.name);

/**
 * A flush emits at most this many changed machines per turn of the event
 * loop (~25 µs each), then lets waiting packets through: a flush where every
 * machine changed never holds the loop for long, whatever the count.
 */
const EMIT_PACING: RenderPacing = { every: 16, wait: () => new Promise((resolve) => setImmediate(resolve)) };

/** Test seams of {@link FileStore}. */
export interface FileStoreOptions {
  /** Emits one status document; tests pass a spy to count re-emissions. */
  readonly emitDocument?: (doc: Record<string, unknown>) => string;
}

export class FileStore implements BootStore {
  readonly #stateDir: string;
  readonly #network: BootNetwork;
  readonly #profiles: BootProfile[];
  readonly #classes: MachineClass[];
  /** Read for their remediation block only (short leases in mode dhcp). */
  readonly #amtPolicies: AmtNetworkPolicy[];
  readonly #machines = new Map<string, BootMachine>();
  readonly #listeners = new Set<(plan: BootPlan) => void>();
  readonly #limiter: DiscoveryLimiter;
  #plan: BootPlan;
  #generation = 1;
  #leases: Lease[];
  #dirty = false;
  #timer: NodeJS.Timeout | undefined;
  /** One emitted document per machine (keyed by MAC), re-emitted only when the machine object changed. */
  readonly #status: YamlStream<BootMachine>;
  /** MACs in file order (by name), computed at the first flush and kept sorted as machines are added. */
  #order: string[] | undefined;
  /** The status write in flight, and the one queued behind it that every flush meanwhile shares. */
  #writing: Promise<void> | undefined;
  #queued: Promise<void> | undefined;

  /** Loads the named network (or the only one) and everything in its namespace. */
  constructor(resources: readonly LoadedResource[], stateDir: string, networkName?: string, options: FileStoreOptions = {}) {
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
    this.#amtPolicies = ofKind(resources, 'AmtNetworkPolicy', net.namespace);
    this.#stateDir = stateDir;
    mkdirSync(stateDir, { recursive: true });
    for (const m of readMachinesFile(stateDir)) this.#machines.set(m.spec.mac, m);
    for (const m of ofKind<BootMachine>(resources, 'BootMachine', net.namespace)) {
      // The files own spec; the state file owns status.
      const prev = this.#machines.get(m.spec.mac);
      this.#machines.set(m.spec.mac, { ...m, ...(prev?.status === undefined ? {} : { status: prev.status }) });
    }
    this.#leases = readLeaseFile(join(stateDir, LEASES_FILE));
    const discovered = [...this.#machines.values()].filter((m) => m.metadata.labels?.['netboot.dev/discovered'] === 'true').length;
    this.#limiter = new DiscoveryLimiter(this.#network.spec.discovery, discovered);
    this.#plan = this.#compile();
    this.#status = new YamlStream(options.emitDocument);
  }

  #compile(): BootPlan {
    return compilePlan({ network: this.#network, profiles: this.#profiles, classes: this.#classes, machines: [...this.#machines.values()], amtPolicies: this.#amtPolicies }, this.#generation);
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
    // An AMT fact already known (a repeated lease, the first-seen time) changes nothing: no write.
    if (boot === m.status?.boot) return;
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
    this.#insertOrdered(machine);
    this.#replan();
    this.#schedule();
    return 'create';
  }

  leases(): readonly Lease[] { return this.#leases; }

  async saveLeases(leases: readonly Lease[]): Promise<void> {
    this.#leases = [...leases];
    await writeLeaseFile(join(this.#stateDir, LEASES_FILE), this.#leases);
  }

  /** Puts a new machine's MAC where a sort by name would (after equal names, as the stable sort would). */
  #insertOrdered(machine: BootMachine): void {
    const order = this.#order;
    if (order === undefined) return;
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (byName(this.#machines.get(order[mid] as string) as BootMachine, machine) <= 0) lo = mid + 1;
      else hi = mid;
    }
    order.splice(lo, 0, machine.spec.mac);
  }

  /** Every machine with its current status (without the resolved class and profile the file adds). */
  machines(): readonly BootMachine[] { return [...this.#machines.values()]; }

  /** Discovery counters for status. */
  get discoveryCounts(): { created: number; refused: number } { return this.#limiter.counts; }

  #schedule(): void {
    this.#dirty = true;
    // unref: a pending write must not keep a finished process alive; serve flushes on shutdown.
    // A failed timed write stays dirty and is retried by the next change or the flush at close, which throws.
    this.#timer ??= setTimeout(() => { this.#timer = undefined; this.flush().catch(() => {}); }, 1000).unref();
  }

  /**
   * Writes the status file if anything changed. Off the packet path: only
   * machines that changed are re-emitted, a few per turn of the event loop,
   * and the file is written from the cached documents through the thread
   * pool (temp file, then rename). The file is the state as it was when the
   * flush started. One write at a time: a flush during a write queues one
   * more, which every later flush shares.
   */
  flush(): Promise<void> {
    if (this.#timer !== undefined) { clearTimeout(this.#timer); this.#timer = undefined; }
    if (this.#writing !== undefined) {
      if (!this.#dirty) return this.#writing;
      this.#queued ??= this.#writing.catch(() => {}).then(() => { this.#queued = undefined; return this.flush(); });
      return this.#queued;
    }
    if (!this.#dirty) return Promise.resolve();
    this.#dirty = false;
    this.#order ??= [...this.#machines.values()].sort(byName).map((m) => m.spec.mac);
    const machines = this.#order.map((mac) => [mac, this.#machines.get(mac) as BootMachine] as const);
    // A machine's document depends on the machine alone: withResolution reads it and the plan's classes and
    // network, and in a FileStore only machines change after construction (the files are read once).
    const plan = this.#plan;
    const toDocument = (m: BootMachine) => withResolution(m, plan) as unknown as Record<string, unknown>;
    const writing = this.#status.render(machines, toDocument, EMIT_PACING).then((pieces) => writeAtomically(join(this.#stateDir, MACHINES_FILE), pieces)).catch((err: unknown) => {
      // Not written: the next flush tries again with whatever is current then.
      this.#dirty = true;
      throw err;
    }).finally(() => { this.#writing = undefined; });
    this.#writing = writing;
    return writing;
  }

  async close(): Promise<void> {
    await this.flush();
  }
}


/** Writes `pieces` one after the other to `<file>.tmp`, then renames it over `file`. */
async function writeAtomically(file: string, pieces: readonly Buffer[]): Promise<void> {
  const tmp = `${file}.tmp`;
  const handle = await open(tmp, 'w');
  try {
    let rest = pieces;
    while (rest.length > 0) {
      let { bytesWritten } = await handle.writev(rest);
      // A short write (rare on a regular file): carry on from the first piece not fully written.
      let i = 0;
      while (i < rest.length && bytesWritten >= (rest[i] as Buffer).length) bytesWritten -= (rest[i++] as Buffer).length;
      rest = i < rest.length ? [(rest[i] as Buffer).subarray(bytesWritten), ...rest.slice(i + 1)] : [];
    }
  } finally {
    await handle.close();
  }
  await rename(tmp, file);
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
