/**
 * Prometheus metrics of the controller (prom-client). One registry per
 * process, passed in, so tests read a fresh one. Gauges that mirror state
 * (queue depth, informer restarts) are filled at scrape time by `collect`
 * callbacks the manager registers, so nothing polls.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The controller's metrics; label values are kind names (BootNetwork, ...) unless noted. */
export interface ControllerMetrics {
  readonly registry: Registry;
  /** result: success, error. */
  readonly reconciles: Counter<'kind' | 'result'>;
  readonly reconcileSeconds: Histogram<'kind'>;
  readonly queueDepth: Gauge<'kind'>;
  /** verb: apply (object), apply-status, event. kind: the written object's kind. */
  readonly apiWrites: Counter<'kind' | 'verb'>;
  readonly writeWaitSeconds: Counter<'kind' | 'verb'>;
  /** Writes refused because this process was not (or no longer) the leader. */
  readonly writesRefused: Counter;
  readonly leader: Gauge;
  /** cause: failure, watchdog, gone (410 relist). */
  readonly informerRestarts: Counter<'resource' | 'cause'>;
  /** result: created, bumped (a repeat within the window), dropped (buffer full), failed. */
  readonly events: Counter<'result'>;
  readonly initialSyncSeconds: Gauge;
  readonly initialReconcileSeconds: Gauge;
  /** Registers a hook that refreshes scrape-time values (queue depth, informer restarts). */
  onCollect(hook: () => void): void;
}

/** Creates the metrics in `registry` (default: a new one), with process metrics prefixed netboot_controller_. */
export function createControllerMetrics(registry = new Registry()): ControllerMetrics {
  collectDefaultMetrics({ register: registry, prefix: 'netboot_controller_' });
  const registers = [registry];
  const hooks: (() => void)[] = [];
  // Both mirrored metrics run every hook (they are idempotent), so either may be scraped first.
  const collect = () => { for (const hook of hooks) hook(); };
  return {
    registry,
    reconciles: new Counter({ name: 'netboot_controller_reconcile_total', help: 'Reconciles run, by kind and result (success, error).', labelNames: ['kind', 'result'], registers }),
    reconcileSeconds: new Histogram({
      name: 'netboot_controller_reconcile_duration_seconds', help: 'Time one reconcile took (gather, evaluate, apply), by kind.', labelNames: ['kind'], registers,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }),
    queueDepth: new Gauge({ name: 'netboot_controller_queue_depth', help: 'Keys waiting in the work queue of each kind (ready, not yet picked up).', labelNames: ['kind'], registers, collect }),
    apiWrites: new Counter({ name: 'netboot_controller_api_writes_total', help: 'Write requests sent to the API server, by kind of object and verb (apply, apply-status, event).', labelNames: ['kind', 'verb'], registers }),
    writeWaitSeconds: new Counter({ name: 'netboot_controller_write_wait_seconds_total', help: 'Seconds writes waited for the controller\'s own write bound (--write-qps, --write-burst; events have their own) before being sent, by kind and verb. Rising fast: the bound, not the API server, paces the controller.', labelNames: ['kind', 'verb'], registers }),
    writesRefused: new Counter({ name: 'netboot_controller_writes_refused_total', help: 'Writes not sent because this process was not the leader at that moment.', registers }),
    leader: new Gauge({ name: 'netboot_controller_leader', help: '1 while this process holds the leader Lease and runs the reconcilers, else 0.', registers }),
    informerRestarts: new Counter({ name: 'netboot_controller_informer_restarts_total', help: 'Informer list/watch restarts, by resource and cause (failure, watchdog, gone).', labelNames: ['resource', 'cause'], registers, collect }),
    events: new Counter({ name: 'netboot_controller_events_total', help: 'Kubernetes Events recorded, by result (created, bumped, dropped, failed).', labelNames: ['result'], registers }),
    initialSyncSeconds: new Gauge({ name: 'netboot_controller_initial_sync_seconds', help: 'Seconds from start until every informer cache had listed once.', registers }),
    initialReconcileSeconds: new Gauge({ name: 'netboot_controller_initial_reconcile_seconds', help: 'Seconds from the first leadership with synced caches until every queue drained once.', registers }),
    onCollect: (hook) => { hooks.push(hook); },
  };
}
