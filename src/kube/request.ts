/**
 * The two requests the controller and the agents send by the thousand, a
 * status apply and a watch, without client-node's generated layers.
 *
 * client-node 2.x sends every call through undici's `fetch` (WHATWG Request
 * and Response objects, web streams), its RxJS-style middleware chain and its
 * ObjectSerializer, and its `Watch` reads a stream through fetch, a web-stream
 * adapter and `readline`, resetting a timer for every chunk. At 10,000
 * BootMachines that was about half the controller's CPU during an initial
 * sync (docs/benchmarks.md). Here the same request goes out through undici's
 * `request` on the same connection pool, authenticated by the KubeConfig
 * itself (`applySecurityAuthentication`: tokens, client certificates, exec
 * and OIDC plugins, exactly as client-node does them), and a watch is split
 * into lines by hand. Failures look like client-node's (`ApiException` with
 * the HTTP status in `code` and the API server's Status as `body`), so
 * `kubeError` reads both alike.
 */
import { ApiException, HttpMethod, RequestContext } from '@kubernetes/client-node';
import type { ConfigurationOptions, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { request } from 'undici';
import { statusMessage } from './kube.ts';

/** Query parameters; undefined ones are left out. */
export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

export interface JsonRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The URL path, "/apis/netboot.dev/v1alpha1/namespaces/x/bootmachines/y/status". */
  readonly path: string;
  readonly query?: Query;
  /** Sent as JSON. */
  readonly body?: unknown;
  /** Content-Type of the body; `options` middleware may replace it. Default application/json. */
  readonly contentType?: string;
}

const USER_AGENT = 'netboot-operator';

/** A watch stream that delivered nothing for this long ends (normally); see kubeWatch. */
export const WATCH_IDLE_MS = 30_000;

/**
 * The request as client-node would build it: URL, query, body, then the
 * KubeConfig's authentication (headers and the TLS dispatcher), then the
 * caller's middleware (abort signal, headers), in that order.
 */
async function context(kc: KubeConfig, req: JsonRequest, options?: ConfigurationOptions): Promise<RequestContext> {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) throw new Error('the kubeconfig has no current cluster');
  let ctx = new RequestContext(cluster.server + req.path, req.method as HttpMethod);
  for (const [key, value] of Object.entries(req.query ?? {})) {
    if (value !== undefined) ctx.setQueryParam(key, String(value));
  }
  ctx.setHeaderParam('Accept', 'application/json');
  ctx.setHeaderParam('User-Agent', USER_AGENT);
  if (req.body !== undefined) {
    ctx.setHeaderParam('Content-Type', req.contentType ?? 'application/json');
    ctx.setBody(JSON.stringify(req.body));
  }
  await kc.applySecurityAuthentication(ctx);
  for (const middleware of options?.middleware ?? []) ctx = await middleware.pre(ctx).toPromise();
  return ctx;
}

