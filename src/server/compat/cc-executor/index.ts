import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Logger } from '../../../observability/index.js';
import type { ServerDeps } from '../../deps.js';
import { ccExecutorRestRoutes } from './rest.js';
import { handleCcExecutorSession, type CcExecutorShared } from './session.js';

/**
 * The cc_executor layer (PATCHBAY_COMPAT=cc-executor): its WebSocket JSON-RPC at `/ws/mcp`
 * and `/ws`, `GET /healthz` and its REST layer. Tokens, the origin guard and rate limits
 * apply as to every route (the app's onRequest hook runs before the upgrade).
 */
export function ccExecutorRoutes(deps: ServerDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const shared: CcExecutorShared = { deps, sessions: new Set() };
    for (const path of ['/ws/mcp', '/ws']) {
      app.get(path, { websocket: true, schema: { hide: true } }, (socket, request) => {
        handleCcExecutorSession(socket, shared, request.clientKey, request.log as Logger);
      });
    }
    await app.register(ccExecutorRestRoutes(deps));
  };
}
