/**
 * Prometheus metrics of the agent (prom-client). One registry per process,
 * passed in, so tests can read a fresh one.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export interface AgentMetrics {
  readonly registry: Registry;
  readonly dhcpPackets: Counter<'port' | 'type' | 'result'>;
  readonly tftpTransfers: Counter<'result'>;
  readonly tftpBytes: Counter;
  readonly httpRequests: Counter<'route' | 'code'>;
  readonly boots: Counter<'phase'>;
  readonly planGeneration: Gauge;
  /** Cluster mode: one series, labelled with the served plan's digest, valued with its generation. */
  readonly planInfo: Gauge<'digest'>;
  readonly tftpActive: Gauge;
}

export function createAgentMetrics(registry = new Registry()): AgentMetrics {
  collectDefaultMetrics({ register: registry, prefix: 'netboot_agent_' });
  return {
    registry,
    dhcpPackets: new Counter({ name: 'netboot_dhcp_packets_total', help: 'DHCP packets received, by port, message type and result (answered, ignored, malformed, unsafe, standby).', labelNames: ['port', 'type', 'result'], registers: [registry] }),
    tftpTransfers: new Counter({ name: 'netboot_tftp_transfers_total', help: 'TFTP transfers finished, by result.', labelNames: ['result'], registers: [registry] }),
    tftpBytes: new Counter({ name: 'netboot_tftp_bytes_total', help: 'TFTP payload bytes sent.', registers: [registry] }),
    httpRequests: new Counter({ name: 'netboot_http_requests_total', help: 'HTTP requests, by route and status code.', labelNames: ['route', 'code'], registers: [registry] }),
    boots: new Counter({ name: 'netboot_boot_events_total', help: 'Boot events recorded, by phase reached.', labelNames: ['phase'], registers: [registry] }),
    planGeneration: new Gauge({ name: 'netboot_plan_generation', help: 'Generation of the boot plan this agent serves.', registers: [registry] }),
    planInfo: new Gauge({ name: 'netboot_plan_info', help: 'The boot plan this agent serves: label digest is its planDigest, the value its generation.', labelNames: ['digest'], registers: [registry] }),
    tftpActive: new Gauge({ name: 'netboot_tftp_active_transfers', help: 'TFTP transfers in progress.', registers: [registry] }),
  };
}

/** Records the served plan: the generation gauge and the digest-labelled info series (only the current one). */
export function setServedPlan(metrics: AgentMetrics, generation: number, digest: string): void {
  metrics.planGeneration.set(generation);
  metrics.planInfo.reset();
  metrics.planInfo.set({ digest }, generation);
}

async function sum(metric: Counter<string>, match: (labels: Partial<Record<string, string | number>>) => boolean): Promise<number> {
  const { values } = await metric.get();
  return values.filter((v) => match(v.labels)).reduce((n, v) => n + v.value, 0);
}

/**
 * The counters an agent reports in BootNetwork status.agentReports: offers
 * (DISCOVERs answered), acks (REQUESTs answered), completed TFTP transfers
 * and iPXE scripts served, since the process started.
 */
export async function agentCounters(metrics: AgentMetrics): Promise<Record<string, number>> {
  return {
    offers: await sum(metrics.dhcpPackets, (l) => l['type'] === 'discover' && l['result'] === 'answered'),
    acks: await sum(metrics.dhcpPackets, (l) => l['type'] === 'request' && l['result'] === 'answered'),
    tftpTransfers: await sum(metrics.tftpTransfers, (l) => l['result'] === 'Complete'),
    scriptsServed: await sum(metrics.boots, () => true),
  };
}
