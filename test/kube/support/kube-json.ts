/** Small helpers for the controller tests: read objects as JSON through kubectl, poll until a condition holds. */
import type { TestCluster } from '../../support/cluster.ts';

/** An object as kubectl prints it with -o json. */
export interface Json {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly uid?: string; readonly generation?: number; readonly resourceVersion?: string; readonly [k: string]: unknown };
  readonly spec?: Record<string, unknown>;
  readonly status?: Record<string, unknown>;
  readonly [k: string]: unknown;
}

/** The object, or undefined when it does not exist. */
export async function getJson(cluster: TestCluster, kind: string, name: string, namespace: string): Promise<Json | undefined> {
  const r = await cluster.kubectlResult(['get', kind, name, '-n', namespace, '-o', 'json', '--show-managed-fields']);
  if (r.code !== 0) {
    if (/NotFound|not found/.test(r.stderr)) return undefined;
    throw new Error(`kubectl get ${kind} ${name}: ${r.stderr}`);
  }
  return JSON.parse(r.stdout) as Json;
}

/**
 * Polls `probe` until it returns something other than undefined. `context`
 * adds to the timeout error what would explain it (a process's log).
 */
export async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, everyMs = 200, context?: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${context === undefined ? '' : `; ${context()}`}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Polls `read` until the object exists and `accept` holds; the error shows the last object seen. */
export async function waitForJson(what: string, read: () => Promise<Json | undefined>, accept: (obj: Json) => boolean, timeoutMs = 30_000): Promise<Json> {
  let last: Json | undefined;
  try {
    return await until(what, async () => {
      last = await read();
      return last !== undefined && accept(last) ? last : undefined;
    }, timeoutMs);
  } catch (err) {
    throw new Error(`${(err as Error).message}; last seen: ${JSON.stringify({ metadata: { generation: last?.metadata.generation }, status: last?.status })}`);
  }
}