/** The body as JSON when it parses, else the text (an error page from a proxy, say). */
function parsed(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A non-2xx answer as client-node reports one: HTTP status in `code`, the API server's Status as `body`. */
function rejection(statusCode: number, body: unknown, headers: unknown): ApiException<unknown> {
  return new ApiException(statusCode, statusMessage(body) ?? `HTTP ${statusCode}`, body, headers as Record<string, string>);
}

/**
 * Sends `req` and returns the response body parsed as JSON. A non-2xx answer
 * rejects with an ApiException (HTTP status in `code`, the API server's
 * Status object as `body`); no answer at all rejects with undici's error.
 */
export async function kubeJson(kc: KubeConfig, req: JsonRequest, options?: ConfigurationOptions): Promise<unknown> {
  const ctx = await context(kc, req, options);
  const res = await request(ctx.getUrl(), {
    method: req.method,
    headers: ctx.getHeaders(),
    body: ctx.getBody() as string | undefined,
    dispatcher: ctx.getDispatcher(),
    signal: ctx.getSignal(),
  });
  const body = parsed(await res.body.text());
  if (res.statusCode >= 200 && res.statusCode < 300) return body;
  throw rejection(res.statusCode, body, res.headers);
}

/**
 * Streams a watch: GET `path` with watch=true and `query`, calling
 * `onEvent(type, object)` for each line. Resolves when the server ends the
 * stream (its timeoutSeconds) or `signal` aborts; rejects when the request
 * fails, the answer is not 200 (ApiException, so a 410 reads as 410), or a
 * line is not a watch event (the caller restarts rather than skip an event).
 * A stream silent for `idleMs` (default 30 s, as client-node's Watch) also
 * ends normally, for the caller to resume from its last resourceVersion: the
 * API server sends an idle watch a bookmark only about every 2 minutes. The
 * timer is re-armed lazily (a timestamp per chunk), not reset per chunk.
 */
export async function kubeWatch(
  kc: KubeConfig, path: string, query: Query, onEvent: (type: string, object: unknown) => void, signal: AbortSignal, idleMs = WATCH_IDLE_MS,
): Promise<void> {
  if (signal.aborted) return;
  const ctx = await context(kc, { method: 'GET', path, query: { ...query, watch: true } });
  let res;
  try {
    res = await request(ctx.getUrl(), { method: 'GET', headers: ctx.getHeaders(), dispatcher: ctx.getDispatcher(), signal });
  } catch (err) {
    if (signal.aborted) return;
    throw err;
  }
  if (res.statusCode !== 200) {
    throw rejection(res.statusCode, parsed(await res.body.text().catch(() => '')), res.headers);
  }
  const stream = res.body;
  stream.setEncoding('utf8');
  let lastData = Date.now();
  let idle: NodeJS.Timeout | undefined;
  let idled = false;
  const checkIdle = () => {
    const quiet = Date.now() - lastData;
    // undici's body reports its own destroy as an AbortError: `idled` marks it as this normal end.
    if (quiet >= idleMs) { idled = true; stream.destroy(); }
    else idle = setTimeout(checkIdle, idleMs - quiet).unref();
  };
  idle = setTimeout(checkIdle, idleMs).unref();
  await new Promise<void>((resolve, reject) => {
    let pending = '';
    const fail = (err: unknown) => {
      stream.destroy();
      if (signal.aborted || idled) resolve();
      else reject(err);
    };
    stream.on('data', (chunk: string) => {
      lastData = Date.now();
      pending = pending === '' ? chunk : pending + chunk;
      let start = 0;
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n', start)) {
        const line = pending.slice(start, nl);
        start = nl + 1;
        if (line.trim() === '') continue;
        let event: { type?: unknown; object?: unknown };
        try {
          event = JSON.parse(line) as { type?: unknown; object?: unknown };
        } catch (err) {
          fail(new Error(`watch ${path}: a line is not JSON (${err instanceof Error ? err.message : String(err)}): ${line.slice(0, 200)}`));
          return;
        }
        if (typeof event.type !== 'string') {
          fail(new Error(`watch ${path}: a line is not a watch event: ${line.slice(0, 200)}`));
          return;
        }
        try {
          onEvent(event.type, event.object);
        } catch (err) {
          // A throwing handler ends this watch as a failure instead of escaping into undici's stream.
          fail(err);
          return;
        }
      }
      pending = start === 0 ? pending : pending.slice(start);
    });
    stream.on('end', () => resolve());
    stream.on('error', (err) => fail(err));
    // Also the idle end (destroy without an error) and an abort that closed the stream.
    stream.on('close', () => resolve());
  }).finally(() => clearTimeout(idle));
}

type Param<M extends keyof CustomObjectsApi> = CustomObjectsApi[M] extends (param: infer P, ...rest: never[]) => unknown ? P : never;

/** The patch calls of CustomObjectsApi that server-side apply uses, sent through kubeJson. */
export interface PatchApi {
  patchNamespacedCustomObject(param: Param<'patchNamespacedCustomObject'>, options?: ConfigurationOptions): Promise<unknown>;
  patchNamespacedCustomObjectStatus(param: Param<'patchNamespacedCustomObjectStatus'>, options?: ConfigurationOptions): Promise<unknown>;
  patchClusterCustomObject(param: Param<'patchClusterCustomObject'>, options?: ConfigurationOptions): Promise<unknown>;
  patchClusterCustomObjectStatus(param: Param<'patchClusterCustomObjectStatus'>, options?: ConfigurationOptions): Promise<unknown>;
}

/** The parameters every patch call takes (the status variants take the same). */
type PatchParam = Param<'patchNamespacedCustomObject'> | Param<'patchClusterCustomObject'>;

/**
 * CustomObjectsApi's four patch calls, with the same parameters and
 * results, through kubeJson. The Content-Type comes from `options` (the
 * Applier sets application/apply-patch+yaml), as with client-node.
 */
export function customObjectPatchApi(kc: KubeConfig): PatchApi {
  const send = (p: PatchParam, status: boolean, options: ConfigurationOptions | undefined) => {
    const namespace = 'namespace' in p ? p.namespace : undefined;
    const collection = namespace === undefined ? `/apis/${p.group}/${p.version}/${p.plural}` : `/apis/${p.group}/${p.version}/namespaces/${namespace}/${p.plural}`;
    const path = `${collection}/${encodeURIComponent(p.name)}${status ? '/status' : ''}`;
    const query = { dryRun: p.dryRun, fieldManager: p.fieldManager, fieldValidation: p.fieldValidation, force: p.force };
    return kubeJson(kc, { method: 'PATCH', path, query, body: p.body, contentType: 'application/json-patch+json' }, options);
  };
  return {
    patchNamespacedCustomObject: (param, options) => send(param, false, options),
    patchNamespacedCustomObjectStatus: (param, options) => send(param, true, options),
    patchClusterCustomObject: (param, options) => send(param, false, options),
    patchClusterCustomObjectStatus: (param, options) => send(param, true, options),
  };
}
