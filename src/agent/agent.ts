/**
 * One boot agent: the DHCP/ProxyDHCP listeners, TFTP and HTTP for one
 * BootNetwork on one host. Everything it needs comes in through `AgentDeps`;
 * `src/cli/` decides where the store lives and which clock runs.
 */
import type { Server } from 'node:http';
import { timestampOf } from '../boot/status.ts';
import type { Logger } from '../observability/logger.ts';
import type { AgentMetrics } from '../observability/metrics.ts';
import type { BootStore } from '../store/store.ts';
import { startDhcp } from './dhcp.ts';
import type { DhcpListeners } from './dhcp.ts';
import { startAmtServices } from './amt-agent.ts';
import type { AmtPorts, AmtProberTuning, AmtServices } from './amt-agent.ts';
import { AmtMachineBook } from './amt-machines.ts';
import { AUTOEXEC_NAME, autoexecFile } from './autoexec.ts';
import { BUILTIN_IPXE_DIR, BootFiles } from './files.ts';
import { createHttpServer } from './http.ts';
import type { ServingInterface } from './interfaces.ts';
import { neighborMac } from './neighbors.ts';
import { createTftpServer } from './tftp.ts';

export interface AgentDeps {
  readonly store: BootStore;
  readonly iface: ServingInterface;
  readonly ports: { readonly dhcp: number; readonly pxe: number; readonly tftp: number; readonly http: number };
  /** Extra files served over TFTP and HTTP before the built-in iPXE builds. */
  readonly fileRoot?: string;
  readonly node: string;
  readonly log: Logger;
  readonly metrics: AgentMetrics;
  readonly now: () => number;
  readonly maxTftpTransfers?: number;
  /** AMT probe, Hello and DHCP-client ports (default AMT_PORTS: 623, 16992, 16993, 9971, 68); a dry run shifts them. */
  readonly amtPorts?: Partial<AmtPorts>;
  /** Test seams of the AMT prober (transport, timeouts, limits). */
  readonly amtProber?: AmtProberTuning;
}

export interface RunningAgent {
  /** True once every listener is bound. */
  ready(): boolean;
  stop(): Promise<void>;
}

/** Binds every listener; rejects (and closes what it opened) if one cannot bind. */
export async function startAgent(deps: AgentDeps): Promise<RunningAgent> {
  const files = new BootFiles(deps.fileRoot === undefined ? [BUILTIN_IPXE_DIR] : [deps.fileRoot, BUILTIN_IPXE_DIR]);
  const macByAddress = new Map<string, string>();
  const amtBook = new AmtMachineBook();
  let amt: AmtServices | undefined;
  const rememberClient = (address: string, mac: string) => {
    const fresh = macByAddress.get(address) !== mac;
    macByAddress.delete(address);
    macByAddress.set(address, mac);
    if (macByAddress.size > 10_000) macByAddress.delete(macByAddress.keys().next().value ?? '');
    if (fresh) amt?.seenAddress(address);
  };
  // A client address never seen in DHCP: the kernel's neighbour table may know its MAC (neighbors.ts); not on loopback.
  const macOf = (address: string): string | undefined => {
    const known = macByAddress.get(address);
    if (known !== undefined || deps.iface.address === '127.0.0.1') return known;
    const mac = neighborMac(address, deps.iface.name);
    if (mac !== undefined) {
      deps.log.debug({ address, mac }, 'client MAC from the neighbour table');
      rememberClient(address, mac);
    }
    return mac;
  };
  let ready = false;
  let dhcp: DhcpListeners | undefined;
  let http: Server | undefined;
  let tftp: Awaited<ReturnType<typeof createTftpServer>> | undefined;
  const stop = async () => {
    ready = false;
    await Promise.allSettled([dhcp?.close(), tftp?.close(), amt?.stop(), new Promise<void>((r) => (http === undefined ? r() : http.close(() => r())))]);
    await deps.store.flush();
  };
  try {
    deps.metrics.planGeneration.set(deps.store.plan().generation);
    deps.store.onPlan((plan) => deps.metrics.planGeneration.set(plan.generation));
    dhcp = await startDhcp({ ...deps, ports: deps.ports, onClientAddress: rememberClient, amtBook });
    tftp = createTftpServer({
      files, address: deps.iface.address, port: deps.ports.tftp, maxTransfers: deps.maxTftpTransfers ?? 64,
      metrics: deps.metrics, log: deps.log,
      generated: new Map([[AUTOEXEC_NAME, autoexecFile(() => deps.iface.serverAddress, deps.ports.http, macOf)]]),
      onTransfer: (t) => {
        const mac = macOf(t.client);
        if (mac === undefined) return;
        deps.store.report({
          mac, network: deps.store.plan().networkName, node: deps.node, time: timestampOf(new Date(deps.now())),
          event: t.ok ? 'TftpCompleted' : 'TftpFailed', detail: `${t.file} ${t.bytes} bytes${t.ok ? '' : `: ${t.reason}`}`,
          ...(t.ok ? { phase: 'LoaderDownloaded' as const } : {}),
        });
      },
    });
    await tftp.listening;
    const server = createHttpServer({ store: deps.store, files, metrics: deps.metrics, log: deps.log, node: deps.node, serverAddress: () => deps.iface.serverAddress, port: deps.ports.http, ready: () => ready, now: () => new Date(deps.now()) });
    http = server;
    await new Promise<void>((res, rej) => { server.once('error', rej); server.listen(deps.ports.http, deps.iface.address === '127.0.0.1' ? '127.0.0.1' : '0.0.0.0', () => { server.off('error', rej); res(); }); });
    // AMT facts are optional: what cannot bind is logged inside, and boot service goes on.
    amt = await startAmtServices({
      store: deps.store, iface: deps.iface, node: deps.node, log: deps.log, now: deps.now, seen: () => macByAddress, book: amtBook, onClientAddress: rememberClient,
      ...(deps.amtPorts === undefined ? {} : { ports: deps.amtPorts }), ...(deps.amtProber === undefined ? {} : { prober: deps.amtProber }),
    });
    ready = true;
    deps.log.info({ interface: deps.iface.name, address: deps.iface.address, serverAddress: deps.iface.serverAddress, ports: deps.ports, mode: deps.store.plan().network.mode }, 'agent ready');
  } catch (err) {
    await stop();
    throw err;
  }
  return { ready: () => ready, stop };
}
