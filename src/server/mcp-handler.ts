import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { PatchbayError, type RunEvent } from '../contracts/index.js';
import type { Engine } from '../engine/index.js';
import { createMcpServer, localBackend, type McpBackend } from '../mcp/index.js';
import type { Logger } from '../observability/index.js';
import type { ServerDeps } from './deps.js';
import { errorBody } from './errors.js';
import { securityHeaders } from './security.js';

/**
 * A `fetch` answered by this app's own routes (Fastify inject), with the caller's credentials:
 * the MCP tools get exactly what the HTTP API gives that caller (auth, rate limits, budgets,
 * validation, error codes), with no socket and no second implementation.
 */
function injectFetch(
  app: FastifyInstance,
  caller: { headers: Record<string, string>; remoteAddress?: string },
): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((value, name) => (headers[name] = value));
    const res = await app.inject({
      method: (init?.method ?? 'GET') as HTTPMethods,
      url: `${url.pathname}${url.search}`,
      headers: { ...headers, ...caller.headers },
      ...(typeof init?.body === 'string' ? { payload: init.body } : {}),
      ...(caller.remoteAddress ? { remoteAddress: caller.remoteAddress } : {}),
    });
    const out = new Headers();
    for (const [name, value] of Object.entries(res.headers)) {
      if (value !== undefined)
        out.set(name, Array.isArray(value) ? value.join(', ') : String(value));
    }
    const empty = res.statusCode === 204 || res.statusCode === 304;
    return new Response(empty ? null : new Uint8Array(res.rawPayload), {
      status: res.statusCode,
      headers: out,
    });
  }) as typeof fetch;
}

/** A run's live events from the engine's cursor, until its end or until `signal` aborts. */
async function* followRun(
  engine: Engine,
  runId: string,
  after: number,
  signal: AbortSignal,
): AsyncGenerator<RunEvent> {
  if (signal.aborted) return;
  const cursor = await engine.openCursor(runId, after);
  const stop = (): void => cursor.close();
  signal.addEventListener('abort', stop, { once: true });
  try {
    for (;;) {
      const batch = await cursor.next();
      if (!batch) return;
      yield* batch;
    }
  } finally {
    signal.removeEventListener('abort', stop);
    cursor.close();
  }
}

/**
 * The MCP backend of this process's own API, for a caller with these credentials
 * (`authorization` as the caller sent it; the CLI's embedded server passes its token's).
 */
export function localMcpBackend(
  app: FastifyInstance,
  engine: Engine,
  caller: { authorization?: string | undefined; requestId?: string; remoteAddress?: string } = {},
): McpBackend {
  const headers: Record<string, string> = {};
  if (caller.authorization) headers.authorization = caller.authorization;
  if (caller.requestId) headers['x-request-id'] = caller.requestId;
  return localBackend({
    fetch: injectFetch(app, {
      headers,
      ...(caller.remoteAddress ? { remoteAddress: caller.remoteAddress } : {}),
    }),
    follow: (runId, after, signal) => followRun(engine, runId, after, signal),
  });
}

/**
 * Answers one POST /mcp (see mcp.ts, which loads this module with the first such request):
 * its own MCP server and transport, stateless, the answer an SSE stream.
 */
export async function handleMcpPost(
  app: FastifyInstance,
  deps: ServerDeps,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const log = request.log as Logger;
  const mcp = createMcpServer({
    backend: localMcpBackend(app, deps.engine, {
      authorization: request.headers.authorization,
      requestId: request.id,
      remoteAddress: request.ip,
    }),
    version: deps.version,
    readOnly: deps.config.mcpReadOnly,
    waitLimitMs: deps.config.mcpWaitLimitMs,
    log,
  });
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  reply.hijack();
  const res = reply.raw;
  for (const [name, value] of Object.entries(securityHeaders)) res.setHeader(name, value);
  res.setHeader('x-request-id', request.id);
  const close = (): void => {
    deps.openStreams.delete(close);
    void transport.close().catch(() => undefined);
    void mcp.close().catch(() => undefined);
  };
  // A server shutting down ends waits in progress rather than holding them to their limit.
  deps.openStreams.add(close);
  res.once('close', close);
  try {
    await mcp.connect(transport);
    await transport.handleRequest(request.raw, res, request.body);
  } catch (err) {
    log.error({ err }, 'MCP request failed');
    if (!res.headersSent) {
      res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(errorBody(new PatchbayError('INTERNAL_ERROR'), request.id)));
    } else {
      res.end();
    }
  }
}
