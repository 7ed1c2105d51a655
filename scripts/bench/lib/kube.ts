/**
 * A small Kubernetes API client for the controller benchmark: JSON requests
 * over HTTP/1.1 keep-alive, a bounded pool for creating thousands of objects
 * quickly, list + watch streams, and the API server's own /metrics.
 *
 * Deliberately not @kubernetes/client-node: the benchmark measures the
 * controller's client, so its own traffic should be cheap, predictable and
 * independent of it (one socket per concurrent request, no retries, no
 * middleware).
 */
import { Agent, request } from 'node:https';
import type { IncomingMessage } from 'node:http';

export interface KubeResponse {
  readonly status: number;
  readonly body: string;
}

/** A Kubernetes object as JSON, with the fields the benchmark reads. */
export interface KubeObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly generation?: number; readonly resourceVersion?: string; readonly labels?: Record<string, string>; readonly [k: string]: unknown };
  readonly spec?: Record<string, unknown>;
  readonly status?: Record<string, unknown>;
}

export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: KubeObject;
  /** performance.now() when the event's line arrived. */
  readonly at: number;
}

/** An API server reachable with a bearer token (the test cluster's admin token). */
export class KubeHttp {
  readonly server: string;
  readonly #token: string;
  readonly #agent: Agent;

  constructor(server: string, token: string, maxSockets = 16) {
    this.server = server;
    this.#token = token;
    // The test cluster's certificate is self-signed (its kubeconfig says insecure-skip-tls-verify too).
    this.#agent = new Agent({ keepAlive: true, maxSockets, rejectUnauthorized: false });
  }

  /** One request; resolves with the status and body whatever the status. */
  request(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<KubeResponse> {
    const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(`${this.server}${path}`, {
        method, agent: this.#agent, timeout: 120_000,
        headers: { authorization: `Bearer ${this.#token}`, accept: 'application/json', ...(payload === undefined ? {} : { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) }) },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 120 s`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** A request that must succeed (2xx); returns the parsed body. */
  async json<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const res = await this.request(method, path, body, contentType);
    if (res.status < 200 || res.status > 299) throw new Error(`${method} ${path}: HTTP ${res.status}: ${res.body.slice(0, 500)}`);
    return JSON.parse(res.body) as T;
  }

  /** Server-side apply of `object` at `path` under `manager` (force: the benchmark owns its fixtures). */
  apply<T>(path: string, object: unknown, manager: string): Promise<T> {
    return this.json<T>('PATCH', `${path}?fieldManager=${encodeURIComponent(manager)}&force=true`, object, 'application/apply-patch+yaml');
  }

  /** Every item of a list and its resourceVersion. */
  async list(path: string): Promise<{ items: KubeObject[]; resourceVersion: string; bytes: number }> {
    const res = await this.request('GET', path);
    if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status}: ${res.body.slice(0, 500)}`);
    const parsed = JSON.parse(res.body) as { items: KubeObject[]; metadata: { resourceVersion: string } };
    return { items: parsed.items, resourceVersion: parsed.metadata.resourceVersion, bytes: Buffer.byteLength(res.body) };
  }

  /**
   * Watches `path` from `resourceVersion`, calling `onEvent` for each event,
   * until `signal` aborts (resolves) or the stream ends or fails (rejects:
   * a benchmark must not silently stop seeing events).
   */
  watch(path: string, resourceVersion: string, onEvent: (e: WatchEvent) => void, signal: AbortSignal): Promise<void> {
    const sep = path.includes('?') ? '&' : '?';
    const url = `${this.server}${path}${sep}watch=1&allowWatchBookmarks=true&resourceVersion=${resourceVersion}&timeoutSeconds=3600`;
    return new Promise((resolve, reject) => {
      // Its own socket: a watch holds one for its whole life.
      const req = request(url, { headers: { authorization: `Bearer ${this.#token}`, accept: 'application/json' }, rejectUnauthorized: false, signal }, (res: IncomingMessage) => {
        if (res.statusCode !== 200) {
          res.resume();
          return reject(new Error(`watch ${path}: HTTP ${res.statusCode}`));
        }
        let pending = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const at = performance.now();
          pending += chunk;
          let nl = pending.indexOf('\n');
          while (nl !== -1) {
            const line = pending.slice(0, nl);
            pending = pending.slice(nl + 1);
            if (line.trim() !== '') {
              const e = JSON.parse(line) as { type: WatchEvent['type']; object: KubeObject };
              onEvent({ type: e.type, object: e.object, at });
            }
            nl = pending.indexOf('\n');
          }
        });
        res.on('end', () => (signal.aborted ? resolve() : reject(new Error(`watch ${path} ended`))));
        res.on('error', (err) => (signal.aborted ? resolve() : reject(err)));
      });
      req.on('error', (err) => (signal.aborted ? resolve() : reject(err)));
      req.end();
    });
  }

  /** The API server's Prometheus text (/metrics). */
  async metrics(): Promise<string> {
    const res = await this.request('GET', '/metrics');
    if (res.status !== 200) throw new Error(`GET /metrics: HTTP ${res.status}`);
    return res.body;
  }

  close(): void {
    this.#agent.destroy();
  }
}

/**
 * Runs `work` on every item with at most `concurrency` in flight; resolves
 * once all are done, rejects with the first failure (after the in-flight
 * ones finish).
 */
export async function pool<T>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      const i = next++;
      try {
        await work(items[i] as T, i);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  if (failure !== undefined) throw failure;
}

/** The REST path of a netboot.dev collection in a namespace. */
export function netbootPath(namespace: string, plural: string, name?: string): string {
  return `/apis/netboot.dev/v1alpha1/namespaces/${namespace}/${plural}${name === undefined ? '' : `/${name}`}`;
}
