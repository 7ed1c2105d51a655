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
  readonly tftpActive: Gauge;
}

export function createAgentMetrics(registry = new Registry()): AgentMetrics {
  collectDefaultMetrics({ register: registry, prefix: 'netboot_agent_' });
  return {
    registry,
    dhcpPackets: new Counter({ name: 'netboot_dhcp_packets_total', help: 'DHCP packets received, by port, message type and result (answered, ignored, malformed).', labelNames: ['port', 'type', 'result'], registers: [registry] }),
    tftpTransfers: new Counter({ name: 'netboot_tftp_transfers_total', help: 'TFTP transfers finished, by result.', labelNames: ['result'], registers: [registry] }),
    tftpBytes: new Counter({ name: 'netboot_tftp_bytes_total', help: 'TFTP payload bytes sent.', registers: [registry] }),
    httpRequests: new Counter({ name: 'netboot_http_requests_total', help: 'HTTP requests, by route and status code.', labelNames: ['route', 'code'], registers: [registry] }),
    boots: new Counter({ name: 'netboot_boot_events_total', help: 'Boot events recorded, by phase reached.', labelNames: ['phase'], registers: [registry] }),
    planGeneration: new Gauge({ name: 'netboot_plan_generation', help: 'Generation of the boot plan this agent serves.', registers: [registry] }),
    tftpActive: new Gauge({ name: 'netboot_tftp_active_transfers', help: 'TFTP transfers in progress.', registers: [registry] }),
  };
}
