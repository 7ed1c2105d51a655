/**
 * The agent's Intel AMT services, wired to the store: the prober (RMCP,
 * HTTP banner, ICMP TTL) for machines whose MachineClass names an
 * amtPolicy, the PKI Hello listener, and in proxy modes the passive
 * listener for the site DHCP server's replies. Each answer becomes an
 * observation in status.boot.amt; the controller derives status.amt.
 *
 * They run while some class of the plan names an amtPolicy (BootNetwork has
 * no AMT switch of its own), starting and stopping as plans change. None of
 * them is needed to boot machines: a port that cannot be bound is logged and
 * the agent serves on.
 */
import type { BootPlan } from '../boot/plan.ts';
import { timestampOf } from '../boot/status.ts';
import type { AmtProbeFact } from '../boot/amt-observation.ts';
import { UUID_RE } from '../api/v1alpha1/fields.ts';
import { AMT_HTTP_PORT, AMT_HTTPS_PORT, RMCP_PORT } from '../amt/probe/rmcp.ts';
import { Errors } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { BootStore } from '../store/store.ts';
import { HELLO_PORT, startHelloListener } from './amt-hello.ts';
import type { AmtHelloEvent, HelloListener } from './amt-hello.ts';
import type { AmtMachineBook } from './amt-machines.ts';
import { startAmtProber } from './amt-prober.ts';
import type { AmtProbeEvent, AmtProber, AmtProberDeps } from './amt-prober.ts';
import type { ServingInterface } from './interfaces.ts';
import { DHCP_CLIENT_PORT, startSiteDhcpListener } from './site-dhcp.ts';
import type { SiteDhcpListener } from './site-dhcp.ts';

/** The ports of the AMT services: where AMT answers probes, where Hellos arrive, where DHCP replies go. */
export interface AmtPorts {
  readonly rmcp: number;
  readonly http: number;
  readonly https: number;
  readonly hello: number;
  readonly dhcpClient: number;
}

/** The real ports: RMCP 623, AMT web 16992/16993, PKI Hello 9971, DHCP client 68. */
export const AMT_PORTS: AmtPorts = { rmcp: RMCP_PORT, http: AMT_HTTP_PORT, https: AMT_HTTPS_PORT, hello: HELLO_PORT, dhcpClient: DHCP_CLIENT_PORT };

/** Every AMT port moved by `shift` (a dry run uses +10000, as for the boot ports). */
export function shiftedAmtPorts(shift: number): AmtPorts {
  return { rmcp: AMT_PORTS.rmcp + shift, http: AMT_PORTS.http + shift, https: AMT_PORTS.https + shift, hello: AMT_PORTS.hello + shift, dhcpClient: AMT_PORTS.dhcpClient + shift };
}

/** Test seams of the prober (the real transport, schedule and clock by default). */
export type AmtProberTuning = Partial<Pick<AmtProberDeps, 'transport' | 'timeouts' | 'limits' | 'scanIntervalMs' | 'clock'>>;

export interface AmtServiceDeps {
  readonly store: BootStore;
  readonly iface: ServingInterface;
  readonly node: string;
  readonly log: Logger;
  readonly now: () => number;
  /** Address -> MAC of the machines the agent has seen on its segment. */
  readonly seen: () => ReadonlyMap<string, string>;
  readonly book: AmtMachineBook;
  readonly ports?: Partial<AmtPorts>;
  readonly prober?: AmtProberTuning;
  /** Told the address an overheard site ACK gave a known machine. */
  readonly onClientAddress: (address: string, mac: string) => void;
}

export interface AmtServices {
  /** A machine was seen at a new address: probe it soon (within the rate limits) if its class has an amtPolicy. */
  seenAddress(address: string): void;
  /** Ports bound now, for logs and tests. */
  bound(): { readonly hello?: number; readonly dhcpClient?: number; readonly probing: boolean };
  stop(): Promise<void>;
}

/** True when some class of the plan names an AmtNetworkPolicy. */
export function amtWanted(plan: BootPlan): boolean {
  return plan.classes.some((c) => c.spec.amtPolicy !== undefined);
}

/** The probe answer as status.boot.amt.probe (values clipped to the schema's limits). */
export function probeFact(e: AmtProbeEvent): AmtProbeFact {
  const t = e.ttlHeuristic;
  return {
    at: timestampOf(new Date(e.at)),
    address: e.address,
    ...(e.versions.httpServerHeader === undefined ? {} : { httpServerHeader: e.versions.httpServerHeader.slice(0, 64) }),
    ...(e.versions.rmcp === undefined ? {} : { rmcp: e.versions.rmcp.slice(0, 64) }),
    provisioningState: e.provisioningState,
    osAnswering: t.verdict === 'amt' ? 'amt-only' : t.verdict,
    ...(t.ttl === undefined ? {} : { ttl: t.ttl }),
  };
}

/** The machine a Hello came from: by source address, else by UUID (spec.uuid, then option 97 seen); undefined if none. */
export function helloMachine(e: AmtHelloEvent, plan: BootPlan, book: AmtMachineBook): string | undefined {
  if (e.mac !== undefined && plan.machines.has(e.mac)) return e.mac;
  const uuid = e.uuid.toLowerCase();
  for (const [mac, m] of plan.machines) if (m.spec.uuid === uuid) return mac;
  const seen = book.macOfUuid(uuid);
  return seen !== undefined && plan.machines.has(seen) ? seen : undefined;
}

