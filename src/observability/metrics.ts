import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics of one Patchbay instance. Each instance owns its registry, so several
 * servers in one test process do not share counters.
 */
export interface Metrics {
  readonly registry: Registry;
  readonly runsByStatus: Gauge<'status'>;
  readonly runDuration: Histogram<'status'>;
  readonly runsFinished: Counter<'status'>;
  readonly eventsWritten: Counter;
  readonly droppedBytes: Counter;
  readonly queueWaiting: Gauge;
  readonly queueRunning: Gauge;
  readonly queueJobs: Gauge<'queue' | 'state'>;
  readonly workers: Gauge<'role' | 'state'>;
  readonly workerRuns: Gauge<'worker' | 'hostname'>;
  readonly runsRequeued: Counter;
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly callbackDeliveries: Counter<'outcome'>;
  readonly reactions: Counter<'reaction' | 'outcome'>;
  readonly budgetRefusals: Counter<'scope' | 'limit'>;
  readonly gateDuration: Histogram<'gate' | 'status'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  // Includes nodejs_eventloop_lag_seconds and its percentiles.
  collectDefaultMetrics({
    register: registry,
    prefix: 'patchbay_',
    eventLoopMonitoringPrecision: 10,
  });
  return {
    registry,
    runsByStatus: new Gauge({
      name: 'patchbay_runs',
      help: 'Runs in the store by status (refreshed at scrape time).',
      labelNames: ['status'],
      registers: [registry],
    }),
    runDuration: new Histogram({
      name: 'patchbay_run_duration_seconds',
      help: 'Wall-clock duration of finished runs.',
      labelNames: ['status'],
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800, 3600],
      registers: [registry],
    }),
    runsFinished: new Counter({
      name: 'patchbay_runs_finished_total',
      help: 'Runs that reached a terminal status in this process.',
      labelNames: ['status'],
      registers: [registry],
    }),
    eventsWritten: new Counter({
      name: 'patchbay_events_written_total',
      help: 'Run events appended to the store.',
      registers: [registry],
    }),
    droppedBytes: new Counter({
      name: 'patchbay_dropped_bytes_total',
      help: 'Output bytes dropped by output caps.',
      registers: [registry],
    }),
    queueWaiting: new Gauge({
      name: 'patchbay_queue_waiting',
      help: 'Runs waiting for a slot.',
      registers: [registry],
    }),
    queueRunning: new Gauge({
      name: 'patchbay_queue_running',
      help: 'Runs holding a slot.',
      registers: [registry],
    }),
    queueJobs: new Gauge({
      name: 'patchbay_queue_jobs',
      help: 'Run jobs per run queue and state (waiting, delayed, active, failed), across every process (refreshed at scrape time).',
      labelNames: ['queue', 'state'],
      registers: [registry],
    }),
    workers: new Gauge({
      name: 'patchbay_workers',
      help: 'Processes in the registry by role and state (active, draining, lost, stopped).',
      labelNames: ['role', 'state'],
      registers: [registry],
    }),
    workerRuns: new Gauge({
      name: 'patchbay_worker_running_runs',
      help: 'Runs each live process holds (its load).',
      labelNames: ['worker', 'hostname'],
      registers: [registry],
    }),
    runsRequeued: new Counter({
      name: 'patchbay_runs_requeued_total',
      help: 'Runs queued again after their worker was lost or drained.',
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'patchbay_http_request_duration_seconds',
      help: 'HTTP request latency by route.',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    budgetRefusals: new Counter({
      name: 'patchbay_budget_refusals_total',
      help: 'Runs refused because a budget was exhausted, by scope (global or a repository id) and limit.',
      labelNames: ['scope', 'limit'],
      registers: [registry],
    }),
    gateDuration: new Histogram({
      name: 'patchbay_gate_duration_seconds',
      help: 'Validation gates of repository runs (install, build, typecheck, lint, test) by outcome.',
      labelNames: ['gate', 'status'],
      buckets: [0.5, 1, 5, 15, 60, 300, 900],
      registers: [registry],
    }),
    callbackDeliveries: new Counter({
      name: 'patchbay_callback_attempts_total',
      help: 'Callback delivery attempts by outcome.',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    reactions: new Counter({
      name: 'patchbay_reaction_attempts_total',
      help: 'Tries of reactions to runs (callback, …) by reaction and outcome (succeeded, retrying, failed).',
      labelNames: ['reaction', 'outcome'],
      registers: [registry],
    }),
  };
}
