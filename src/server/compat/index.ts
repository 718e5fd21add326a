import type { FastifyInstance } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { CompatLayer } from '../../config/index.js';
import type { ServerDeps } from '../deps.js';
import { ccExecutorRoutes } from './cc-executor/index.js';

/**
 * Compatibility layers, one folder each, registered only when PATCHBAY_COMPAT lists them (off
 * by default: their routes then answer 404, their WebSocket upgrades are refused).
 */
const layers: Partial<Record<CompatLayer, (deps: ServerDeps) => FastifyPluginAsyncZod>> = {
  'cc-executor': ccExecutorRoutes,
};

export async function registerCompat(app: FastifyInstance, deps: ServerDeps): Promise<void> {
  for (const name of deps.config.compat) {
    const layer = layers[name];
    if (!layer) {
      deps.log.warn({ layer: name }, 'compatibility layer not available in this build');
      continue;
    }
    await app.register(layer(deps));
    deps.log.info({ layer: name }, 'compatibility layer enabled');
  }
}