/** Starts what the current plan needs and follows plan changes. */
export async function startAmtServices(deps: AmtServiceDeps): Promise<AmtServices> {
  const ports: AmtPorts = { ...AMT_PORTS, ...deps.ports };
  const loopback = deps.iface.address === '127.0.0.1';
  let prober: AmtProber | undefined;
  let hello: HelloListener | undefined;
  let site: SiteDhcpListener | undefined;
  let stopped = false;
  /** Starts and stops run one after the other, so a burst of plans cannot open a port twice. */
  let chain: Promise<void> = Promise.resolve();

  const withPolicy = (): ReadonlyMap<string, string> => {
    const plan = deps.store.plan();
    const out = new Map<string, string>();
    for (const [address, mac] of deps.seen()) if (deps.book.policyOf(plan, mac) !== undefined) out.set(address, mac);
    return out;
  };

  const onAmt = (e: AmtProbeEvent): void => {
    const plan = deps.store.plan();
    if (!plan.machines.has(e.mac)) return;
    deps.store.report({ mac: e.mac, network: plan.networkName, node: deps.node, time: timestampOf(new Date(e.at)), amt: { probe: probeFact(e) } });
  };

  const onHello = (e: AmtHelloEvent): void => {
    const plan = deps.store.plan();
    const mac = helloMachine(e, plan, deps.book);
    if (mac === undefined) {
      deps.log.debug({ code: Errors.AmtHelloUnmatched.code, address: e.address, uuid: e.uuid }, 'AMT Hello from no known machine; not recorded');
      return;
    }
    const uuid = e.uuid.toLowerCase();
    deps.store.report({
      mac, network: plan.networkName, node: deps.node, time: timestampOf(new Date(e.at)),
      amt: { hello: { retryCount: e.retryCount, ...(UUID_RE.test(uuid) ? { uuid } : {}), rootHashes: e.rootHashes.map((h) => h.hex) } },
    });
  };

  const start = async (plan: BootPlan): Promise<void> => {
    prober ??= startAmtProber({
      seen: withPolicy, onAmt, log: deps.log, ...deps.prober,
      ports: { rmcp: ports.rmcp, http: ports.http, https: ports.https },
      ...(deps.prober?.transport === undefined && !loopback ? { bindAddress: deps.iface.address } : {}),
    });
    if (hello === undefined) {
      try {
        hello = await startHelloListener({ onHello, address: loopback ? '127.0.0.1' : '0.0.0.0', port: ports.hello, macOf: (a) => deps.seen().get(a), now: deps.now, log: deps.log });
      } catch (err) {
        deps.log.warn({ code: Errors.AmtHelloListenFailed.code, err: err instanceof Error ? err.message : String(err) }, 'AMT Hellos are not recorded');
      }
    }
    if (site === undefined && plan.network.mode !== 'dhcp') {
      site = await startSiteDhcpListener({ store: deps.store, iface: deps.iface, port: ports.dhcpClient, node: deps.node, log: deps.log, now: deps.now, onClientAddress: deps.onClientAddress });
    }
  };

  const stopAll = async (): Promise<void> => {
    const closing = [prober?.stop(), hello?.close(), site?.close()];
    prober = undefined;
    hello = undefined;
    site = undefined;
    await Promise.allSettled(closing);
  };

  const follow = (plan: BootPlan): void => {
    chain = chain.then(async () => {
      if (stopped) return;
      if (amtWanted(plan)) await start(plan);
      else if (prober !== undefined || hello !== undefined || site !== undefined) {
        deps.log.info({}, 'no MachineClass names an amtPolicy any more: AMT probes and listeners stopped');
        await stopAll();
      }
    }).catch((err: unknown) => deps.log.error({ err }, 'starting the AMT services failed'));
  };

  const unsubscribe = deps.store.onPlan(follow);
  follow(deps.store.plan());
  await chain;

  /** A scan walks every seen address: in a boot storm, new addresses are gathered into one scan a second. */
  let pokeTimer: NodeJS.Timeout | undefined;
  let lastPoke = Number.NEGATIVE_INFINITY;
  const poke = (): void => {
    pokeTimer = undefined;
    lastPoke = Date.now();
    prober?.poke();
  };

  return {
    seenAddress(address) {
      const mac = deps.seen().get(address);
      if (prober === undefined || pokeTimer !== undefined || mac === undefined || deps.book.policyOf(deps.store.plan(), mac) === undefined) return;
      const wait = lastPoke + 1000 - Date.now();
      if (wait <= 0) poke();
      else pokeTimer = setTimeout(poke, wait).unref();
    },
    bound: () => ({
      ...(hello === undefined ? {} : { hello: hello.port }),
      ...(site === undefined ? {} : { dhcpClient: site.port }),
      probing: prober !== undefined,
    }),
    async stop() {
      stopped = true;
      clearTimeout(pokeTimer);
      unsubscribe();
      await chain;
      await stopAll();
    },
  };
}
