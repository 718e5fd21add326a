/**
 * MCP end-to-end helpers: the official SDK client connected the ways a user connects one, to
 * `bin/patchbay.js mcp` over stdio (embedded, or talking to a server) and to a real
 * `patchbay serve` over Streamable HTTP. Nothing here imports from src/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import { assertBuilt, BIN, cleanEnv, gitIn, ROOT, type Json } from './helpers.js';

export const TOKEN = 'mcp-e2e-token-0123456789';
export const FAKE_CLAUDE = join(ROOT, 'test', 'fixtures', 'agents', 'fake-claude.sh');

const clients = new Set<Client>();

/** `patchbay mcp` over stdio with this environment (a clean one plus `env`). */
export async function connectStdio(env: Record<string, string>, args: string[] = []) {
  assertBuilt();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'mcp', ...args],
    env: cleanEnv(env) as Record<string, string>,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const client = new Client({ name: 'patchbay-e2e', version: '1.0.0' });
  try {
    await client.connect(transport);
  } catch (err) {
    throw new Error(`patchbay mcp did not start: ${(err as Error).message}\nstderr:\n${stderr}`);
  }
  clients.add(client);
  return client;
}

/** The server's `/mcp` over Streamable HTTP, with these request headers. */
export async function connectHttp(url: string, headers: Record<string, string> = {}) {
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
    requestInit: { headers },
  });
  const client = new Client({ name: 'patchbay-e2e', version: '1.0.0' });
  await client.connect(transport);
  clients.add(client);
  return client;
}

export async function closeClients(): Promise<void> {
  await Promise.all([...clients].map((c) => c.close().catch(() => undefined)));
  clients.clear();
}

export interface ToolOutcome {
  ok: boolean;
  /** structuredContent of a result. */
  value: Json;
  /** The Patchbay error code of a tool error. */
  code: string | undefined;
  text: string;
  ms: number;
  progress: Progress[];
}

/** Calls a tool; a tool error comes back as `ok: false` with its code, never as a throw. */
export async function call(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
  options: { progress?: boolean } = {},
): Promise<ToolOutcome> {
  const progress: Progress[] = [];
  const started = performance.now();
  const result = await client.callTool(
    { name, arguments: args },
    undefined,
    options.progress ? { onprogress: (p) => progress.push(p) } : {},
  );
  const ms = performance.now() - started;
  const content = result.content as { type: string; text?: string }[];
  const text = content.map((c) => c.text ?? '').join('');
  const value = result.structuredContent as Json;
  return {
    ok: result.isError !== true,
    value,
    code: result.isError ? (value?.error?.code as string | undefined) : undefined,
    text,
    ms,
    progress,
  };
}

/** Like `call`, but the tool must succeed: returns its structured result. */
export async function ok(client: Client, name: string, args: Record<string, unknown> = {}) {
  const outcome = await call(client, name, args);
  if (!outcome.ok) throw new Error(`${name} failed: ${outcome.text}`);
  return outcome.value;
}

/** Waits (call after call, as a client with a tool timeout would) until the run has ended. */
export async function waitUntilDone(client: Client, id: string, maxCalls = 20): Promise<Json> {
  for (let i = 0; i < maxCalls; i++) {
    const answer = await ok(client, 'wait_for_run', { id });
    if (answer.done) return answer.run;
  }
  throw new Error(`run ${id} did not end within ${maxCalls} wait_for_run calls`);
}

/** A small git repository inside the data dir's default trusted root. */
export function makeRepo(dataDir: string, name: string): string {
  const path = join(dataDir, 'workspaces', name);
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'README.md'), '# fixture\n');
  gitIn(path, 'init', '-q', '-b', 'main');
  gitIn(path, 'add', '.');
  gitIn(path, 'commit', '-q', '-m', 'initial');
  return path;
}

/** Reads a resource and parses its JSON text. */
export async function readJson(client: Client, uri: string): Promise<Json> {
  const { contents } = await client.readResource({ uri });
  const first = contents[0];
  if (!first || !('text' in first)) throw new Error(`${uri}: no text content`);
  expectJson(first.mimeType);
  return JSON.parse(first.text);
}

function expectJson(mimeType: string | undefined): void {
  if (mimeType !== 'application/json') throw new Error(`expected JSON, got ${mimeType}`);
}
