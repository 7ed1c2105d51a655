/**
 * The controller's HTTP endpoint (--metrics-address): /metrics for
 * Prometheus, /healthz (the process answers), /readyz (the caches have
 * synced, so this replica either leads or can take over at once).
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { Errors, NetbootError } from '../../errors.ts';

/** What /readyz reports. */
export interface Readiness {
  /** True when this replica can serve: caches synced (leading or standing by). */
  ready(): boolean;
  /** A short word for the body: "leader", "standby", "syncing". */
  state(): string;
}

/** A "host:port" split; the host may be a bracketed IPv6 address. */
export function parseListenAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(address);
  const port = Number(m?.[3]);
  if (m === null || !(port >= 0 && port <= 65535)) {
    throw new NetbootError(Errors.ControllerConfigInvalid, `--metrics-address "${address}" is not HOST:PORT (for example 0.0.0.0:8081, or 127.0.0.1:0 for any free port)`);
  }
  return { host: m[1] ?? (m[2] === '' ? '0.0.0.0' : m[2] ?? '0.0.0.0'), port };
}

/** Listens on `address`; resolves with the server and the address it got (port 0 = any free port). */
export async function serveMetrics(address: string, registry: Registry, readiness: Readiness): Promise<{ server: Server; address: string }> {
  const { host, port } = parseListenAddress(address);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/metrics') {
      registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': registry.contentType }).end(text);
      }, (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(err)}\n`);
      });
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (path === '/readyz') {
      const ok = readiness.ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(`${readiness.state()}\n`);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz or /readyz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new NetbootError(Errors.MetricsListenFailed, `cannot listen on ${address} for metrics and health checks: ${err.message}`, { cause: err })));
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  const shown = bound.family === 'IPv6' ? `[${bound.address}]:${bound.port}` : `${bound.address}:${bound.port}`;
  return { server, address: shown };
}
