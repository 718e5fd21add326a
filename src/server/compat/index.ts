import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerDeps } from '../deps.js';
import { cursorRunnerCredential, registerCursorRunner } from './cursor-runner/index.js';

/**
 * The compatibility layers PATCHBAY_COMPAT turns on, each in its own folder: clients of the
 * services Patchbay replaces keep working unchanged (docs/compat.md). None is on by default.
 */
export async function registerCompat(app: FastifyInstance, deps: ServerDeps): Promise<void> {
  if (deps.config.compat.includes('cursor-runner')) await registerCursorRunner(app, deps);
}

/**
 * Whether a request carries a compatibility layer's own credential in place of the bearer
 * token (only on that layer's paths, only when its secret is configured).
 */
export function hasCompatCredential(request: FastifyRequest, deps: ServerDeps): boolean {
  return (
    deps.config.compat.includes('cursor-runner') &&
    cursorRunnerCredential(request, deps.config.cursorRunnerWebhookSecret)
  );
}
