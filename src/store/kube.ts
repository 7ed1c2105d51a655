/**
 * The kube store of cluster mode: the agent's BootStore backed by the API
 * server. Informers on the network's namespace (BootNetworks, BootProfiles,
 * MachineClasses, BootMachines) feed compilePlan; a change is compiled after
 * a short debounce and published when the plan's digest moved. Observations
 * go to BootMachine status.boot through the coalescing, rate-limited
 * StatusWriter; discoveries create BootMachines asynchronously; the agent's
 * readiness, digest and counters go to its BootNetwork status.agentReports
 * entry. Behaviour follows FileStore (src/store/file.ts) wherever both apply.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { machineNameFor } from '../api/v1alpha1/bootmachine.ts';
import type { BootMachine } from '../api/v1alpha1/bootmachine.ts';
import type { BootNetwork } from '../api/v1alpha1/bootnetwork.ts';
import type { BootProfile } from '../api/v1alpha1/bootprofile.ts';
import type { MachineClass } from '../api/v1alpha1/machineclass.ts';
import type { AmtNetworkPolicy } from '../api/v1alpha1/amtnetworkpolicy.ts';
import type { DiscoveryVerdict } from '../boot/discovery.ts';
import { adoptLeases } from '../boot/leases.ts';
import type { Lease, RecordedAddress } from '../boot/leases.ts';
import { compilePlan } from '../boot/plan.ts';
import type { BootPlan } from '../boot/plan.ts';
import { canonical } from '../boot/plan-digest.ts';
import { applyObservation } from '../boot/status.ts';
import type { BootObservation, BootStatus } from '../boot/status.ts';
import { Errors, NetbootError } from '../errors.ts';
import { Informer, systemClock } from '../kube/index.ts';
import type { Clock, InformerOptions, Timer } from '../kube/index.ts';
import type { Logger } from '../observability/logger.ts';
import type { KubeStoreApi, KubeStoreSources, RawObject } from './kube-api.ts';
import { PlanDigester } from './kube-digest.ts';
import { DISCOVERED_LABEL, Discoveries, discoveredMachine } from './kube-discovery.ts';
import { completedAtOf, parseAmtPolicy, parseClass, parseMachine, parseNetwork, parseProfile, resourceVersionAtLeast, samePlanFacts, withCompletedAt } from './kube-plan.ts';
import type { Parsed } from './kube-plan.ts';
import { AgentReporter, dhcpRole, servedGeneration } from './kube-report.ts';
import type { DhcpRole } from './kube-report.ts';
import { StatusWriter } from './kube-status.ts';
import type { StatusWriterStats, StatusWriterTuning } from './kube-status.ts';
import { readLeaseFile, writeLeaseFile } from './lease-file.ts';
import type { BootStore } from './store.ts';

export { agentReportManager, BOOT_STATUS_MANAGER, kubeStoreApi, kubeStoreSources } from './kube-api.ts';
export type { AgentReport, KubeStoreApi, KubeStoreSources } from './kube-api.ts';

/** Where the store works and how; every tuning field has a default. */
export interface KubeStoreOptions {
  readonly namespace: string;
  readonly network: string;
  readonly node: string;
  /** Directory for the lease file (mode dhcp). */
  readonly stateDir: string;
  readonly log: Logger;
  readonly clock?: Clock;
  /** Aborting gives up waiting for the caches or the BootNetwork: openKubeStore rejects. */
  readonly signal?: AbortSignal;
  /** Delay from a change to its recompile, so a burst of events compiles once. Default 75 ms. */
  readonly debounceMs?: number;
  readonly status?: StatusWriterTuning;
  /** Least time between two writes of the report entry's counters. Default 60 s. */
  readonly counterIntervalMs?: number;
  readonly informer?: Pick<InformerOptions, 'backoff' | 'watchdogMs'>;
}

/** The API calls and the watched collections (the real ones: kubeStoreApi, kubeStoreSources). */
export interface KubeStoreDeps {
  readonly api: KubeStoreApi;
  readonly sources: KubeStoreSources;
}

