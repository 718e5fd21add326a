import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  CreateScheduleRequest,
  ErrorBody,
  Schedule,
  ScheduleIdParams,
  ScheduleList,
  ScheduleWithFires,
  UpdateScheduleRequest,
} from '../../contracts/index.js';
import type { ServerDeps } from '../deps.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody };

export function scheduleRoutes(deps: ServerDeps): FastifyPluginAsyncZod {
  const { schedules } = deps.engine;
  return async (app) => {
    app.post(
      '/v1/schedules',
      {
        schema: {
          tags: ['schedules'],
          summary: 'Create a schedule: a run started at every tick of a cron expression',
          description:
            'Each tick starts one run, however many servers share the store. A tick whose run is refused (e.g. BUDGET_EXCEEDED) is recorded as skipped. After `maxConsecutiveFailures` runs in a row failed or timed out, the schedule pauses itself with `pausedReason`.',
          body: CreateScheduleRequest,
          response: { 201: Schedule, ...errors },
        },
      },
      async (request, reply) => reply.code(201).send(await schedules.create(request.body)),
    );
    app.get(
      '/v1/schedules',
      {
        schema: {
          tags: ['schedules'],
          summary: 'List schedules, oldest first',
          response: { 200: ScheduleList, ...errors },
        },
      },
      async () => ({ schedules: await schedules.list() }),
    );
    app.get(
      '/v1/schedules/:id',
      {
        schema: {
          tags: ['schedules'],
          summary: 'Get a schedule with its latest fires',
          params: ScheduleIdParams,
          response: { 200: ScheduleWithFires, ...errors },
        },
      },
      async (request) => schedules.get(request.params.id),
    );
    app.patch(
      '/v1/schedules/:id',
      {
        schema: {
          tags: ['schedules'],
          summary: 'Change a schedule; `enabled: true` also clears a pause and its failure count',
          params: ScheduleIdParams,
          body: UpdateScheduleRequest,
          response: { 200: Schedule, ...errors },
        },
      },
      async (request) => schedules.update(request.params.id, request.body),
    );
    app.delete(
      '/v1/schedules/:id',
      {
        schema: {
          tags: ['schedules'],
          summary: 'Delete a schedule and its fire history (its runs stay)',
          params: ScheduleIdParams,
          response: { 204: z.null(), ...errors },
        },
      },
      async (request, reply) => {
        await schedules.remove(request.params.id);
        return reply.code(204).send(null);
      },
    );
  };
}
