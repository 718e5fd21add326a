import type { FastifyInstance } from 'fastify';
import { PatchbayError } from '../contracts/index.js';
import type { McpBackend } from '../mcp/index.js';
import type { Engine } from '../engine/index.js';
import type { ServerDeps } from './deps.js';
import type * as McpHandler from './mcp-handler.js';

/**
 * The MCP handler and the SDK it runs on (~120 KB of code with src/mcp) load with the first
 * POST /mcp, not at every start (docs/architecture.md, "Memory").
 */
const handlerModule = (): Promise<typeof McpHandler> => import('./mcp-handler.js');

/**
 * The MCP backend of this process's own API, for a caller with these credentials
 * (`authorization` as the caller sent it; the CLI's embedded server passes its token's).
 */
export async function loadLocalMcpBackend(
  app: FastifyInstance,
  engine: Engine,
  caller: { authorization?: string | undefined; requestId?: string; remoteAddress?: string } = {},
): Promise<McpBackend> {
  return (await handlerModule()).localMcpBackend(app, engine, caller);
}

/**
 * MCP over Streamable HTTP at `/mcp`, stateless: each POST gets its own server and transport
 * (no session to keep, so any API node answers any call), and the answer is an SSE stream so
 * a long wait_for_run can send progress notifications before its result. The app's
 * `onRequest` hook has already applied the Host/Origin guard (DNS rebinding) and the bearer
 * token by the time the handler runs.
 */
export function registerMcpRoute(app: FastifyInstance, deps: ServerDeps): void {
  app.post('/mcp', { schema: { hide: true } }, async (request, reply) => {
    const { handleMcpPost } = await handlerModule();
    await handleMcpPost(app, deps, request, reply);
  });

  const notAllowed = async (): Promise<never> => {
    throw new PatchbayError('MCP_METHOD_NOT_ALLOWED');
  };
  app.get('/mcp', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('allow', 'POST');
    return notAllowed();
  });
  app.delete('/mcp', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('allow', 'POST');
    return notAllowed();
  });
}
