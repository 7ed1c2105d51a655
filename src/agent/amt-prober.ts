/**
 * Finds Intel AMT on the agent's segment without credentials: for each
 * address the agent has seen (and only those), an RMCP presence ping on UDP
 * 623, a GET on 16992 then 16993 reading the Server banner (a 401 is an
 * answer), and one ICMP echo for the TTL heuristic. Rate limited by
 * amt-schedule.ts. Emits one event per machine where AMT answered; the
 * caller (the agent) decides what to record.
 */
import type { ProvisioningState } from '../amt/probe/rmcp.ts';
import { AMT_HTTP_PORT, AMT_HTTPS_PORT, RMCP_PORT } from '../amt/probe/rmcp.ts';
import { classifyTtl } from '../amt/probe/ttl.ts';
import type { TtlHeuristic } from '../amt/probe/ttl.ts';
import { Errors, NetbootError } from '../errors.ts';
import { ProbeSchedule, systemProbeClock } from './amt-schedule.ts';
import type { ProbeClock, ScheduleLimits } from './amt-schedule.ts';
import { systemTransport } from './amt-transport.ts';
import type { AmtTransport, HttpOutcome, RmcpOutcome } from './amt-transport.ts';

/** Where an event's version came from (the values of BootMachine status.amt.version.source). */
export type VersionSource = 'http-server-header' | 'rmcp';

/** What the prober emits for a machine where AMT answered. */
export interface AmtProbeEvent {
  readonly mac: string;
  readonly address: string;
  /** "11.8.50.3425" from the banner, else "11.8" from the pong; absent if neither had one (AMT before 6.0 without web access). */
  readonly version?: string;
  /** From the pong only; `unknown` when AMT answered HTTP but not RMCP. */
  readonly provisioningState: ProvisioningState;
  /** Where `version` came from, or (without a version) which probe found AMT. */
  readonly source: VersionSource;
  /** Each source's own value (src/amt facts.ts AmtVersionFacts takes them as they are). */
  readonly versions: { readonly httpServerHeader?: string; readonly rmcp?: string };
  readonly ttlHeuristic: TtlHeuristic;
  /** When the probe finished, ms since the epoch (deps.clock). */
  readonly at: number;
  /** Ports the pong or the HTTP probe found open. */
  readonly ports: { readonly http: boolean; readonly https: boolean };
}

/** Everything one probe learned, AMT or not (returned by `probeNow`, logged at debug). */
export interface AmtProbeOutcome {
  readonly address: string;
  readonly mac: string;
  readonly detected: boolean;
  readonly rmcp: RmcpOutcome;
  /** One entry per port tried, in order. */
  readonly http: readonly { readonly port: number; readonly tls: boolean; readonly outcome: HttpOutcome }[];
  readonly ttlHeuristic: TtlHeuristic;
  readonly event?: AmtProbeEvent;
}

