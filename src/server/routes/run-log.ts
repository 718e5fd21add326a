import { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  LogLines,
  LogLinesQuery,
  LogSearchQuery,
  LogSearchResult,
  RunIdParams,
} from '../../contracts/index.js';
import type { ServerDeps } from '../deps.js';
import { runLogSlice, searchRunLog } from '../run-log.js';
import { runRouteErrors } from './run-reply.js';

/**
 * A run's whole log as text (see LogLine for how lines are numbered): search it, read lines
 * around a line number (the dashboard's `?line=` permalinks), or download it raw. Each reads
 * the stored events page by page, so a long log costs time, not memory.
 */
export function runLogRoutes(deps: ServerDeps): FastifyPluginAsyncZod {
  const { engine } = deps;
  const pages = (id: string) => (after: number, limit: number) =>
    engine.listEvents(id, after, limit);
  return async (app) => {
    app.get(
      '/v1/runs/:id/log/search',
      {
        schema: {
          tags: ['runs'],
          summary: "Search a run's whole log (case-insensitive text)",
          description:
            'The log is the text of the run’s `output` events, every stream, in seq order, split into lines numbered from 1. Answers the matching lines (number, text, the seq they start in), at most `limit`.',
          params: RunIdParams,
          querystring: LogSearchQuery,
          response: { 200: LogSearchResult, ...runRouteErrors },
        },
      },
      async (request) => {
        await engine.getRun(request.params.id);
        return searchRunLog(pages(request.params.id), request.query.q, request.query.limit);
      },
    );

    app.get(
      '/v1/runs/:id/log/lines',
      {
        schema: {
          tags: ['runs'],
          summary: "Lines of a run's log by number (e.g. around a search match)",
          params: RunIdParams,
          querystring: LogLinesQuery,
          response: { 200: LogLines, ...runRouteErrors },
        },
      },
      async (request) => {
        await engine.getRun(request.params.id);
        return runLogSlice(pages(request.params.id), request.query.start, request.query.count);
      },
    );

    app.get(
      '/v1/runs/:id/log',
      {
        schema: {
          tags: ['runs'],
          summary: "A run's whole log as plain text (its output, every stream, in order)",
          params: RunIdParams,
          response: { 200: z.string(), ...runRouteErrors },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        await engine.getRun(id);
        async function* text(): AsyncGenerator<string> {
          let after = 0;
          for (;;) {
            const page = await engine.listEvents(id, after, 1000);
            for (const e of page.events) {
              if (e.type === 'output' && typeof e.data.text === 'string') yield e.data.text;
            }
            if (page.events.length === 0 || page.lastSeq <= after) return;
            after = page.lastSeq;
          }
        }
        return (
          reply
            .type('text/plain; charset=utf-8')
            .header('content-disposition', `inline; filename="${id}.log"`)
            // A stream skips the response serializer; the schema documents what it carries.
            .send(Readable.from(text()) as unknown as string)
        );
      },
    );
  };
}
