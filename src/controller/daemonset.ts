/**
 * The agent DaemonSet of one BootNetwork, rendered as a pure function of the
 * network and the controller's options. The controller applies it with
 * server-side apply; deleting the network deletes it through the owner
 * reference.
 */
import { createHash } from 'node:crypto';
import type { V1Container, V1DaemonSet, V1ResourceRequirements, V1SecurityContext, V1Toleration } from '@kubernetes/client-node';
import type { BootNetwork } from '../api/v1alpha1/bootnetwork.ts';
import { API_VERSION } from '../api/v1alpha1/index.ts';

/** How agent pods run; from the controller's command line. */
export interface AgentPodOptions {
  readonly image: string;
  readonly imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  readonly serviceAccountName: string;
  /** Replaces the default requests (cpu 50m, memory 128Mi) and limit (memory 512Mi) as a whole. */
  readonly resources?: V1ResourceRequirements;
  /**
   * Node directory under which each network keeps its state
   * (`<stateHostPath>/<namespace>_<network>`, mounted at /var/lib/netboot),
   * so DHCP leases survive pod restarts. Default /var/lib/netboot.
   */
  readonly stateHostPath?: string;
  readonly priorityClassName?: string;
}

/** Where the agent keeps its state inside the pod (the agent's --state). */
export const AGENT_STATE_DIR = '/var/lib/netboot';
/** UID and GID the agent runs as (the image's USER). */
export const AGENT_UID = 65532;
/** Kubernetes name and label value limit. */
const MAX_NAME = 63;

export const DEFAULT_AGENT_RESOURCES: V1ResourceRequirements = {
  requests: { cpu: '50m', memory: '128Mi' },
  limits: { memory: '512Mi' },
};

/**
 * V8 heap bounds for the agent container (NODE_OPTIONS). Node sizes its heap
 * from the host's memory, not the container's limit, so without them an
 * agent caching 10,000 BootMachines grew past 450 MiB of RSS (bench:controller)
 * and a 256Mi limit would have OOM-killed it. The old generation gets about
 * 60 % of the default 512Mi limit, the young generation 2 × 16 MiB; the rest
 * is the node binary and off-heap buffers (TFTP block cache, sockets).
 */
export const AGENT_NODE_OPTIONS = '--max-old-space-size=320 --max-semi-space-size=16';

/**
 * `value` if it fits in `max` characters, else a prefix and 8 hex digits of
 * its SHA-256, so two long names never collapse into one. The prefix loses
 * trailing dashes and dots: names and label values must end alphanumeric.
 */
export function shortenName(value: string, max = MAX_NAME): string {
  if (value.length <= max) return value;
  const hash = createHash('sha256').update(value).digest('hex').slice(0, 8);
  return `${value.slice(0, max - hash.length - 1).replace(/[-.]+$/, '')}-${hash}`;
}

/** The DaemonSet's name: netboot-agent-<network>, shortened with a hash suffix past 63 characters. */
export function agentDaemonSetName(network: string): string {
  return shortenName(`netboot-agent-${network}`);
}

/** The labels of the DaemonSet and its pods. Label values are limited to 63 characters too. */
export function agentLabels(network: string): Record<string, string> {
  const instance = shortenName(network);
  return {
    'app.kubernetes.io/name': 'netboot-agent',
    'app.kubernetes.io/instance': instance,
    'app.kubernetes.io/managed-by': 'netboot-operator',
    'app.kubernetes.io/component': 'agent',
    'netboot.dev/network': instance,
  };
}

/** The agent pods' label selector as a string, for a list request. */
export function agentPodSelector(network: string): string {
  return Object.entries(agentSelector(network)).map(([k, v]) => `${k}=${v}`).join(',');
}

/** The selector: immutable once the DaemonSet exists, so only labels that never change. */
export function agentSelector(network: string): Record<string, string> {
  const labels = agentLabels(network);
  return { 'app.kubernetes.io/name': labels['app.kubernetes.io/name'] as string, 'app.kubernetes.io/instance': labels['app.kubernetes.io/instance'] as string };
}

const AGENT_SECURITY: V1SecurityContext = {
  // Kubernetes grants no ambient capabilities (KEP-2763 is not implemented),
  // so a non-root process can only hold NET_BIND_SERVICE through a file
  // capability on the node binary in the image (setcap). no_new_privs, which
  // is what allowPrivilegeEscalation: false sets, makes execve ignore file
  // capabilities, and the agent could not bind UDP 67, 69 and 4011. The
  // bounding set below still allows NET_BIND_SERVICE and nothing else.
  allowPrivilegeEscalation: true,
  capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  runAsUser: AGENT_UID,
  runAsGroup: AGENT_UID,
  seccompProfile: { type: 'RuntimeDefault' },
};

