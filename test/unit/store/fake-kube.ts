/**
 * Fakes for the kube store's unit tests: a namespace of objects served
 * through ListWatchSources (list, then a watch the fake feeds), and a
 * KubeStoreApi that counts calls, writes into those objects and can be
 * taken "down". The real path (client-node against a real kube-apiserver)
 * is covered by test/kube/agent-store.test.ts.
 */
import { pino } from 'pino';
import type { Logger } from 'pino';
import type { ListWatchSource, WatchEvent } from '../../../src/kube/informer.ts';
import type { AgentReport, KubeStoreApi, KubeStoreSources, RawObject } from '../../../src/store/kube-api.ts';
import type { z } from 'zod';
import { BootMachineSpec } from '../../../src/api/v1alpha1/bootmachine.ts';
import type { BootMachine } from '../../../src/api/v1alpha1/bootmachine.ts';
import { BootNetworkSpec } from '../../../src/api/v1alpha1/bootnetwork.ts';
import { BootProfileSpec } from '../../../src/api/v1alpha1/bootprofile.ts';
import { MachineClassSpec } from '../../../src/api/v1alpha1/machineclass.ts';
import type { BootStatus } from '../../../src/boot/status.ts';

type Obj = RawObject & { apiVersion: string; kind: string; metadata: { name: string; namespace: string; resourceVersion?: string; labels?: Record<string, string> }; spec: unknown; status?: Record<string, unknown> };

const PLURALS = ['bootnetworks', 'bootprofiles', 'machineclasses', 'bootmachines'] as const;
type Plural = (typeof PLURALS)[number];
const KINDS: Record<Plural, string> = { bootnetworks: 'BootNetwork', bootprofiles: 'BootProfile', machineclasses: 'MachineClass', bootmachines: 'BootMachine' };
const SPECS: Record<Plural, z.ZodType> = { bootnetworks: BootNetworkSpec, bootprofiles: BootProfileSpec, machineclasses: MachineClassSpec, bootmachines: BootMachineSpec };

/** The spec as the API server stores it: CRD defaults filled in (an invalid spec is kept as given, as if it predated a rule). */
function defaulted(plural: Plural, spec: unknown): unknown {
  const parsed = SPECS[plural].safeParse(spec);
  return parsed.success ? parsed.data : spec;
}

/** An error as client-node throws it when nothing answers. */
export function unreachable(): Error {
  return Object.assign(new Error('fetch failed'), { cause: new Error('connect ECONNREFUSED 127.0.0.1:6443') });
}

/** An ApiException-like error with an HTTP status. */
export function httpError(code: number, message: string): Error {
  return Object.assign(new Error(`HTTP-Code: ${code}`), { code, body: JSON.stringify({ kind: 'Status', message }) });
}

/** One namespace of netboot.dev objects with watchers. */
export class FakeNamespace {
  readonly namespace: string;
  #rv = 100;
  readonly #objects = new Map<Plural, Map<string, Obj>>(PLURALS.map((p) => [p, new Map()]));
  readonly #watchers = new Map<Plural, Set<(e: WatchEvent) => void>>(PLURALS.map((p) => [p, new Set()]));

  constructor(namespace = 'ns') {
    this.namespace = namespace;
  }

  get(plural: Plural, name: string): Obj | undefined {
    return this.#objects.get(plural)?.get(name);
  }

