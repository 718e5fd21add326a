import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorBody, type Run } from '../../contracts/index.js';
import type { Engine } from '../../engine/index.js';

/** Error answers of the routes that create or act on runs. */
export const runRouteErrors = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  429: ErrorBody,
};

/**
 * Answers a request that started a run: 202 with the run, or, with `wait: true`, 200 once it
 * has ended (the wait stops if the client goes away).
 */
export async function replyWithRun(
  engine: Engine,
  request: FastifyRequest,
  reply: FastifyReply,
  run: Run,
  wait: boolean | undefined,
): Promise<FastifyReply> {
  if (!wait) return reply.code(202).send(run);
  const abort = new AbortController();
  request.raw.once('close', () => abort.abort());
  return reply.code(200).send(await engine.waitForRun(run.id, abort.signal));
}