/**
 * kubelet creates a hostPath directory owned by root (DirectoryOrCreate), and
 * fsGroup does not apply to hostPath, so the agent (uid 65532) could not
 * write its leases. This init container hands the directory to the agent;
 * it is the only step that runs as root, with CAP_CHOWN alone.
 */
function stateOwner(image: string, pullPolicy: AgentPodOptions['imagePullPolicy']): V1Container {
  return {
    name: 'state-owner',
    image,
    ...(pullPolicy === undefined ? {} : { imagePullPolicy: pullPolicy }),
    command: ['chown', `${AGENT_UID}:${AGENT_UID}`, AGENT_STATE_DIR],
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'], add: ['CHOWN'] },
      readOnlyRootFilesystem: true,
      runAsNonRoot: false,
      runAsUser: 0,
      runAsGroup: 0,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '32Mi' } },
    volumeMounts: [{ name: 'state', mountPath: AGENT_STATE_DIR }],
  };
}

/**
 * The agent DaemonSet for `network`: host network (DHCP broadcasts and the
 * 4011 exchange must reach the node's interface), the network's node
 * selector and tolerations, least privilege (NET_BIND_SERVICE only),
 * probes on the network's HTTP port, and an owner reference to the network.
 * The owner reference needs metadata.uid; a network without one (never the
 * case for an object read from the API) gets none.
 */
export function renderAgentDaemonSet(network: BootNetwork, options: AgentPodOptions): V1DaemonSet {
  const name = network.metadata.name;
  const namespace = network.metadata.namespace ?? 'default';
  const labels = agentLabels(name);
  const httpPort = network.spec.ports.http;
  const uid = network.metadata.uid;
  const pullPolicy = options.imagePullPolicy;
  const hostDir = `${(options.stateHostPath ?? AGENT_STATE_DIR).replace(/\/+$/, '')}/${namespace}_${name}`;
  const agent: V1Container = {
    name: 'agent',
    image: options.image,
    ...(pullPolicy === undefined ? {} : { imagePullPolicy: pullPolicy }),
    args: ['agent', '--network', name, '--namespace', namespace, '--node', '$(NODE_NAME)', '--state', AGENT_STATE_DIR],
    env: [
      { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
      { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
      { name: 'NODE_OPTIONS', value: AGENT_NODE_OPTIONS },
    ],
    // Only the HTTP port is declared. UDP 67/69/4011 are left out on purpose:
    // a declared port becomes a hostPort under hostNetwork, and the scheduler
    // would then refuse a second network's agent on the same node even when
    // the two serve different interfaces.
    ports: [{ name: 'http', containerPort: httpPort, protocol: 'TCP' }],
    // /readyz answers 200 only when every UDP listener is bound and a plan is loaded.
    readinessProbe: { httpGet: { path: '/readyz', port: httpPort }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 3 },
    livenessProbe: { httpGet: { path: '/healthz', port: httpPort }, initialDelaySeconds: 10, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
    // Copies: callers (and client-node's serializer) may touch the result.
    resources: structuredClone(options.resources ?? DEFAULT_AGENT_RESOURCES),
    securityContext: structuredClone(AGENT_SECURITY),
    volumeMounts: [
      { name: 'state', mountPath: AGENT_STATE_DIR },
      { name: 'tmp', mountPath: '/tmp' },
    ],
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {
      name: agentDaemonSetName(name),
      namespace,
      labels,
      ...(uid === undefined ? {} : {
        ownerReferences: [{ apiVersion: API_VERSION, kind: 'BootNetwork', name, uid, controller: true, blockOwnerDeletion: true }],
      }),
    },
    spec: {
      selector: { matchLabels: agentSelector(name) },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
      template: {
        metadata: { labels },
        spec: {
          hostNetwork: true,
          // With hostNetwork the default policy would use the node's resolv.conf;
          // the agent must reach the API server by its cluster DNS name.
          dnsPolicy: 'ClusterFirstWithHostNet',
          serviceAccountName: options.serviceAccountName,
          automountServiceAccountToken: true,
          ...(options.priorityClassName === undefined ? {} : { priorityClassName: options.priorityClassName }),
          terminationGracePeriodSeconds: 30,
          nodeSelector: { 'kubernetes.io/os': 'linux', ...network.spec.nodeSelector },
          ...(network.spec.tolerations === undefined ? {} : { tolerations: network.spec.tolerations.map((t) => ({ ...t }) as V1Toleration) }),
          securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
          initContainers: [stateOwner(options.image, pullPolicy)],
          containers: [agent],
          volumes: [
            { name: 'state', hostPath: { path: hostDir, type: 'DirectoryOrCreate' } },
            { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
          ],
        },
      },
    },
  };
}
