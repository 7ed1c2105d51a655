/**
 * Stale entries in BootNetwork status.agentReports. An agent removes its own
 * entry when it stops, but an agent whose node vanished (deleted,
 * reinstalled, powered off for good) never does, and its entry would hold
 * PlanServed, and so Ready, False from the next plan change on, forever.
 *
 * The controller removes an entry when no pod of the network's agent
 * DaemonSet is on that node (in any phase: a pending or crashing agent keeps
 * its entry) and the entry has not been updated for STALE_AFTER_MS, since a
 * new agent's first entry may reach the controller before its pod does. It
 * only looks (one pod list, at most every POD_CHECK_INTERVAL_MS per network)
 * when something is off: an entry behind the published plan generation, or
 * more entries than the DaemonSet schedules agents. The removal is a JSON
 * patch that tests each entry's node first, so it never removes an entry
 * that moved meanwhile; an agent whose entry disappears writes it again
 * (src/store/kube.ts).
 */
import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { GROUP, VERSION } from '../api/v1alpha1/index.ts';
import type { BootNetwork } from '../api/v1alpha1/bootnetwork.ts';
import { Errors } from '../errors.ts';
import { kubeError } from '../kube/kube.ts';

export const STALE_AFTER_MS = 120_000;
export const POD_CHECK_INTERVAL_MS = 30_000;

type Report = NonNullable<NonNullable<BootNetwork['status']>['agentReports']>[number];

/** One entry to remove: its index in the list as read, and the node it must still name. */
export interface StaleEntry {
  readonly index: number;
  readonly node: string;
}

/** What the pruner reads and writes through; `kubeAgentReportsApi` is the real one. */
export interface AgentReportsApi {
  /** Nodes that have a pod matching `labelSelector` in `namespace` (scheduled, any phase). */
  agentNodes(namespace: string, labelSelector: string): Promise<ReadonlySet<string>>;
  /** Removes the entries (test-and-remove, one JSON patch of the status subresource). */
  removeEntries(namespace: string, network: string, entries: readonly StaleEntry[]): Promise<void>;
}

/** Pure: whether the reports warrant a look at the pods. */
export function reportsLookOff(reports: readonly Report[], publishedGeneration: number | undefined, scheduled: number | undefined): boolean {
  if (reports.length === 0) return false;
  if (scheduled !== undefined && reports.length > scheduled) return true;
  return publishedGeneration !== undefined && reports.some((r) => r.planGeneration !== publishedGeneration);
}

/** Pure: the entries of nodes without an agent pod that are old enough to go, and when the youngest of the others will be. */
export function staleEntries(reports: readonly Report[], agentNodes: ReadonlySet<string>, now: number, staleAfterMs = STALE_AFTER_MS): { stale: StaleEntry[]; recheckInMs?: number } {
  const stale: StaleEntry[] = [];
  let recheckInMs: number | undefined;
  reports.forEach((r, index) => {
    if (agentNodes.has(r.node)) return;
    const updated = Date.parse(r.updatedAt);
    const age = Number.isNaN(updated) ? Infinity : now - updated;
    if (age >= staleAfterMs) stale.push({ index, node: r.node });
    else recheckInMs = Math.min(recheckInMs ?? Infinity, staleAfterMs - age);
  });
  return { stale, ...(recheckInMs === undefined ? {} : { recheckInMs }) };
}

/** Per-network rate limit and the pod check; one per controller. */
export class StaleReportPruner {
  readonly #api: AgentReportsApi;
  readonly #onError: (err: unknown) => void;
  readonly #lastCheck = new Map<string, number>();

  /** `onError` hears a failed list or removal; the network is looked at again after POD_CHECK_INTERVAL_MS, its reconcile does not fail. */
  constructor(api: AgentReportsApi, onError: (err: unknown) => void) {
    this.#api = api;
    this.#onError = onError;
  }

  /**
   * Looks at the network's reports and removes stale entries. Returns when
   * to look again (ms), or undefined when nothing is pending. `selector` is
   * the agent pods' label selector.
   */
  async prune(network: BootNetwork, selector: string, scheduled: number | undefined, now: number): Promise<{ removed: StaleEntry[]; recheckInMs?: number }> {
    const reports = network.status?.agentReports ?? [];
    const namespace = network.metadata.namespace ?? 'default';
    const key = `${namespace}/${network.metadata.name}`;
    if (!reportsLookOff(reports, network.status?.planGeneration, scheduled)) {
      this.#lastCheck.delete(key);
      return { removed: [] };
    }
    const last = this.#lastCheck.get(key);
    if (last !== undefined && now - last < POD_CHECK_INTERVAL_MS) return { removed: [], recheckInMs: POD_CHECK_INTERVAL_MS - (now - last) };
    this.#lastCheck.set(key, now);
    let nodes: ReadonlySet<string>;
    try {
      nodes = await this.#api.agentNodes(namespace, selector);
    } catch (err) {
      this.#onError(err);
      return { removed: [], recheckInMs: POD_CHECK_INTERVAL_MS };
    }
    const { stale, recheckInMs } = staleEntries(reports, nodes, now);
    if (stale.length > 0) {
      try {
        await this.#api.removeEntries(namespace, network.metadata.name, stale);
      } catch (err) {
        // A failed test (an entry moved meanwhile) lands here too; the entry's own event reconciles the network again.
        this.#onError(err);
        return { removed: [], recheckInMs: POD_CHECK_INTERVAL_MS };
      }
    }
    return { removed: stale, ...(recheckInMs === undefined ? {} : { recheckInMs: Math.max(recheckInMs, POD_CHECK_INTERVAL_MS) }) };
  }

  /** Forgets a deleted network. */
  forget(key: string): void {
    this.#lastCheck.delete(key);
  }
}

/** The JSON patch removing `entries`, highest index first so the indices stay valid, each after a test of its node. */
export function removalPatch(entries: readonly StaleEntry[]): object[] {
  const ops: object[] = [];
  for (const e of [...entries].sort((a, b) => b.index - a.index)) {
    ops.push({ op: 'test', path: `/status/agentReports/${e.index}/node`, value: e.node });
    ops.push({ op: 'remove', path: `/status/agentReports/${e.index}` });
  }
  return ops;
}

/** The API server's: a pod list (RBAC: list pods) and a JSON patch of the status subresource. */
export function kubeAgentReportsApi(kc: KubeConfig): AgentReportsApi {
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  return {
    async agentNodes(namespace, labelSelector) {
      try {
        const pods = await core.listNamespacedPod({ namespace, labelSelector });
        const nodes = new Set<string>();
        for (const p of pods.items) if (p.spec?.nodeName !== undefined && p.spec.nodeName !== '') nodes.add(p.spec.nodeName);
        return nodes;
      } catch (err) {
        throw kubeError(Errors.StaleReportsCheckFailed, `list of agent pods in ${namespace} (${labelSelector}) to find stale status.agentReports entries`, err);
      }
    },
    async removeEntries(namespace, network, entries) {
      try {
        await custom.patchNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace, plural: 'bootnetworks', name: network, body: removalPatch(entries) }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
      } catch (err) {
        throw kubeError(Errors.StaleReportsCheckFailed, `removing stale status.agentReports entries (${entries.map((e) => e.node).join(', ')}) of BootNetwork ${namespace}/${network}`, err);
      }
    },
  };
}