/** Counters for metrics and tests. */
export interface KubeStoreStats {
  readonly generation: number;
  readonly recompiles: number;
  readonly status: StatusWriterStats;
  readonly discovery: { readonly created: number; readonly refused: number };
  readonly reportWrites: number;
}

/** Opens the store: starts the informers, waits for their first list and for a valid BootNetwork. */
export function openKubeStore(options: KubeStoreOptions, deps: KubeStoreDeps): Promise<KubeStore> {
  return KubeStore.open(options, deps);
}

/** The report counter the controller sums into BootNetwork status.discoveryCapped. */
export const DISCOVERY_CAPPED_COUNTER = 'discoveryCapped';

/** The Kubernetes BootStore of one agent. */
export class KubeStore implements BootStore {
  readonly #ns: string;
  readonly #networkName: string;
  readonly #node: string;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #api: KubeStoreApi;
  readonly #debounceMs: number;
  readonly #stop = new AbortController();
  readonly #informers: { readonly networks: Informer<RawObject>; readonly profiles: Informer<RawObject>; readonly classes: Informer<RawObject>; readonly machines: Informer<RawObject> };
  readonly #profiles = new Map<string, BootProfile>();
  readonly #classes = new Map<string, MachineClass>();
  readonly #machines = new Map<string, BootMachine>();
  /** AmtNetworkPolicies for short leases; not part of the startup sync (see KubeStoreSources.amtPolicies). */
  readonly #policyInformer: Informer<RawObject> | undefined;
  readonly #amtPolicies = new Map<string, AmtNetworkPolicy>();
  readonly #discoveries: Discoveries;
  /** What this agent last wrote per machine, until the cache shows that resourceVersion. */
  readonly #confirmed = new Map<string, { readonly boot: BootStatus; readonly resourceVersion: string }>();
  readonly #listeners = new Set<(plan: BootPlan) => void>();
  readonly #digester = new PlanDigester();
  readonly #status: StatusWriter;
  readonly #reporter: AgentReporter;
  readonly #leaseFile: string;
  #network: BootNetwork | undefined;
  /** Mode dhcp: this agent's DHCP role; undefined in the proxy modes. */
  #dhcpRole: DhcpRole | undefined;
  #networkProblem: string | undefined = 'the caches have not synced yet';
  #plan: BootPlan | undefined;
  #digest: string | undefined;
  #generation = 0;
  #recompiles = 0;
  #matchedGeneration: number | undefined;
  #synced = false;
  #recompileTimer: Timer | undefined;
  #planWaiters: (() => void)[] = [];
  #leases: Lease[];
  #leaseWrite: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(options: KubeStoreOptions, deps: KubeStoreDeps) {
    this.#ns = options.namespace;
    this.#networkName = options.network;
    this.#node = options.node;
    this.#log = options.log;
    this.#clock = options.clock ?? systemClock;
    this.#api = deps.api;
    this.#debounceMs = options.debounceMs ?? 75;
    const informerOptions: InformerOptions = {
      ...options.informer,
      clock: this.#clock,
      onError: (err, retryInMs) => this.#log.warn({ code: err.code, retryInMs }, err.message),
      onListenerError: (err, event, key) => this.#log.error({ err, event, key }, 'kube store: handling an informer event failed (bug)'),
    };
    const { networks, profiles, classes, machines } = deps.sources;
    this.#informers = {
      networks: new Informer(networks, informerOptions),
      profiles: new Informer(profiles, informerOptions),
      classes: new Informer(classes, informerOptions),
      machines: new Informer(machines, informerOptions),
    };
    this.#watch(this.#informers.networks, (key) => this.#onNetwork(key));
    this.#watch(this.#informers.profiles, (key) => this.#onParsed(key, this.#informers.profiles, this.#profiles, parseProfile, 'BootProfile'));
    this.#watch(this.#informers.classes, (key) => this.#onParsed(key, this.#informers.classes, this.#classes, parseClass, 'MachineClass'));
    this.#watch(this.#informers.machines, (key) => this.#onMachine(key));
    this.#policyInformer = deps.sources.amtPolicies === undefined ? undefined : new Informer(deps.sources.amtPolicies, informerOptions);
    if (this.#policyInformer !== undefined) {
      const policies = this.#policyInformer;
      this.#watch(policies, (key) => this.#onParsed(key, policies, this.#amtPolicies, parseAmtPolicy, 'AmtNetworkPolicy'));
    }
    this.#status = new StatusWriter({
      ...options.status, clock: this.#clock, log: this.#log,
      write: (name, boot) => this.#writeStatus(name, boot),
      // A discovered machine's status waits until its creation has finished.
      deferred: (name) => this.#discoveries.creation(name) !== undefined,
    });
    this.#reporter = new AgentReporter({
      clock: this.#clock, log: this.#log,
      ...(options.counterIntervalMs === undefined ? {} : { counterIntervalMs: options.counterIntervalMs }),
      write: (report) => this.#api.applyAgentReport(this.#ns, this.#networkName, this.#node, report),
    });
    this.#reporter.set({ node: this.#node });
    this.#discoveries = new Discoveries({
      api: this.#api, clock: this.#clock, log: this.#log, namespace: this.#ns, signal: this.#stop.signal,
      onDone: (created) => { this.#status.poke(); if (!created) this.#scheduleRecompile(); },
    });
    mkdirSync(options.stateDir, { recursive: true });
    this.#leaseFile = join(options.stateDir, `leases-${this.#ns}-${this.#networkName}.json`);
    this.#leases = readLeaseFile(this.#leaseFile);
  }

  /** See openKubeStore. */
  static async open(options: KubeStoreOptions, deps: KubeStoreDeps): Promise<KubeStore> {
    const store = new KubeStore(options, deps);
    try {
      await store.#start(options.signal);
    } catch (err) {
      await store.#shutdownInformers();
      throw err;
    }
    return store;
  }

  async #start(signal: AbortSignal | undefined): Promise<void> {
    const all = Object.values(this.#informers);
    for (const informer of all) informer.start();
    this.#policyInformer?.start();
    const aborted = new Promise<false>((resolve) => {
      if (signal?.aborted === true) resolve(false);
      signal?.addEventListener('abort', () => resolve(false), { once: true });
    });
    const synced = await Promise.race([Promise.all(all.map((i) => i.waitForSync())).then((s) => s.every(Boolean)), aborted]);
    const where = `BootNetwork ${this.#ns}/${this.#networkName}`;
    if (!synced) throw new NetbootError(Errors.NetworkNotFound, `gave up before the caches of namespace ${this.#ns} were listed; see the NB4001/NB4004/NB4005 messages above for why`);
    this.#synced = true;
    this.#onNetwork(`${this.#ns}/${this.#networkName}`);
    this.#recompile();
    while (this.#plan === undefined) {
      this.#log.warn({ code: Errors.NetworkNotFound.code }, `${where}: ${this.#networkProblem ?? 'no plan yet'}; waiting for it before serving`);
      await Promise.race([new Promise<void>((resolve) => this.#planWaiters.push(resolve)), aborted]);
      if (signal?.aborted === true && this.#plan === undefined) {
        throw new NetbootError(Errors.NetworkNotFound, `gave up waiting for ${where}: ${this.#networkProblem ?? 'no plan yet'}`);
      }
    }
  }

  #watch(informer: Informer<RawObject>, handle: (key: string) => void): void {
    for (const event of ['add', 'update', 'delete'] as const) informer.on(event, handle);
  }

  // ---- the plan ---------------------------------------------------------

  plan(): BootPlan {
    if (this.#plan === undefined) throw new NetbootError(Errors.NetworkNotFound, `no plan for BootNetwork ${this.#ns}/${this.#networkName} yet`);
    return this.#plan;
  }

  /** The digest of the current plan (planDigest), as reported in status.agentReports. */
  planDigest(): string {
    this.#digest ??= this.#digester.digest(this.plan());
    return this.#digest;
  }

  onPlan(listener: (plan: BootPlan) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #onNetwork(key: string): void {
    if (key !== `${this.#ns}/${this.#networkName}`) return;
    const raw = this.#informers.networks.get(key);
    const parsed: Parsed<BootNetwork> = raw === undefined ? { ok: false, reason: 'it does not exist' } : parseNetwork(raw);
    const problem = parsed.ok ? undefined : raw === undefined ? parsed.reason : `it is invalid (${parsed.reason})`;
    if (problem !== this.#networkProblem && this.#synced) {
      const where = `BootNetwork ${this.#ns}/${this.#networkName}`;
      if (problem === undefined) this.#log.info({ network: this.#networkName }, `${where} is valid`);
      else if (this.#plan !== undefined) this.#log.error({ code: Errors.NetworkNotFound.code }, `${where}: ${problem}; serving the last plan (generation ${this.#plan.generation}) until it is fixed`);
      else this.#log.warn({ code: Errors.NetworkNotFound.code }, `${where}: ${problem}; waiting for it before serving`);
    }
    const hadProblem = this.#networkProblem !== undefined;
    this.#networkProblem = problem;
    if (parsed.ok) {
      // Status updates (the controller's, every agent's report) change nothing the plan reads.
      const changed = this.#network === undefined || canonical(this.#network.spec) !== canonical(parsed.value.spec);
      if (changed) {
        if (this.#network !== undefined && canonical(this.#network.spec.discovery) !== canonical(parsed.value.spec.discovery)) this.#discoveries.invalidate();
        this.#network = parsed.value;
      }
      if (changed || hadProblem) this.#scheduleRecompile();
    }
    this.#updateReport();
  }

  #onParsed<T>(key: string, informer: Informer<RawObject>, into: Map<string, T>, parse: (raw: RawObject) => Parsed<T>, kind: string): void {
    const raw = informer.get(key);
    if (raw === undefined) {
      into.delete(key);
    } else {
      const parsed = parse(raw);
      if (parsed.ok) into.set(key, parsed.value);
      else {
        into.delete(key);
        this.#log.warn({ code: Errors.ResourceInvalid.code, key }, `${kind} ${key} is invalid and left out of the plan: ${parsed.reason}`);
      }
    }
    this.#scheduleRecompile();
  }

  #onMachine(key: string): void {
    const raw = this.#informers.machines.get(key);
    const name = key.slice(key.indexOf('/') + 1);
    const prev = this.#machines.get(key);
    if (raw === undefined) {
      this.#machines.delete(key);
      this.#confirmed.delete(name);
      this.#status.forget(name);
      if (prev?.metadata.labels?.[DISCOVERED_LABEL] === 'true') this.#discoveries.invalidate();
      if (prev !== undefined) this.#scheduleRecompile();
      return;
    }
    const confirmed = this.#confirmed.get(name);
    if (confirmed !== undefined && resourceVersionAtLeast(raw.metadata?.resourceVersion, confirmed.resourceVersion)) this.#confirmed.delete(name);
    const parsed = parseMachine(raw);
    if (!parsed.ok) {
      this.#log.warn({ code: Errors.ResourceInvalid.code, key }, `BootMachine ${key} is invalid and left out of the plan: ${parsed.reason}`);
      if (this.#machines.delete(key)) this.#scheduleRecompile();
      return;
    }
    const overlay = this.#discoveries.seen(name);
    // Keep the old object when nothing compilePlan reads changed: a status write is then free, and
    // the digest memo (keyed by object identity) stays warm.
    if (prev !== undefined && samePlanFacts(prev, parsed.value) && !overlay) return;
    this.#machines.set(key, parsed.value);
    this.#scheduleRecompile();
  }

  #scheduleRecompile(): void {
    if (!this.#synced || this.#closed || this.#recompileTimer !== undefined) return;
    // Not reset by later events: a steady stream of changes still compiles every debounceMs.
    this.#recompileTimer = this.#clock.setTimer(() => { this.#recompileTimer = undefined; this.#recompile(); }, this.#debounceMs);
  }

  /** Compiles the plan from the caches; publishes it when its digest moved. Keeps the last plan while the network is missing or invalid. */
  #recompile(): void {
    const network = this.#network;
    if (network === undefined || this.#networkProblem !== undefined) return;
    this.#recompiles++;
    const machines: BootMachine[] = [];
    const local = this.#status.stats().pending > 0 || this.#confirmed.size > 0;
    for (const m of this.#machines.values()) machines.push(local ? this.#withLocalCompletion(m) : m);
    for (const m of this.#discoveries.overlay()) machines.push(m);
    const current = this.#plan === undefined ? undefined : this.planDigest();
    const candidate = compilePlan({ network, profiles: [...this.#profiles.values()], classes: [...this.#classes.values()], machines, amtPolicies: [...this.#amtPolicies.values()] }, this.#generation + 1);
    const digest = this.#digester.digest(candidate);
    if (digest !== current) {
      this.#generation++;
      this.#plan = candidate;
      this.#digest = digest;
      this.#publish();
    }
    this.#updateReport();
  }

  /**
   * A completion (bootPolicy once) this agent saw but the cache does not show
   * yet counts at once, as in FileStore: the next boot must get the local-disk
   * script even if the status write is still waiting.
   */
  #withLocalCompletion(m: BootMachine): BootMachine {
    const name = m.metadata.name;
    const completedAt = (this.#status.pending(name) ?? this.#confirmed.get(name)?.boot)?.completedAt;
    return completedAt === undefined || completedAt === completedAtOf(m) ? m : withCompletedAt(m, completedAt);
  }

  #publish(): void {
    const plan = this.plan();
    for (const listener of this.#listeners) {
      try { listener(plan); } catch (err) { this.#log.error({ err }, 'a plan listener threw (bug)'); }
    }
    const waiters = this.#planWaiters;
    this.#planWaiters = [];
    for (const wake of waiters) wake();
  }

  #updateReport(): void {
    if (this.#plan === undefined) return;
    const digest = this.planDigest();
    const status = this.#informers.networks.get(`${this.#ns}/${this.#networkName}`)?.status;
    this.#matchedGeneration = servedGeneration(status, digest, this.#matchedGeneration);
    const raw = status?.['agentReports'];
    const reports = (Array.isArray(raw) ? raw : []).filter((r): r is { node?: unknown; dhcp?: unknown } => typeof r === 'object' && r !== null);
    this.#updateDhcpRole(reports);
    this.#reporter.set({ planDigest: digest, ...(this.#matchedGeneration === undefined ? {} : { planGeneration: this.#matchedGeneration }), dhcp: this.#dhcpRole?.role });
    this.#reporter.observed(reports.some((r) => r.node === this.#node));
  }

  /** Mode dhcp: decides whether this agent answers DHCP (see dhcpRole), and says so when that changes. */
  #updateDhcpRole(reports: readonly { node?: unknown; dhcp?: unknown }[]): void {
    if (this.#plan?.network.mode !== 'dhcp') {
      this.#dhcpRole = undefined;
      return;
    }
    const before = this.#dhcpRole;
    const next = dhcpRole(this.#node, before?.role, reports);
    this.#dhcpRole = next;
    if (before?.role === next.role && before.holder === next.holder) return;
    const where = `BootNetwork ${this.#ns}/${this.#networkName} (mode dhcp)`;
    if (next.role === 'standby') {
      this.#log.error({ code: Errors.DhcpStandby.code, holder: next.holder }, `${where}: the agent on node ${next.holder ?? '?'} answers DHCP; this agent stands by and does not answer on port 67. Each agent keeps its own lease table, so only one may serve: select one node with spec.nodeSelector`);
    } else {
      // Serving now: at start, or taking over from a standby. Either way the previous agent's table is not here.
      const adopted = this.#adoptRecordedLeases();
      if (before?.role === 'standby') {
        this.#log.warn({ code: Errors.DhcpStandby.code, previous: before.holder, adopted }, `${where}: the agent on node ${before.holder ?? '?'} no longer serves; this agent answers DHCP now, with ${adopted} address(es) the BootMachine statuses record added to its lease table. Addresses the other agent leased to clients without a BootMachine are not known here and may be offered again before their leases end`);
      }
    }
  }

  /**
   * Mode dhcp, on becoming the serving agent: adds to the lease table the
   * addresses this network's BootMachine statuses record (status.boot.ipAddress,
   * held until lastSeen + the lease time; adoptLeases), so an agent that takes
   * over, or starts on another node, does not offer an address another agent
   * leased to a known machine. Returns how many were added.
   */
  #adoptRecordedLeases(): number {
    const dhcp = this.#plan?.network.dhcp;
    if (dhcp === undefined) return 0;
    const recorded: RecordedAddress[] = [];
    // The parsed machines keep only what the plan reads; the informer's objects have the whole status.
    for (const [key, m] of this.#machines) {
      if (m.spec.network !== this.#networkName) continue;
      const boot = this.#informers.machines.get(key)?.status?.['boot'] as { ipAddress?: unknown; lastSeen?: unknown } | undefined;
      if (typeof boot?.ipAddress === 'string' && typeof boot.lastSeen === 'string') recorded.push({ mac: m.spec.mac, ip: boot.ipAddress, lastSeen: Date.parse(boot.lastSeen) });
    }
    const { leases, adopted } = adoptLeases(this.#leases, recorded, dhcp.pool, dhcp.leaseSeconds);
    if (adopted > 0) {
      this.#log.info({ adopted }, `BootNetwork ${this.#ns}/${this.#networkName}: ${adopted} address(es) from BootMachine statuses added to the lease table`);
      this.saveLeases(leases).catch((err: unknown) => this.#log.error({ err }, 'writing the lease table failed'));
    }
    return adopted;
  }

  /** Mode dhcp: why this agent must not answer DHCP now (another agent serves the network), or undefined. */
  dhcpStandby(): string | undefined {
    const role = this.#dhcpRole;
    return role?.role === 'standby' ? `standby: the agent on node ${role.holder ?? '?'} answers DHCP for this network` : undefined;
  }

  // ---- status ----------------------------------------------------------

  report(obs: BootObservation): void {
    if (this.#closed) return;
    const name = machineNameFor(obs.mac);
    const cached = this.#informers.machines.get(`${this.#ns}/${name}`);
    // Discovery creates machines; an observation of a MAC without one has nowhere to go.
    if (cached === undefined && !this.#discoveries.has(name)) return;
    const pending = this.#status.pending(name);
    const base = pending ?? this.#confirmed.get(name)?.boot ?? (cached?.status?.['boot'] as BootStatus | undefined);
    const boot = applyObservation(base, obs);
    // Repeats within one second (a firmware retrying) change nothing: no write.
    if (pending === undefined && base !== undefined && canonical(boot) === canonical(base)) return;
    this.#status.offer(name, boot);
    if (obs.completes === true) this.#scheduleRecompile();
  }

  async #writeStatus(name: string, boot: BootStatus): Promise<void> {
    const { resourceVersion } = await this.#api.applyBootStatus(this.#ns, name, boot);
    const cachedVersion = this.#informers.machines.get(`${this.#ns}/${name}`)?.metadata?.resourceVersion;
    if (resourceVersion !== undefined && !resourceVersionAtLeast(cachedVersion, resourceVersion)) this.#confirmed.set(name, { boot, resourceVersion });
  }

  // ---- discovery -------------------------------------------------------

  discover(mac: string, now: number): DiscoveryVerdict | 'exists' {
    const name = machineNameFor(mac);
    if (this.#closed || this.plan().machines.has(mac) || this.#discoveries.has(name) || this.#informers.machines.get(`${this.#ns}/${name}`) !== undefined) return 'exists';
    const plan = this.plan();
    const verdict = this.#discoveries.admit(now, plan.network.discovery, () => this.#cachedDiscovered());
    if (verdict !== 'create') return verdict;
    const machine = discoveredMachine(mac, this.#ns, this.#networkName, plan.network.unknownMachines);
    this.#discoveries.create(machine);
    // The packet being answered must see the machine now, as with FileStore: patch the plan in
    // place of a full compile; the debounced recompile arrives at the same content.
    const entry = compilePlan({ network: this.#network as BootNetwork, profiles: [], classes: [], machines: [machine] }, 0).machines.get(mac);
    if (entry !== undefined) {
      this.#generation++;
      this.#plan = { ...plan, generation: this.#generation, machines: new Map(plan.machines).set(mac, entry) };
      this.#digest = undefined;
      this.#publish();
    }
    this.#scheduleRecompile();
    return 'create';
  }

  /** Discovered machines of this network in the cache (the limiter's seed). */
  #cachedDiscovered(): number {
    let n = 0;
    for (const m of this.#machines.values()) if (m.metadata.labels?.[DISCOVERED_LABEL] === 'true' && m.spec.network === this.#networkName) n++;
    return n;
  }

  /** Discovery counters: machines known as discovered (seed included) and MACs refused by cap or rate. */
  get discoveryCounts(): { created: number; refused: number } {
    return this.#discoveries.counts(this.plan().network.discovery, () => this.#cachedDiscovered());
  }

  // ---- leases ----------------------------------------------------------

  leases(): readonly Lease[] { return this.#leases; }

  saveLeases(leases: readonly Lease[]): Promise<void> {
    this.#leases = [...leases];
    const snapshot = this.#leases;
    // One write at a time (they share the temporary file); each writes the table as it was saved.
    this.#leaseWrite = this.#leaseWrite.catch(() => {}).then(() => writeLeaseFile(this.#leaseFile, snapshot));
    return this.#leaseWrite;
  }

  // ---- the agent's report --------------------------------------------

  /** The agent's readiness (every listener bound) and a message saying why not, or what it serves. */
  setReady(ready: boolean, message?: string): void {
    this.#reporter.set({ ready, ...(message === undefined ? { message: undefined } : { message }) });
  }

  /** The agent's counters since it started (offers, acks, tftpTransfers, scriptsServed...); MACs refused by the discovery cap or rate are added as discoveryCapped. */
  setCounters(counters: Readonly<Record<string, number>>): void {
    this.#reporter.set({ counters: { ...counters, [DISCOVERY_CAPPED_COUNTER]: this.discoveryCounts.refused } });
  }

  stats(): KubeStoreStats {
    return { generation: this.#generation, recompiles: this.#recompiles, status: this.#status.stats(), discovery: this.discoveryCounts, reportWrites: this.#reporter.writes };
  }

  // ---- lifecycle -------------------------------------------------------

  /** Writes pending statuses (not of machines still being created) and a pending report change. */
  async flush(): Promise<void> {
    await this.#status.flush();
    await this.#reporter.flush();
    await this.#leaseWrite.catch(() => {});
  }

  /** Flushes, removes this agent's report entry and stops the informers. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#recompileTimer?.cancel();
    this.#recompileTimer = undefined;
    // Creations still retrying give up here; the MAC is discovered again after a restart.
    this.#stop.abort();
    await this.#discoveries.settle();
    await this.flush();
    this.#status.close();
    await this.#reporter.remove();
    await this.#shutdownInformers();
  }

  async #shutdownInformers(): Promise<void> {
    this.#stop.abort();
    await Promise.all([...Object.values(this.#informers), ...(this.#policyInformer === undefined ? [] : [this.#policyInformer])].map((i) => i.stop()));
  }
}
