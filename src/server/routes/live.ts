import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ErrorBody, LiveEvent, LiveEventsQuery, PatchbayError } from '../../contracts/index.js';
import type { ServerDeps } from '../deps.js';
import { createLiveFeed } from '../live-events.js';
import { securityHeaders } from '../security.js';
import { wantsEventStream } from '../sse.js';

/** `GET /v1/events`: the live feed of run transitions (see live-events.ts). */
export function liveRoutes(deps: ServerDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const feed = createLiveFeed({
      events: deps.engine.events,
      complete: !deps.config.queueUrl,
      ...(deps.engine.broadcast
        ? { relay: { broadcast: deps.engine.broadcast, instanceId: deps.engine.instanceId } }
        : {}),
      extraHeaders: securityHeaders,
      openStreams: deps.openStreams,
    });
    app.get(
      '/v1/events',
      {
        schema: {
          tags: ['runs'],
          summary: 'What happens to runs, live (SSE)',
          description: [
            'A `text/event-stream` of run transitions as this server announces them: each message is named after its type (`runCreated`, `runStarted`, `runPaused`, `runResumed`, `runRequeued`, `runFinished`, `proposalCreated`) and its data is a LiveEvent (the 200 schema) with the run as stored after the transition.',
            'The stream starts with `event: ready` (data `{ "complete": boolean }`), sends a `: keep-alive` comment every 15 s, and has no replay: a client that reconnects re-reads what it shows.',
            'A client that stops reading gets at most 64 messages (256 KiB) kept for it; past that they are dropped and it gets one `event: overflow` when it reads again (re-read what you show).',
            'With PATCHBAY_QUEUE_URL (scale-out), every process relays its transitions to the others over Redis, so a run that moves on another process’s worker is announced here too (`complete: true`). Relayed messages are fire and forget: a client that was disconnected re-reads what it shows.',
            'Needs `Accept: text/event-stream` (EventSource sends it); without it the answer is 406 EVENTS_STREAM_ONLY. Authenticated like every route: the bearer token or the dashboard session cookie.',
          ].join('\n\n'),
          querystring: LiveEventsQuery,
          response: {
            200: LiveEvent,
            400: ErrorBody,
            401: ErrorBody,
            403: ErrorBody,
            429: ErrorBody,
          },
        },
      },
      async (request, reply) => {
        if (!wantsEventStream(request)) throw new PatchbayError('EVENTS_STREAM_ONLY');
        feed.stream(request, reply, request.query);
        return reply;
      },
    );
  };
}