  /** Creates or replaces an object (spec and metadata as given; status kept unless given). */
  put(plural: Plural, name: string, spec: unknown, extra: { labels?: Record<string, string>; status?: Record<string, unknown> } = {}): Obj {
    const prev = this.get(plural, name);
    const status = extra.status ?? prev?.status;
    const obj: Obj = {
      apiVersion: 'netboot.dev/v1alpha1', kind: KINDS[plural],
      metadata: { name, namespace: this.namespace, resourceVersion: String(++this.#rv), ...(extra.labels === undefined ? {} : { labels: extra.labels }) },
      spec: defaulted(plural, spec), ...(status === undefined ? {} : { status }),
    };
    this.#objects.get(plural)?.set(name, obj);
    this.#emit(plural, { type: prev === undefined ? 'ADDED' : 'MODIFIED', object: obj });
    return obj;
  }

  /** Replaces an object's status (what a status write does); returns the new resourceVersion. */
  setStatus(plural: Plural, name: string, status: Record<string, unknown>): string {
    const prev = this.get(plural, name);
    if (prev === undefined) throw new Error(`${plural}/${name} does not exist`);
    const obj: Obj = { ...prev, metadata: { ...prev.metadata, resourceVersion: String(++this.#rv) }, status };
    this.#objects.get(plural)?.set(name, obj);
    this.#emit(plural, { type: 'MODIFIED', object: obj });
    return obj.metadata.resourceVersion ?? '';
  }

  delete(plural: Plural, name: string): void {
    const prev = this.get(plural, name);
    if (prev === undefined) return;
    this.#objects.get(plural)?.delete(name);
    this.#emit(plural, { type: 'DELETED', object: { ...prev, metadata: { ...prev.metadata, resourceVersion: String(++this.#rv) } } });
  }

  #emit(plural: Plural, e: WatchEvent): void {
    for (const w of this.#watchers.get(plural) ?? []) w(e);
  }

  source(plural: Plural): ListWatchSource<RawObject> {
    return {
      resource: `${plural}.netboot.dev`,
      list: async () => ({ items: [...(this.#objects.get(plural)?.values() ?? [])], resourceVersion: String(this.#rv) }),
      watch: (_rv, onEvent, signal) => new Promise<void>((resolve) => {
        const set = this.#watchers.get(plural);
        set?.add(onEvent);
        signal.addEventListener('abort', () => { set?.delete(onEvent); resolve(); }, { once: true });
      }),
    };
  }

  sources(): KubeStoreSources {
    return { networks: this.source('bootnetworks'), profiles: this.source('bootprofiles'), classes: this.source('machineclasses'), machines: this.source('bootmachines') };
  }
}

/** A KubeStoreApi over a FakeNamespace that records every call. */
export class FakeApi implements KubeStoreApi {
  readonly ns: FakeNamespace;
  /** Every status write attempted, in order, with whether it succeeded. */
  readonly statusWrites: { name: string; boot: BootStatus; ok: boolean }[] = [];
  readonly creates: { name: string; ok: boolean }[] = [];
  readonly reports: (AgentReport | undefined)[] = [];
  /** While set, every call fails with this. */
  failWith: (() => Error) | undefined;
  /** Fails status writes only, with this. */
  statusFailWith: (() => Error) | undefined;

  constructor(ns: FakeNamespace) {
    this.ns = ns;
  }

  async applyBootStatus(_namespace: string, name: string, boot: BootStatus): Promise<{ resourceVersion?: string }> {
    await Promise.resolve();
    const fail = this.failWith ?? this.statusFailWith;
    if (fail !== undefined) { this.statusWrites.push({ name, boot, ok: false }); throw fail(); }
    const prev = this.ns.get('bootmachines', name);
    if (prev === undefined) { this.statusWrites.push({ name, boot, ok: false }); throw httpError(404, `bootmachines "${name}" not found`); }
    this.statusWrites.push({ name, boot, ok: true });
    return { resourceVersion: this.ns.setStatus('bootmachines', name, { ...prev.status, boot }) };
  }

  async createMachine(machine: BootMachine): Promise<'created' | 'exists'> {
    await Promise.resolve();
    const name = machine.metadata.name;
    if (this.failWith !== undefined) { this.creates.push({ name, ok: false }); throw this.failWith(); }
    this.creates.push({ name, ok: true });
    if (this.ns.get('bootmachines', name) !== undefined) return 'exists';
    this.ns.put('bootmachines', name, machine.spec, machine.metadata.labels === undefined ? {} : { labels: machine.metadata.labels });
    return 'created';
  }

  async applyAgentReport(_namespace: string, network: string, node: string, report: AgentReport | undefined): Promise<void> {
    await Promise.resolve();
    if (this.failWith !== undefined) throw this.failWith();
    this.reports.push(report);
    const net = this.ns.get('bootnetworks', network);
    const others = ((net?.status?.['agentReports'] ?? []) as AgentReport[]).filter((r) => r.node !== node);
    this.ns.setStatus('bootnetworks', network, { ...net?.status, agentReports: report === undefined ? others : [...others, report] });
  }
}

/** A logger whose JSON lines are kept for assertions. */
export function captureLogger(): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = { write: (line: string) => { lines.push(JSON.parse(line) as Record<string, unknown>); } };
  return { log: pino({ level: 'debug' }, stream), lines };
}