/** The minimal logger the prober writes to (pino's Logger fits). */
export interface AmtLog {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface AmtProberDeps {
  /** Address -> MAC of the machines seen on this segment (DHCP traffic); read at every scan and before every probe. */
  readonly seen: () => ReadonlyMap<string, string>;
  readonly onAmt: (event: AmtProbeEvent) => void;
  readonly log?: AmtLog;
  readonly clock?: ProbeClock;
  readonly limits?: Partial<ScheduleLimits>;
  /** How often the seen map is scanned for addresses due a probe (default 60 s); `poke()` scans at once. */
  readonly scanIntervalMs?: number;
  /** Per-probe timeouts (defaults: RMCP 1500 ms, HTTP 3000 ms). */
  readonly timeouts?: { readonly rmcpMs?: number; readonly httpMs?: number };
  /** Ports to probe (defaults 623, 16992, 16993): tests point them at a simulated endpoint on loopback. */
  readonly ports?: { readonly rmcp?: number; readonly http?: number; readonly https?: number };
  /** The sockets; default the real ones bound to `bindAddress`. */
  readonly transport?: AmtTransport;
  /** Source address for the RMCP socket (the serving interface's address). */
  readonly bindAddress?: string;
}

export interface AmtProber {
  /** Scans the seen map now and starts whatever the limits allow. */
  poke(): void;
  /** Probes one seen address at once, outside the rate limit (for tests and `doctor`); rejects NB5013 for others. */
  probeNow(address: string): Promise<AmtProbeOutcome>;
  /** Stops scanning and waits for probes in flight. */
  stop(): Promise<void>;
}

const MULTICAST_OR_RESERVED = /^(0|22[4-9]|2[3-5]\d)\./;

/** True when `address` may be probed: seen on the segment and a unicast IPv4 address. */
export function probeAllowed(address: string, seen: ReadonlyMap<string, string>): boolean {
  return seen.has(address) && /^\d{1,3}(\.\d{1,3}){3}$/.test(address) && !MULTICAST_OR_RESERVED.test(address);
}

/** Starts the periodic scan; the first one runs at once. */
export function startAmtProber(deps: AmtProberDeps): AmtProber {
  const clock = deps.clock ?? systemProbeClock;
  const schedule = new ProbeSchedule(deps.limits);
  const transport = deps.transport ?? systemTransport(deps.bindAddress === undefined ? {} : { bindAddress: deps.bindAddress });
  const port = { rmcp: deps.ports?.rmcp ?? RMCP_PORT, http: deps.ports?.http ?? AMT_HTTP_PORT, https: deps.ports?.https ?? AMT_HTTPS_PORT };
  let stopped = false;
  let scanTimer: { cancel(): void } | undefined;
  let pumpTimer: { cancel(): void } | undefined;

  const probe = async (address: string, mac: string): Promise<AmtProbeOutcome> => {
    const rmcp = await transport.rmcpPing(address, port.rmcp, deps.timeouts?.rmcpMs ?? 1500);
    const http: { port: number; tls: boolean; outcome: HttpOutcome }[] = [];
    for (const [p, tls] of [[port.http, false], [port.https, true]] as const) {
      const outcome = await transport.httpHead(address, p, tls, deps.timeouts?.httpMs ?? 3000);
      http.push({ port: p, tls, outcome });
      if (outcome.ok && outcome.banner !== undefined) break;
    }
    const icmp = await transport.ping(address);
    const ttlHeuristic = classifyTtl(icmp.ttl, icmp.skipped);
    const event = eventOf(address, mac, rmcp, http, ttlHeuristic, clock.now());
    return { address, mac, detected: event !== undefined, rmcp, http, ttlHeuristic, ...(event === undefined ? {} : { event }) };
  };

  /** Probes in flight by address: an on-demand probe of an address being probed joins that probe. */
  const running = new Map<string, Promise<AmtProbeOutcome>>();

  /** Runs one probe the schedule has let start; emits on detection and frees the slot after. */
  const run = (address: string, mac: string): Promise<AmtProbeOutcome> => {
    const p = probe(address, mac).then((outcome) => {
      deps.log?.debug({ address, mac, detected: outcome.detected, rmcp: outcome.rmcp.ok ? 'pong' : outcome.rmcp.reason, http: outcome.http.map((h) => (h.outcome.ok ? `${h.port} ${h.outcome.status}` : h.outcome.reason)), ttl: outcome.ttlHeuristic.reason }, 'amt probe finished');
      if (outcome.event !== undefined && !stopped) {
        try {
          deps.onAmt(outcome.event);
        } catch (err) {
          deps.log?.warn({ address, err: String(err) }, 'amt probe event handler failed');
        }
      }
      return outcome;
    }).finally(() => {
      running.delete(address);
      schedule.done(address);
      pump();
    });
    running.set(address, p);
    return p;
  };

  const pump = (): void => {
    pumpTimer?.cancel();
    pumpTimer = undefined;
    if (stopped) return;
    for (;;) {
      const seen = deps.seen();
      const address = schedule.take(clock.now(), (a) => probeAllowed(a, seen));
      if (address === undefined) break;
      run(address, seen.get(address) ?? '').catch((err: unknown) => deps.log?.warn({ address, err: String(err) }, 'amt probe failed'));
    }
    const wait = schedule.wait(clock.now());
    if (wait !== undefined) pumpTimer = clock.setTimer(pump, wait);
  };

  const scan = (): void => {
    if (stopped) return;
    const now = clock.now();
    schedule.prune(now);
    const seen = deps.seen();
    for (const address of seen.keys()) if (probeAllowed(address, seen)) schedule.offer(address, now);
    pump();
  };

  const every = deps.scanIntervalMs ?? 60_000;
  const loop = (): void => {
    scan();
    if (!stopped) scanTimer = clock.setTimer(loop, every);
  };
  loop();

  return {
    poke: scan,
    probeNow(address) {
      const seen = deps.seen();
      if (!probeAllowed(address, seen)) {
        return Promise.reject(new NetbootError(Errors.AmtProbeNotAllowed, `will not probe ${address}: only unicast IPv4 addresses this agent has seen on its segment are probed`));
      }
      const current = running.get(address);
      if (current !== undefined) return current;
      schedule.claim(address, clock.now());
      return run(address, seen.get(address) ?? '');
    },
    async stop() {
      stopped = true;
      scanTimer?.cancel();
      pumpTimer?.cancel();
      await Promise.allSettled([...running.values()]);
    },
  };
}

/** The event for one probe, or undefined when neither RMCP nor HTTP showed AMT. */
export function eventOf(
  address: string, mac: string, rmcp: RmcpOutcome,
  http: readonly { readonly port: number; readonly tls: boolean; readonly outcome: HttpOutcome }[],
  ttlHeuristic: TtlHeuristic, at: number,
): AmtProbeEvent | undefined {
  const pong = rmcp.ok && rmcp.pong.amt ? rmcp.pong : undefined;
  const web = http.find((h) => h.outcome.ok && h.outcome.banner !== undefined);
  const banner = web !== undefined && web.outcome.ok ? web.outcome.banner : undefined;
  if (pong === undefined && banner === undefined) return undefined;
  const version = banner?.text ?? pong?.version?.text;
  const bannerOn = (tls: boolean) => http.some((h) => h.tls === tls && h.outcome.ok && h.outcome.banner !== undefined);
  return {
    mac, address,
    ...(version === undefined ? {} : { version }),
    provisioningState: pong?.provisioningState ?? 'unknown',
    source: banner !== undefined ? 'http-server-header' : 'rmcp',
    versions: { ...(banner === undefined ? {} : { httpServerHeader: banner.text }), ...(pong?.version === undefined ? {} : { rmcp: pong.version.text }) },
    ttlHeuristic, at,
    ports: { http: (pong?.ports?.http ?? false) || bannerOn(false), https: (pong?.ports?.https ?? false) || bannerOn(true) },
  };
}
