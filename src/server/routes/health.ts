import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ErrorBody, HealthBody, QueueHealth } from '../../contracts/index.js';
import type { ServerDeps } from '../deps.js';

export function healthRoutes(deps: ServerDeps): FastifyPluginAsyncZod {
  return async (app) => {
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
          summary: 'Readiness: 200 only when the store answers',
          response: { 200: z.object({ status: z.literal('ready') }), 503: ErrorBody },
        },
      },
      async () => {
        await deps.store.ping();
        return { status: 'ready' as const };
      },
    );

    app.get(
      '/health/queue',
      {
        schema: {
          tags: ['health'],
          summary: 'Runs holding a slot, waiting for one, and the limit',
          response: { 200: QueueHealth },
        },
      },
      async () => {
        const { running, waiting, limit } = await deps.engine.queueStats();
        return {
          status: 'ok' as const,
          service: 'patchbay' as const,
          queue: { running, waiting, limit, available: Math.max(0, limit - running) },
          warning: waiting > 0 ? `all ${limit} slots are busy; ${waiting} run(s) waiting` : null,
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
