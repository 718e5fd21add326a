import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  CallbackDeliveryList,
  ChangedFileList,
  CreateRunRequest,
  ListEventsQuery,
  ListRunsQuery,
  Run,
  RunEventList,
  RunIdParams,
  RunList,
  RunReactionList,
} from '../../contracts/index.js';
import type { ServerDeps } from '../deps.js';
import { securityHeaders } from '../security.js';
import { replyWithRun, runRouteErrors } from './run-reply.js';
import { resumePoint, streamRunEvents, wantsEventStream } from '../sse.js';

export function runRoutes(deps: ServerDeps): FastifyPluginAsyncZod {
  const { engine } = deps;
  return async (app) => {
    app.post(
      '/v1/runs',
      {
        schema: {
          tags: ['runs'],
          summary: 'Start a run',
          description:
            'Queues a run and answers 202 with it; with `wait: true`, answers 200 once the run has ended.',
          body: CreateRunRequest,
          response: { 200: Run, 202: Run, ...runRouteErrors },
        },
      },
      async (request, reply) => {
        deps.runCreateLimiter.hit(request.clientKey);
        const run = await engine.createRun(request.body);
        return replyWithRun(engine, request, reply, run, request.body.wait);
      },
    );

    app.get(
      '/v1/runs',
      {
        schema: {
          tags: ['runs'],
          summary: 'List runs, newest first',
          querystring: ListRunsQuery,
          response: { 200: RunList, ...runRouteErrors },
        },
      },
      async (request) => engine.listRuns(request.query),
    );

    app.get(
      '/v1/runs/:id',
      {
        schema: {
          tags: ['runs'],
          summary: 'Get a run',
          params: RunIdParams,
          response: { 200: Run, ...runRouteErrors },
        },
      },
      async (request) => engine.getRun(request.params.id),
    );

    app.get(
      '/v1/runs/:id/events',
      {
        schema: {
          tags: ['runs'],
          summary: "A run's events (JSON page, or SSE with Accept: text/event-stream)",
          description:
            'As JSON: events after `after`, at most `limit`. As SSE: replays from Last-Event-ID or `after`, then streams live, and ends after the terminal status event. The SSE id is the event seq.',
          params: RunIdParams,
          querystring: ListEventsQuery,
          response: { 200: RunEventList, ...runRouteErrors },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        if (wantsEventStream(request)) {
          await streamRunEvents(
            request,
            reply,
            engine,
            id,
            resumePoint(request, request.query.after),
            securityHeaders,
            deps.openStreams,
          );
          return reply;
        }
        return engine.listEvents(id, request.query.after, request.query.limit);
      },
    );

    app.get(
      '/v1/runs/:id/diff',
      {
        schema: {
          tags: ['runs'],
          summary: "A repository run's unified diff against its base commit",
          description:
            'Committed and uncommitted changes, new files included, binary files marked (git --binary format).',
          params: RunIdParams,
          response: { 200: z.string(), ...runRouteErrors },
        },
      },
      async (request, reply) =>
        reply.type('text/x-diff; charset=utf-8').send(await engine.getDiff(request.params.id)),
    );

    app.get(
      '/v1/runs/:id/files',
      {
        schema: {
          tags: ['runs'],
          summary: 'Files a repository run changed, with added and removed line counts',
          params: RunIdParams,
          response: { 200: ChangedFileList, ...runRouteErrors },
        },
      },
      async (request) => ({ files: await engine.getChangedFiles(request.params.id) }),
    );

    app.get(
      '/v1/runs/:id/deliveries',
      {
        schema: {
          tags: ['runs'],
          summary: "Attempts to deliver the run's callback",
          params: RunIdParams,
          response: { 200: CallbackDeliveryList, ...runRouteErrors },
        },
      },
      async (request) => ({ deliveries: await engine.listDeliveries(request.params.id) }),
    );

    app.get(
      '/v1/runs/:id/reactions',
      {
        schema: {
          tags: ['runs'],
          summary: 'What was done because the run ended, with every try',
          description:
            'Reactions (the callback, …) are decided in the same transaction as the run’s end and done once, by whichever process takes them; each try is listed.',
          params: RunIdParams,
          response: { 200: RunReactionList, ...runRouteErrors },
        },
      },
      async (request) => ({ reactions: await engine.listReactions(request.params.id) }),
    );

    const controls = {
      cancel: {
        description:
          'SIGTERM to the process group, SIGKILL after the kill grace; a queued run is cancelled at once. Answers with the run (its final state when it ends within the grace).',
        run: (id: string) => engine.cancelRun(id),
      },
      pause: {
        description:
          'SIGSTOP to the process group. The idle clock stops; the total clock does not.',
        run: (id: string) => engine.pauseRun(id),
      },
      resume: {
        description: 'SIGCONT to the process group.',
        run: (id: string) => engine.resumeRun(id),
      },
      interrupt: {
        description:
          "Ends the agent's current turn (SIGINT to the group) and keeps its session: the run ends `cancelled` with AGENT_TURN_INTERRUPTED and its sessionId can be resumed. Escalates to cancel after the kill grace.",
        run: (id: string) => engine.interruptRun(id),
      },
    } as const;
    for (const [action, control] of Object.entries(controls)) {
      app.post(
        `/v1/runs/:id/${action}`,
        {
          schema: {
            tags: ['runs'],
            summary: `${action[0]!.toUpperCase()}${action.slice(1)} a run`,
            description: control.description,
            params: RunIdParams,
            response: { 200: Run, ...runRouteErrors },
          },
        },
        async (request) => control.run(request.params.id),
      );
    }
  };
}
