import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CompatLayer, ResolvedConfig } from '../../config/index.js';
import type { Engine, Reaction } from '../../engine/index.js';
import type { Logger, Metrics } from '../../observability/index.js';
import type { Store } from '../../store/index.js';
import type { ServerDeps } from '../deps.js';
import { ccExecutorRoutes } from './cc-executor/index.js';
import { cursorRunnerCredential, registerCursorRunner } from './cursor-runner/index.js';
import { cursorRunnerReaction } from './cursor-runner/reaction.js';

/**
 * The compatibility layers PATCHBAY_COMPAT turns on, each in its own folder: clients of the
 * services Patchbay replaces keep working unchanged (docs/compat.md). None is on by default.
 */
const layers: Record<CompatLayer, (app: FastifyInstance, deps: ServerDeps) => Promise<void>> = {
  'cc-executor': async (app, deps) => {
    await app.register(ccExecutorRoutes(deps));
  },
  'cursor-runner': registerCursorRunner,
};

/** Off by default: a layer not listed has no routes (404) and no WebSocket upgrade. */
export async function registerCompat(app: FastifyInstance, deps: ServerDeps): Promise<void> {
  for (const name of deps.config.compat) {
    await layers[name](app, deps);
    deps.log.info({ layer: name }, 'compatibility layer enabled');
  }
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

/**
 * The reactions of the enabled layers, for the engine of every process sharing the store (a
 * server, an API node, a worker): any of them may take a reaction's row. `bind` hands them the
 * engine once it is made.
 */
export function compatReactions(options: {
  config: ResolvedConfig;
  store: Store;
  log: Logger;
  metrics: Metrics;
}): { reactions: Reaction[]; bind(engine: Engine): void } {
  let bound: Engine | undefined;
  const engine = (): Engine => {
    if (!bound) throw new Error('compat reactions used before the engine was made');
    return bound;
  };
  const reactions = options.config.compat.includes('cursor-runner')
    ? [
        cursorRunnerReaction({
          ...options,
          log: options.log.child({ compat: 'cursor-runner' }),
          engine,
        }),
      ]
    : [];
  return {
    reactions,
    bind(e) {
      bound = e;
    },
  };
}
