/**
 * Who may use the MCP server and what it lets them do: `/mcp` is behind the same bearer token
 * and Host/Origin guard as the rest of the API, and read-only mode (over HTTP and stdio)
 * neither lists nor runs a tool that changes anything.
 */
import { request as httpRequest } from 'node:http';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupAll, startServer, tempDir, type Json, type ServerHandle } from './helpers.js';
import { call, closeClients, connectHttp, connectStdio, ok, TOKEN } from './mcp-helpers.js';

const READ_TOOLS = [
  'get_run',
  'list_runs',
  'wait_for_run',
  'read_events',
  'get_diff',
  'list_repos',
  'list_proposals',
];

const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: { name: 'raw', version: '1' },
  },
};

/** A raw POST /mcp (node:http, so that Host can be anything), answering status and body. */
function postMcp(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: Json; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${url}/mcp`,
      {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => {
          let body: Json = text;
          try {
            body = JSON.parse(text);
          } catch {
            // an SSE answer stays text
          }
          resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
        });
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(initialize));
  });
}

afterAll(async () => {
  await closeClients();
  await cleanupAll();
});

describe('/mcp is guarded like every other route', () => {
  let withTokens: ServerHandle;
  let open: ServerHandle;
  beforeAll(async () => {
    [withTokens, open] = await Promise.all([
      startServer({ env: { PATCHBAY_API_TOKENS: TOKEN }, token: TOKEN }),
      startServer(),
    ]);
  });

  it('refuses a client without a valid bearer token with 401', async () => {
    const none = await postMcp(withTokens.url, {});
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('UNAUTHORIZED');
    const wrong = await postMcp(withTokens.url, { authorization: 'Bearer not-the-token' });
    expect(wrong.status).toBe(401);
    // The SDK client reports the HTTP status and our error body.
    const refused = await connectHttp(withTokens.url).then(
      () => null,
      (err: Json) => err,
    );
    expect(refused?.code).toBe(401);
    expect(String(refused?.message)).toContain('UNAUTHORIZED');
    const client = await connectHttp(withTokens.url, { authorization: `Bearer ${TOKEN}` });
    expect((await ok(client, 'list_runs')).runs).toEqual([]);
  });

  it('is stateless: GET and DELETE answer 405 with the stable code', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await withTokens.api.request(method, '/mcp', undefined, {
        authorization: `Bearer ${TOKEN}`,
      });
      expect(res.status).toBe(405);
      expect(res.headers.get('allow')).toBe('POST');
      expect(res.body.error.code).toBe('MCP_METHOD_NOT_ALLOWED');
    }
  });

  it('refuses DNS-rebinding names (421) and foreign web pages (403) (no tokens, loopback only)', async () => {
    const rebound = await postMcp(open.url, { host: `evil.example:${open.port}` });
    expect(rebound.status).toBe(421);
    expect(rebound.body.error.code).toBe('HOST_NOT_ALLOWED');
    const page = await postMcp(open.url, { origin: 'http://evil.example' });
    expect(page.status).toBe(403);
    expect(page.body.error.code).toBe('ORIGIN_NOT_ALLOWED');
    // The server's own loopback name is answered: an SSE stream with the initialize result.
    const own = await postMcp(open.url, { host: `localhost:${open.port}` });
    expect(own.status).toBe(200);
    expect(String(own.body)).toContain('"serverInfo"');
  });
});

let readOnlyServer: ServerHandle;
const readOnlyDir = tempDir();

describe.each([
  {
    name: 'Streamable HTTP with PATCHBAY_MCP_READ_ONLY',
    connect: async () => {
      readOnlyServer = await startServer({
        env: { PATCHBAY_API_TOKENS: TOKEN, PATCHBAY_MCP_READ_ONLY: '1' },
        token: TOKEN,
      });
      return connectHttp(readOnlyServer.url, { authorization: `Bearer ${TOKEN}` });
    },
  },
  {
    name: 'stdio with --read-only',
    connect: () => connectStdio({ PATCHBAY_DATA_DIR: readOnlyDir }, ['--read-only']),
  },
])('read-only mode over $name', ({ connect }) => {
  let client: Client;
  beforeAll(async () => {
    client = await connect();
  });

  it('lists only tools that change nothing', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([...READ_TOOLS].sort());
    for (const tool of tools) expect(tool.annotations?.readOnlyHint).toBe(true);
  });

  it('refuses the others with MCP_TOOL_READ_ONLY, and nothing happens', async () => {
    for (const [name, args] of [
      ['start_run', { command: ['true'] }],
      ['cancel_run', { id: 'run_x' }],
      ['register_repo', { path: '/tmp' }],
      ['start_optimization', { repoId: 'repo_x' }],
      ['send_message', { conversationId: 'conv_x', prompt: 'hi' }],
    ] as const) {
      const outcome = await call(client, name, args);
      expect(outcome.code, `${name}: ${outcome.text}`).toBe('MCP_TOOL_READ_ONLY');
    }
    expect((await ok(client, 'list_runs')).runs).toEqual([]);
    expect((await ok(client, 'list_repos')).repos).toEqual([]);
  });
});

describe('a server that stops', () => {
  it('ends a wait in progress at once instead of holding it to its 25 s limit', async () => {
    const server = await startServer({ env: { PATCHBAY_API_TOKENS: TOKEN }, token: TOKEN });
    const client = await connectHttp(server.url, { authorization: `Bearer ${TOKEN}` });
    const run = await ok(client, 'start_run', { command: ['sleep', '60'] });
    const started = performance.now();
    const waiting = call(client, 'wait_for_run', { id: run.id });
    await server.api.waitForProcess(run.id);
    await server.stop();
    const outcome = await waiting;
    expect(performance.now() - started).toBeLessThan(15_000);
    // The shutdown interrupts the run first; the wait sees that end and answers it.
    expect(outcome.value).toMatchObject({ done: true, status: 'interrupted' });
  });
});
