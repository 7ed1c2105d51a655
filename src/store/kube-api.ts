/**
 * The kube store's edge: the three writes an agent makes and the
 * collections it watches. Behind one small interface so unit tests count
 * calls with a fake; test/kube/agent-store.test.ts drives the real one
 * against a real API server.
 *
 * Calls reject with client-node's own errors; the store classifies them
 * (statusCodeOf) and turns them into catalogue errors for the log.
 */
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import type { BootMachine } from '../api/v1alpha1/bootmachine.ts';
import { API_VERSION, GROUP, VERSION } from '../api/v1alpha1/index.ts';
import type { BootStatus } from '../boot/status.ts';
import { customObjectPatchApi, customObjectSource, statusCodeOf } from '../kube/index.ts';
import type { KubeObject, ListWatchSource } from '../kube/index.ts';

/** The field manager of status.boot on every BootMachine (all agents share it). */
export const BOOT_STATUS_MANAGER = 'netboot-agent';

/** One agent's entry in BootNetwork status.agentReports. */
export interface AgentReport {
  readonly node: string;
  readonly planDigest: string;
  readonly planGeneration?: number;
  readonly ready: boolean;
  readonly message?: string;
  readonly counters?: Readonly<Record<string, number>>;
  readonly dhcp?: 'serving' | 'standby';
  readonly updatedAt: string;
}

/** The writes of one agent. */
export interface KubeStoreApi {
  /** Server-side apply of `{status: {boot}}` on the status subresource as netboot-agent; resolves the new resourceVersion. */
  applyBootStatus(namespace: string, name: string, boot: BootStatus): Promise<{ resourceVersion?: string }>;
  /** Creates a BootMachine; 'exists' on 409 AlreadyExists. */
  createMachine(machine: BootMachine): Promise<'created' | 'exists'>;
  /** Applies this node's agentReports entry as netboot-agent-<node>; `undefined` removes it. */
  applyAgentReport(namespace: string, network: string, node: string, report: AgentReport | undefined): Promise<void>;
}

/** A raw object as an informer holds it. */
export type RawObject = KubeObject & {
  readonly metadata?: KubeObject['metadata'] & { readonly labels?: Readonly<Record<string, string>> };
  readonly spec?: unknown;
  readonly status?: Record<string, unknown>;
};

/** The namespace-scoped collections one agent watches. */
export interface KubeStoreSources {
  readonly networks: ListWatchSource<RawObject>;
  readonly profiles: ListWatchSource<RawObject>;
  readonly classes: ListWatchSource<RawObject>;
  readonly machines: ListWatchSource<RawObject>;
  /**
   * AmtNetworkPolicies, for their remediation block only (short leases in
   * mode dhcp; never their certificate Secrets). Optional and not waited
   * for: an agent without read access to them serves without short leases.
   */
  readonly amtPolicies?: ListWatchSource<RawObject>;
}

/**
 * The field manager of a node's agentReports entry. The API server allows
 * 128 characters; a node name may have 253, so long ones are shortened with
 * a hash that keeps them distinct.
 */
export function agentReportManager(node: string): string {
  const manager = `netboot-agent-${node}`;
  if (manager.length <= 128) return manager;
  return `${manager.slice(0, 110)}-${createHash('sha256').update(node).digest('hex').slice(0, 16)}`;
}

/** Sources for `namespace` through `kc`. */
export function kubeStoreSources(kc: KubeConfig, namespace: string): KubeStoreSources {
  const ref = (plural: string) => ({ group: GROUP, version: VERSION, plural, namespace });
  return {
    networks: customObjectSource<RawObject>(kc, ref('bootnetworks')),
    profiles: customObjectSource<RawObject>(kc, ref('bootprofiles')),
    classes: customObjectSource<RawObject>(kc, ref('machineclasses')),
    machines: customObjectSource<RawObject>(kc, ref('bootmachines')),
    amtPolicies: customObjectSource<RawObject>(kc, ref('amtnetworkpolicies')),
  };
}

/** The real API calls through `kc`. */
export function kubeStoreApi(kc: KubeConfig): KubeStoreApi {
  const api = kc.makeApiClient(CustomObjectsApi);
  // Status applies through the lean path (src/kube/request.ts); creates stay on client-node.
  const patch = customObjectPatchApi(kc);
  const apply = () => setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
  return {
    async applyBootStatus(namespace, name, boot) {
      const body = { apiVersion: API_VERSION, kind: 'BootMachine', metadata: { name, namespace }, status: { boot } };
      const res = await patch.patchNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace, plural: 'bootmachines', name, body, fieldManager: BOOT_STATUS_MANAGER, force: true }, apply()) as RawObject;
      const resourceVersion = res.metadata?.resourceVersion;
      return resourceVersion === undefined ? {} : { resourceVersion };
    },
    async createMachine(machine) {
      try {
        await api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: machine.metadata.namespace ?? 'default', plural: 'bootmachines', body: machine });
        return 'created';
      } catch (err) {
        if (statusCodeOf(err) === 409) return 'exists';
        throw err;
      }
    },
    async applyAgentReport(namespace, network, node, report) {
      // A list-map keyed by node: applying an empty list under this node's own
      // manager removes exactly the entry that manager owned, nobody else's.
      const body = { apiVersion: API_VERSION, kind: 'BootNetwork', metadata: { name: network, namespace }, status: { agentReports: report === undefined ? [] : [report] } };
      await patch.patchNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace, plural: 'bootnetworks', name: network, body, fieldManager: agentReportManager(node), force: true }, apply());
    },
  };
}
