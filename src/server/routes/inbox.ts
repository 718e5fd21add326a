import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { type z } from 'zod';
import {
  CreateRunRequest,
  DuplicateRequest,
  ErrorBody,
  GraphFilters,
  GraphQuery,
  HorizonRequest,
  InboxTask,
  ListTasksQuery,
  PatchbayError,
  Run,
  SeedResult,
  SnoozeRequest,
  TaskDetail,
  TaskGraph,
  TaskIdParams,
  TaskList,
  TaskRunRequest,
} from '../../contracts/index.js';
import { INBOX_RUN_ORIGIN } from '../../engine/index.js';
import type { TriageAction } from '../../intake/index.js';
import type { ServerDeps } from '../deps.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody };
const tags = ['inbox'];

/** Tasks, triage, the graph, task → run and demo data (docs/inbox.md). */
export function inboxRoutes(deps: ServerDeps): FastifyPluginAsyncZod {
  const { inbox } = deps.inbox;
  return async (app) => {
    app.get(
      '/v1/tasks',
      {
        schema: {
          tags,
          summary: 'The top tasks of a horizon (today, week, month) or done in the last 7 days',
          description:
            'Highest score first; each task carries its score and the inputs it was made of (`scoreInputs.points`). Default limit 3. With `include=sources`, each task also carries its source links.',
          querystring: ListTasksQuery,
          response: { 200: TaskList, ...errors },
        },
      },
      async (request) => ({
        tasks: await inbox.list({
          ...(request.query.horizon ? { horizon: request.query.horizon } : {}),
          ...(request.query.state ? { state: request.query.state } : {}),
          ...(request.query.include ? { include: request.query.include } : {}),
          limit: request.query.limit,
        }),
      }),
    );
    app.get(
      '/v1/tasks/:id',
      {
        schema: {
          tags,
          summary: 'A task with its sources, audit events and merges',
          params: TaskIdParams,
          response: { 200: TaskDetail, ...errors },
        },
      },
      async (request) => inbox.get(request.params.id),
    );
    const triageRoute = <B extends z.ZodType>(
      action: string,
      summary: string,
      body: B | undefined,
      toAction: (body: z.output<B>) => TriageAction,
    ): void => {
      app.post(
        `/v1/tasks/:id/${action}`,
        {
          schema: {
            tags,
            summary,
            params: TaskIdParams,
            ...(body ? { body } : {}),
            response: { 200: InboxTask, ...errors },
          },
        },
        async (request) => inbox.triage(request.params.id, toAction(request.body as z.output<B>)),
      );
    };
    triageRoute('accept', 'Accept a task', undefined, () => ({ action: 'accept' }));
    triageRoute('snooze', 'Snooze a task until a time', SnoozeRequest, (b) => ({
      action: 'snooze',
      until: b.until,
    }));
    triageRoute('decline', 'Decline a task', undefined, () => ({ action: 'decline' }));
    triageRoute('complete', 'Mark a task done', undefined, () => ({ action: 'complete' }));
    triageRoute(
      'undo',
      'Undo the last triage action (or the merge that made it a duplicate)',
      undefined,
      () => ({ action: 'undo' }),
    );
    triageRoute(
      'duplicate',
      'Mark a task a duplicate of another (a merge: undoable)',
      DuplicateRequest,
      (b) => ({ action: 'duplicate', of: b.of }),
    );
    triageRoute(
      'horizon',
      'Override the proposed horizon (null: back to it)',
      HorizonRequest,
      (b) => ({ action: 'horizon', horizon: b.horizon }),
    );
    app.post(
      '/v1/merges/:id/undo',
      {
        schema: {
          tags,
          summary: 'Undo a merge: the merged task and its sources come back',
          params: TaskIdParams,
          response: { 200: TaskDetail, ...errors },
        },
      },
      async (request) => inbox.undoMerge(request.params.id),
    );
    app.get(
      '/v1/graph',
      {
        schema: {
          tags,
          summary: 'Tasks and how they relate, in lanes past7d, today, week, month',
          querystring: GraphQuery,
          response: { 200: TaskGraph, ...errors },
        },
      },
      async (request) => inbox.graph(request.query),
    );
    app.get(
      '/v1/graph/filters',
      {
        schema: {
          tags,
          summary: 'What the graph can be filtered by',
          response: { 200: GraphFilters, ...errors },
        },
      },
      async () => inbox.filters(),
    );
    app.post(
      '/v1/tasks/:id/run',
      {
        schema: {
          tags,
          summary: 'Start a run whose prompt is built from the task',
          description:
            "The run's end updates the task: linked run, pull request link, and done on success when `completeOnSuccess`.",
          params: TaskIdParams,
          body: TaskRunRequest,
          response: { 201: Run, 422: ErrorBody, 429: ErrorBody, ...errors },
        },
      },
      async (request, reply) => {
        deps.runCreateLimiter.hit(request.clientKey);
        const { completeOnSuccess, instructions, ...fields } = request.body;
        const prompt = await inbox.promptFor(request.params.id, instructions);
        const parsed = CreateRunRequest.safeParse({ ...fields, prompt });
        if (!parsed.success) {
          throw new PatchbayError(
            'VALIDATION_FAILED',
            parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
          );
        }
        const run = await deps.engine.createRun(parsed.data, { origin: INBOX_RUN_ORIGIN });
        await inbox.linkRun(request.params.id, run.id, completeOnSuccess ?? false);
        return reply.code(201).send(run);
      },
    );
    app.post(
      '/v1/dev/seed',
      {
        schema: {
          tags,
          summary: 'Fill the inbox with demo data (PATCHBAY_INBOX_DEV_SEED only)',
          response: { 201: SeedResult, ...errors },
        },
      },
      async (_request, reply) => {
        if (!deps.config.inboxDevSeed) throw new PatchbayError('INBOX_DEV_SEED_DISABLED');
        return reply.code(201).send(await inbox.seed());
      },
    );
  };
}
