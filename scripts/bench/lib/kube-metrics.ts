/**
 * Write requests as the API server counts them: `apiserver_request_total`
 * from its /metrics, by verb, group, resource and subresource. The counter
 * has no client label, so a benchmark attributes writes by keeping its own
 * requests out of the windows it measures, and by resource: Lease renewals
 * (leader election, and the API server's own identity lease in kube-system)
 * are reported apart from writes to the netboot resources.
 */

/** Verbs that change state. APPLY is server-side apply (a PATCH with application/apply-patch+yaml). */
export const WRITE_VERBS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'APPLY', 'DELETE', 'DELETECOLLECTION']);

export interface RequestCount {
  readonly verb: string;
  readonly group: string;
  readonly resource: string;
  readonly subresource: string;
  readonly code: string;
  readonly value: number;
}

const LINE = /^apiserver_request_total\{([^}]*)\} ([0-9.e+]+)$/gm;
const LABEL = /(\w+)="([^"]*)"/g;

/** The `apiserver_request_total` samples of a /metrics text. */
export function requestCounts(metricsText: string): RequestCount[] {
  const out: RequestCount[] = [];
  for (const m of metricsText.matchAll(LINE)) {
    const labels: Record<string, string> = {};
    for (const l of (m[1] ?? '').matchAll(LABEL)) labels[l[1] ?? ''] = l[2] ?? '';
    out.push({ verb: labels['verb'] ?? '', group: labels['group'] ?? '', resource: labels['resource'] ?? '', subresource: labels['subresource'] ?? '', code: labels['code'] ?? '', value: Number(m[2]) });
  }
  return out;
}

/** "VERB group/resource[/subresource]" (core group shown as "core"). */
export function writeKey(c: RequestCount): string {
  return `${c.verb} ${c.group === '' ? 'core' : c.group}/${c.resource}${c.subresource === '' ? '' : `/${c.subresource}`}`;
}

/** Write requests by writeKey, all response codes together. */
export function writesByKey(counts: readonly RequestCount[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of counts) {
    if (!WRITE_VERBS.has(c.verb)) continue;
    out.set(writeKey(c), (out.get(writeKey(c)) ?? 0) + c.value);
  }
  return out;
}

/** b - a per key, keeping only keys that moved. */
export function deltaByKey(a: ReadonlyMap<string, number>, b: ReadonlyMap<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [k, v] of b) {
    const d = v - (a.get(k) ?? 0);
    if (d !== 0) out.set(k, d);
  }
  return out;
}

/** Splits write deltas into Lease writes and everything else. */
export function splitLeases(delta: ReadonlyMap<string, number>): { leases: number; other: number; otherByKey: Map<string, number> } {
  let leases = 0;
  let other = 0;
  const otherByKey = new Map<string, number>();
  for (const [k, v] of delta) {
    if (k.endsWith(' coordination.k8s.io/leases')) leases += v;
    else {
      other += v;
      otherByKey.set(k, v);
    }
  }
  return { leases, other, otherByKey };
}

/** Total writes in a map. */
export function sum(m: ReadonlyMap<string, number>): number {
  let s = 0;
  for (const v of m.values()) s += v;
  return s;
}

/** "k=v, k=v" sorted by count, for reports. */
export function describeCounts(m: ReadonlyMap<string, number>): string {
  if (m.size === 0) return 'none';
  return [...m].sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k} ${v}`).join(', ');
}

/** Writes by the processes under test: the netboot resources, their DaemonSets and Events; the rest is the API server's own housekeeping. */
export function isControllerResource(key: string): boolean {
  return / (netboot\.dev|apps|events\.k8s\.io)\//.test(key) || / core\/events$/.test(key);
}

/** The benchmark's own write of a class change (the controller never writes a MachineClass's spec). */
export const BENCH_WRITE = 'APPLY netboot.dev/machineclasses';

/** Writes between two samples of the counters: by the processes under test (by key), Lease writes, and the API server's own. */
export interface WritesBetween { readonly total: number; readonly byKey: Map<string, number>; readonly leases: number; readonly server: Map<string, number> }

export function writesBetween(a: { readonly writes: ReadonlyMap<string, number> }, z: { readonly writes: ReadonlyMap<string, number> }): WritesBetween {
  const w = splitLeases(deltaByKey(a.writes, z.writes));
  const byKey = new Map([...w.otherByKey].filter(([k]) => isControllerResource(k) && k !== BENCH_WRITE));
  const server = new Map([...w.otherByKey].filter(([k]) => !isControllerResource(k)));
  return { total: sum(byKey), byKey, leases: w.leases, server };
}
