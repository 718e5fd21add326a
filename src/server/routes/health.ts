import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  ErrorBody,
  isPatchbayError,
  PatchbayError,
  HealthBody,
  QueueHealth,
  WorkerList,
} from '../../contracts/index.js';
import type { ServerDeps } from '../deps.js';
import { errorBody } from '../errors.js';

/**
 * While the shared queue's Redis is away, runs can still be created (their jobs wait and are
 * added once it is back) but none starts: not ready.
 * Returns QUEUE_UNAVAILABLE with the reason and since when, or null while Redis answers.
 */
function queueUnavailable(deps: ServerDeps): PatchbayError | null {
  const state = deps.queueConnection();
  if (state.up) return null;
  return new PatchbayError(
    'QUEUE_UNAVAILABLE',
    `Redis (PATCHBAY_QUEUE_URL) does not answer${state.downSince ? ` since ${state.downSince}` : ''}: ${state.reason ?? 'not connected'}; reconnecting. Runs created meanwhile wait and start once it is back.`,
    { reason: state.reason, downSince: state.downSince },
  );
}

export function healthRoutes(deps: ServerDeps): FastifyPluginAsyncZod {
  return async (app) => {
    /** The code /ready last answered 503 with, or null while ready. */
    let notReady: string | null = null;
    app.get(
      '/health',
      { schema: { tags: ['health'], summary: 'Liveness', response: { 200: HealthBody } } },
      async () => ({ status: 'ok' as const, service: 'patchbay' as const, version: deps.version }),
    );

    app.get(
      '/ready',
      {
        schema: {
          tags: ['health'],
          summary:
            'Readiness: 200 only when the store and, with PATCHBAY_QUEUE_URL, Redis answer; 503 says which does not and why',
          response: { 200: z.object({ status: z.literal('ready') }), 503: ErrorBody },
        },
      },
      async (request, reply) => {
        try {
          await deps.store.ping();
          const queueDown = queueUnavailable(deps);
          if (queueDown) throw queueDown;
        } catch (err) {
          if (!isPatchbayError(err) || err.status !== 503) throw err;
          // Probes come every few seconds: log when readiness changes, not on every probe.
          if (notReady !== err.code)
            deps.log.warn({ code: err.code, reason: err.message }, 'not ready');
          notReady = err.code;
          return reply.code(503).send(errorBody(err, request.id));
        }
        if (notReady !== null) deps.log.warn({ was: notReady }, 'ready again');
        notReady = null;
        return { status: 'ready' as const };
      },
    );

    app.get(
      '/health/queue',
      {
        schema: {
          tags: ['health'],
          summary:
            'Runs holding a slot, waiting for one, and the limit; 503 while the queue (Redis) does not answer',
          response: { 200: QueueHealth, 503: ErrorBody },
        },
      },
      async (request, reply) => {
        // Counting would wait for Redis to come back: say at once that it is away (logged by
        // the connection itself, once, not here on every probe).
        const queueDown = queueUnavailable(deps);
        if (queueDown) return reply.code(503).send(errorBody(queueDown, request.id));
        const { running, waiting, limit } = await deps.engine.queueStats();
        const queues = await deps.engine.queueCounts();
        const workers = (await deps.engine.listWorkers())
          .filter((w) => w.state === 'active' || w.state === 'draining')
          .map((w) => ({
            id: w.id,
            hostname: w.hostname,
            role: w.role,
            state: w.state,
            queues: w.queues,
            running: w.running.length,
            concurrency: w.concurrency,
          }));
        const takers = workers.filter((w) => w.state === 'active' && w.queues.length > 0);
        const idle = Object.entries(queues)
          .filter(([name, c]) => c.waiting > 0 && !takers.some((w) => w.queues.includes(name)))
          .map(([name]) => name);
        const warning =
          idle.length > 0
            ? `no live worker takes queue ${idle.join(', ')}, where runs are waiting`
            : waiting > 0
              ? `all ${limit} slots here are busy; ${waiting} run(s) waiting`
              : null;
        return {
          status: 'ok' as const,
          service: 'patchbay' as const,
          queue: {
            running,
            waiting,
            limit,
            available: Math.max(0, limit - running),
            maxConcurrent: limit,
          },
          queues,
          workers,
          warning,
        };
      },
    );

    app.get(
      '/v1/workers',
      {
        schema: {
          tags: ['workers'],
          summary: 'Servers and workers: role, host, queues, heartbeat, the runs each holds',
          response: { 200: WorkerList },
        },
      },
      async () => {
        const now = Date.now();
        const workers = await deps.engine.listWorkers();
        return {
          workers: workers.map((w) => ({
            ...w,
            heartbeatAgeMs: Math.max(0, now - Date.parse(w.heartbeatAt)),
          })),
        };
      },
    );

    app.get(
      '/metrics',
      { schema: { tags: ['health'], summary: 'Prometheus metrics', hide: false } },
      async (_request, reply) => {
        await deps.engine.refreshMetrics();
        const text = await deps.metrics.registry.metrics();
        return reply.type(deps.metrics.registry.contentType).send(text);
      },
    );
  };
}
