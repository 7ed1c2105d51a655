/**
 * kstatus, the status computation of sigs.k8s.io/cli-utils that kpt, Config
 * Sync and `kubectl`-adjacent tools use to decide whether an applied object
 * has been reconciled, ported for custom resources. Ported from
 * cli-utils pkg/kstatus/status:
 *   status.go  Compute: generic rules first; built-in kinds have their own
 *              rules (core.go legacyTypes); anything else is Current.
 *   generic.go checkGenericProperties: deletionTimestamp -> Terminating;
 *              checkGeneration: status.observedGeneration present and not
 *              metadata.generation -> InProgress (LatestGenerationNotObserved);
 *              a condition Reconciling=True -> InProgress, Stalled=True ->
 *              Failed (the "abnormal-true" conventions).
 *   util.go    newReconcilingCondition / newStalledCondition.
 * The built-in kinds' rules (core.go) are not ported: computing one of them
 * throws, so a test cannot mistake them for custom resources.
 *
 * Note what kstatus does not read: a Ready condition. For a custom resource
 * whose status is current, Ready=False is still Current; only Reconciling
 * and Stalled change that.
 */

/** The statuses of kstatus (status.go). */
export type KStatus = 'InProgress' | 'Failed' | 'Current' | 'Terminating' | 'NotFound' | 'Unknown';

/** A condition kstatus reports (status.go Condition). */
export interface KCondition {
  readonly type: 'Reconciling' | 'Stalled';
  readonly status: 'True';
  readonly reason: string;
  readonly message: string;
}

/** The result of Compute. */
export interface KStatusResult {
  readonly status: KStatus;
  readonly message: string;
  readonly conditions: readonly KCondition[];
}

/** Group/Kind keys with their own rules in core.go's legacyTypes. */
const BUILT_IN = new Set([
  'Service', 'Pod', 'Secret', 'PersistentVolumeClaim', 'apps/StatefulSet', 'apps/DaemonSet', 'extensions/DaemonSet', 'apps/Deployment',
  'extensions/Deployment', 'apps/ReplicaSet', 'extensions/ReplicaSet', 'policy/PodDisruptionBudget', 'batch/CronJob', 'ConfigMap', 'batch/Job',
  'apiextensions.k8s.io/CustomResourceDefinition',
]);

type Obj = { readonly [key: string]: unknown };

function nested(obj: Obj, ...path: string[]): unknown {
  let at: unknown = obj;
  for (const key of path) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Obj)[key];
  }
  return at;
}

/** unstructured.NestedInt64: undefined when absent, an error when not an integer. */
function nestedInt(obj: Obj, ...path: string[]): number | undefined {
  const value = nested(obj, ...path);
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new Error(`looking up ${path.join('.')} from resource: ${JSON.stringify(value)} is not an integer`);
  return value;
}

/** generic.go checkGeneration. */
function checkGeneration(obj: Obj): KStatusResult | undefined {
  const generation = nestedInt(obj, 'metadata', 'generation');
  if (generation === undefined) return undefined;
  const observed = nestedInt(obj, 'status', 'observedGeneration');
  if (observed === undefined || observed === generation) return undefined;
  const message = `${String(obj['kind'])} generation is ${generation}, but latest observed generation is ${observed}`;
  return { status: 'InProgress', message, conditions: [{ type: 'Reconciling', status: 'True', reason: 'LatestGenerationNotObserved', message }] };
}

/** generic.go checkGenericProperties. */
function checkGenericProperties(obj: Obj): KStatusResult | undefined {
  const deletion = nested(obj, 'metadata', 'deletionTimestamp');
  if (typeof deletion === 'string' && deletion !== '') return { status: 'Terminating', message: 'Resource scheduled for deletion', conditions: [] };
  const generation = checkGeneration(obj);
  if (generation !== undefined) return generation;
  const conditions = nested(obj, 'status', 'conditions');
  for (const c of Array.isArray(conditions) ? conditions as Obj[] : []) {
    const reason = typeof c['reason'] === 'string' ? c['reason'] : '';
    const message = typeof c['message'] === 'string' ? c['message'] : '';
    if (c['type'] === 'Reconciling' && c['status'] === 'True') return { status: 'InProgress', message, conditions: [{ type: 'Reconciling', status: 'True', reason, message }] };
    if (c['type'] === 'Stalled' && c['status'] === 'True') return { status: 'Failed', message, conditions: [{ type: 'Stalled', status: 'True', reason, message }] };
  }
  return undefined;
}

/** status.go Compute, for custom resources. */
export function computeStatus(obj: Obj): KStatusResult {
  const generic = checkGenericProperties(obj);
  if (generic !== undefined) return generic;
  const apiVersion = typeof obj['apiVersion'] === 'string' ? obj['apiVersion'] : '';
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  const key = group === '' ? String(obj['kind']) : `${group}/${String(obj['kind'])}`;
  if (BUILT_IN.has(key)) throw new Error(`kstatus rules for ${key} (cli-utils core.go) are not ported`);
  return { status: 'Current', message: 'Resource is current', conditions: [] };
}
