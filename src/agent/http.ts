/**
 * The agent's HTTP server: per-machine iPXE scripts (/ipxe/<mac>), boot
 * files for iPXE and UEFI HTTP boot (/boot/<file>), /healthz, /readyz and
 * /metrics. The decision of what a machine gets is boot/script.ts; this file
 * only moves bytes and records what happened.
 */
import { createServer } from 'node:http';
import type { Server, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { Architectures } from '../api/v1alpha1/machineclass.ts';
import type { Architecture } from '../api/v1alpha1/machineclass.ts';
import { MAC_RE } from '../api/v1alpha1/fields.ts';
import { decideScript } from '../boot/script.ts';
import type { BootPlan } from '../boot/plan.ts';
import { timestampOf } from '../boot/status.ts';
import type { Logger } from '../observability/logger.ts';
import type { AgentMetrics } from '../observability/metrics.ts';
import type { BootStore } from '../store/store.ts';
import type { BootFiles } from './files.ts';

export interface HttpDeps {
  readonly store: BootStore;
  readonly files: BootFiles;
  readonly metrics: AgentMetrics;
  readonly log: Logger;
  readonly node: string;
  /** The address machines reach us at (option 54 / siaddr). */
  readonly serverAddress: () => string;
  readonly port: number;
  readonly ready: () => boolean;
  readonly now: () => Date;
}

/**
 * The architecture a script request names: our own names (the URL the DHCP
 * answer gave iPXE carries them), or iPXE's ${buildarch}-${platform} for a
 * URL someone wrote by hand.
 */
export function archOf(value: string | null): Architecture | undefined {
  if (value === null) return undefined;
  if ((Architectures as readonly string[]).includes(value)) return value as Architecture;
  const ipxe: Record<string, Architecture> = { 'i386-pcbios': 'bios', 'x86_64-pcbios': 'bios', 'x86_64-efi': 'uefi-x64', 'i386-efi': 'uefi-ia32', 'arm64-efi': 'uefi-arm64', 'arm32-efi': 'uefi-arm32' };
  return ipxe[value];
}

export function createHttpServer(deps: HttpDeps): Server {
  const send = (res: ServerResponse, route: string, code: number, body: string, type = 'text/plain; charset=utf-8') => {
    deps.metrics.httpRequests.inc({ route, code: String(code) });
    res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
  };

  const script = (res: ServerResponse, url: URL) => {
    const mac = decodeURIComponent(url.pathname.slice('/ipxe/'.length)).toLowerCase();
    if (!MAC_RE.test(mac)) return send(res, 'ipxe', 400, `#!ipxe\necho netboot: "${mac.slice(0, 40)}" is not a MAC address\nexit 1\n`);
    const plan: BootPlan = deps.store.plan();
    const uuid = url.searchParams.get('uuid') ?? '';
    const arch = archOf(url.searchParams.get('arch'));
    const d = decideScript(plan, { mac, serverAddress: deps.serverAddress(), httpBase: `http://${deps.serverAddress()}:${deps.port}`, ...(arch === undefined ? {} : { arch }), ...(/^[0-9a-f-]{36}$/.test(uuid) ? { uuid } : {}) });
    const time = timestampOf(deps.now());
    const base = { mac, network: plan.networkName, node: deps.node, time, event: 'ScriptFetched' as const };
    if (d.kind === 'refuse') {
      deps.log.info({ mac, reason: d.reason }, 'script refused');
      deps.store.report({ ...base, phase: 'Stopped', stoppedReason: d.reason, detail: `HTTP ${d.status}` });
      return send(res, 'ipxe', d.status, `#!ipxe\necho netboot: ${d.reason.replaceAll('\n', ' ')}\nexit 1\n`);
    }
    deps.store.report({ ...base, phase: d.local ? 'LocalBoot' : 'ScriptServed', detail: d.local ? 'local-disk script (boot once)' : `profile ${d.profile}`, completes: d.completes });
    deps.metrics.boots.inc({ phase: d.local ? 'LocalBoot' : 'ScriptServed' });
    return send(res, 'ipxe', 200, d.script);
  };

  const file = async (res: ServerResponse, path: string) => {
    const found = await deps.files.open(path);
    if (!found.ok) return send(res, 'boot', found.notFound ? 404 : 403, `${found.reason}\n`);
    deps.metrics.httpRequests.inc({ route: 'boot', code: '200' });
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(found.size) });
    try {
      await pipeline(found.handle.createReadStream(), res);
    } finally {
      await found.handle.close().catch(() => {});
    }
  };

  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://agent');
    const handle = async () => {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 'other', 405, 'only GET\n');
      if (url.pathname === '/healthz') return send(res, 'healthz', 200, 'ok\n');
      if (url.pathname === '/readyz') return deps.ready() ? send(res, 'readyz', 200, 'ok\n') : send(res, 'readyz', 503, 'listeners not bound\n');
      if (url.pathname === '/metrics') return send(res, 'metrics', 200, await deps.metrics.registry.metrics(), deps.metrics.registry.contentType);
      if (url.pathname.startsWith('/ipxe/')) return script(res, url);
      if (url.pathname.startsWith('/boot/')) return file(res, decodeURIComponent(url.pathname.slice('/boot/'.length)));
      return send(res, 'other', 404, 'not found\n');
    };
    handle().catch((err: unknown) => {
      deps.log.error({ err, url: req.url }, 'http handler failed');
      if (!res.headersSent) send(res, 'other', 500, 'internal error\n');
      else res.destroy();
    });
  });
}
