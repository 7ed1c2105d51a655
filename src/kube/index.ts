/**
 * The Kubernetes runtime shared by the controller and the agents' kube store:
 * informers feed keys into work queues, reconcilers read the cache and apply
 * with server-side apply, and only the leader runs them. `src/cli/` wires
 * these together.
 */
export { Applier, FIELD_MANAGER, describeObject } from './apply.ts';
export type { AppliedObject, ApplierOptions, ApplyApi, ApplyOutcome } from './apply.ts';
export { applyWouldChange } from './apply-diff.ts';
export type { BackoffPolicy, RateLimit } from './backoff.ts';
export { sleep, systemClock } from './clock.ts';
export type { Clock, Timer } from './clock.ts';
export { Informer, objectKey, splitKey } from './informer.ts';
export type { InformerEvent, InformerOptions, InformerStats, KubeObject, ListWatchSource, WatchEvent } from './informer.ts';
export { describeKubeError, kubeError, statusCodeOf } from './kube.ts';
export { LeaderElector } from './leader.ts';
export type { LeaderElectionConfig } from './leader.ts';
export { decideLease } from './lease.ts';
export type { LeaseDecision, LeaseRecord } from './lease.ts';
export { kubeLeaseStore } from './lease-store.ts';
export type { LeaseStore } from './lease-store.ts';
export { WorkQueue } from './queue.ts';
export type { ReconcileResult, Reconciler, WorkQueueOptions } from './queue.ts';
export { customObjectSource, watchSource } from './source.ts';
export { customObjectPatchApi, kubeJson, kubeWatch } from './request.ts';
export type { JsonRequest, PatchApi, Query } from './request.ts';
export type { CustomResourceRef, SourceOptions } from './source.ts';
