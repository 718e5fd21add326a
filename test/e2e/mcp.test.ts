/**
 * One MCP tool suite, three ways in: `patchbay mcp` over stdio running embedded on its own data
 * dir, `patchbay mcp` over stdio talking to a `patchbay serve` (PATCHBAY_URL + token), and that
 * server's `/mcp` over Streamable HTTP with a bearer token. Every client is the official SDK's.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupAll, startServer, tempDir, type Json, type ServerHandle } from './helpers.js';
import {
  call,
  closeClients,
  connectHttp,
  connectStdio,
  FAKE_CLAUDE,
  makeRepo,
  ok,
  readJson,
  TOKEN,
  waitUntilDone,
} from './mcp-helpers.js';

/** Short, so that a wait hitting its deadline takes seconds, not the default 25. */
const WAIT_LIMIT_MS = 2500;
const settings = {
  PATCHBAY_MCP_WAIT_LIMIT_MS: String(WAIT_LIMIT_MS),
  // Runs started over MCP obey the allow-list like any other.
  PATCHBAY_ALLOWED_COMMANDS: 'sh,sleep,true',
  PATCHBAY_AGENT_CLAUDE_BIN: FAKE_CLAUDE,
};

const ALL_TOOLS = [
  'start_run',
  'get_run',
  'list_runs',
  'cancel_run',
  'pause_run',
  'resume_run',
  'interrupt_run',
  'wait_for_run',
  'read_events',
  'get_diff',
  'start_conversation',
  'send_message',
  'list_repos',
  'register_repo',
  'start_optimization',
  'list_proposals',
];

let server: ServerHandle;
const embeddedDir = tempDir();

beforeAll(async () => {
  server = await startServer({
    env: { ...settings, PATCHBAY_API_TOKENS: TOKEN },
    token: TOKEN,
  });
  makeRepo(server.dataDir, 'app');
  makeRepo(embeddedDir, 'app');
});

afterAll(async () => {
  await closeClients();
  await cleanupAll();
});

const transports: { name: string; dataDir: () => string; connect: () => Promise<Client> }[] = [
  {
    name: 'stdio, embedded',
    dataDir: () => embeddedDir,
    connect: () => connectStdio({ ...settings, PATCHBAY_DATA_DIR: embeddedDir }),
  },
  {
    name: 'stdio, to a server',
    dataDir: () => server.dataDir,
    connect: () => connectStdio({ ...settings, PATCHBAY_URL: server.url, PATCHBAY_TOKEN: TOKEN }),
  },
  {
    name: 'Streamable HTTP',
    dataDir: () => server.dataDir,
    connect: () => connectHttp(server.url, { authorization: `Bearer ${TOKEN}` }),
  },
];

describe.each(transports)('MCP tools over $name', ({ connect, dataDir }) => {
  let client: Client;
  beforeAll(async () => {
    client = await connect();
  });

  it('lists every tool, hinting which change nothing, and the run resource templates', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([...ALL_TOOLS].sort());
    const hint = (name: string) => tools.find((t) => t.name === name)!.annotations?.readOnlyHint;
    expect(hint('get_run')).toBe(true);
    expect(hint('wait_for_run')).toBe(true);
    expect(hint('start_run')).toBe(false);
    expect(hint('cancel_run')).toBe(false);
    for (const tool of tools) expect(tool.inputSchema.type).toBe('object');
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate).sort()).toEqual([
      'patchbay://runs/{id}/events',
      'patchbay://runs/{id}/summary',
    ]);
  });

  it('runs a command: start answers at once, wait reports progress, events page, resources read', async () => {
    const started = await call(client, 'start_run', {
      command: ['sh', '-c', 'echo one; sleep 1; echo two; echo three'],
    });
    expect(started.ok, started.text).toBe(true);
    expect(started.ms).toBeLessThan(500);
    expect(['queued', 'running']).toContain(started.value.status);
    const id = started.value.id as string;

    // As a client does: wait again while the answer is "still running" (a loaded machine may
    // take longer than this server's 2.5 s limit to start and end the run).
    const progress: typeof waited.progress = [];
    let waited = await call(client, 'wait_for_run', { id }, { progress: true });
    for (let i = 0; ; i++) {
      expect(waited.ok, waited.text).toBe(true);
      // Within one call, progress only grows.
      const values = waited.progress.map((p) => p.progress);
      expect(values).toEqual([...values].sort((a, b) => a - b));
      progress.push(...waited.progress);
      if (waited.value.done || i >= 20) break;
      waited = await call(client, 'wait_for_run', { id }, { progress: true });
    }
    expect(waited.value.done).toBe(true);
    expect(waited.value.run).toMatchObject({ id, status: 'succeeded', exitCode: 0 });
    // The run was active while the calls waited: the client heard about it as it went (the
    // wait's start, then the run's events). Which events make it before the answer depends on
    // timing (the embedded server under load has missed the final status once): not asserted.
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress[0]!.message).toMatch(/^waiting: the run is (queued|running)$/);
    expect(progress.some((p) => /^(status|stdout): /.test(p.message ?? ''))).toBe(true);

    // Pages of two, following lastSeq, until done.
    const seen: Json[] = [];
    let after = 0;
    for (let page = 0; page < 20; page++) {
      const events = await ok(client, 'read_events', { id, after, limit: 2 });
      expect(events.events.length).toBeLessThanOrEqual(2);
      seen.push(...events.events);
      after = events.lastSeq;
      if (events.done) break;
    }
    const output = seen.filter((e) => e.type === 'output').map((e) => e.data.text);
    expect(output.join('')).toBe('one\ntwo\nthree\n');
    expect(seen.map((e) => e.seq)).toEqual(seen.map((_, i) => i + 1));

    const logBody = await readJson(client, `patchbay://runs/${id}/events`);
    expect(logBody.done).toBe(true);
    expect(logBody.events.map((e: Json) => e.seq)).toEqual(seen.map((e) => e.seq));
    expect(await readJson(client, `patchbay://runs/${id}/summary`)).toMatchObject({
      id,
      status: 'succeeded',
      ended: true,
      exitCode: 0,
      error: null,
    });

    const listed = await ok(client, 'get_run', { id });
    expect(listed.status).toBe('succeeded');
    const runs = await ok(client, 'list_runs', { status: ['succeeded'], limit: 50 });
    expect(runs.runs.map((r: Json) => r.id)).toContain(id);
  });

  it('a wait that reaches its deadline answers "still running"; pause, resume, cancel', async () => {
    const run = await ok(client, 'start_run', { command: ['sleep', '60'] });
    const waited = await call(client, 'wait_for_run', { id: run.id });
    expect(waited.ok, waited.text).toBe(true);
    expect(waited.value.done).toBe(false);
    expect(waited.value.status).toBe('running');
    expect(waited.value.message).toMatch(/still running/);
    expect(waited.value.waitedMs).toBeGreaterThanOrEqual(WAIT_LIMIT_MS - 100);
    // Bounded by the limit, not by the run: generous for a loaded machine.
    expect(waited.ms).toBeLessThan(WAIT_LIMIT_MS + 5000);
    // A shorter wait of its own is honoured; a longer one is capped.
    const short = await call(client, 'wait_for_run', { id: run.id, timeoutMs: 200 });
    expect(short.value.done).toBe(false);
    expect(short.ms).toBeLessThan(WAIT_LIMIT_MS);

    expect((await ok(client, 'pause_run', { id: run.id })).status).toBe('paused');
    expect((await ok(client, 'resume_run', { id: run.id })).status).toBe('running');
    await ok(client, 'cancel_run', { id: run.id });
    expect((await waitUntilDone(client, run.id)).status).toBe('cancelled');
  });

  it('interrupts a turn: the run ends cancelled with AGENT_TURN_INTERRUPTED', async () => {
    const run = await ok(client, 'start_run', { command: ['sleep', '60'] });
    const started = await ok(client, 'wait_for_run', { id: run.id, timeoutMs: 500 });
    expect(started.done).toBe(false);
    await ok(client, 'interrupt_run', { id: run.id });
    const ended = await waitUntilDone(client, run.id);
    expect(ended.status).toBe('cancelled');
    expect(ended.error?.code).toBe('AGENT_TURN_INTERRUPTED');
  });

  it("answers failures with Patchbay's stable error codes", async () => {
    expect((await call(client, 'get_run', { id: 'run_nope' })).code).toBe('RUN_NOT_FOUND');
    const bad = await call(client, 'get_run', { idd: 'x' });
    expect(bad.code).toBe('VALIDATION_FAILED');
    expect(bad.value.error.details.fields.map((f: Json) => f.path)).toContain('id');
    expect((await call(client, 'no_such_tool')).code).toBe('MCP_TOOL_NOT_FOUND');
    const shell = await ok(client, 'start_run', { command: ['true'] });
    await waitUntilDone(client, shell.id);
    expect((await call(client, 'get_diff', { id: shell.id })).code).toBe('RUN_DIFF_NOT_AVAILABLE');
    expect((await call(client, 'start_optimization', { repoId: 'repo_nope' })).code).toBe(
      'REPO_NOT_FOUND',
    );
    expect((await call(client, 'start_run', { command: ['curl', 'example.com'] })).code).toBe(
      'COMMAND_NOT_ALLOWED',
    );
    expect((await call(client, 'start_run', { agent: 'shell' })).code).toBe('RUN_COMMAND_REQUIRED');
    const missing = await client.readResource({ uri: 'patchbay://runs/run_nope/summary' }).then(
      () => null,
      (err: Json) => err,
    );
    expect(missing?.code).toBe(-32002);
    expect(missing?.data?.code).toBe('RUN_NOT_FOUND');
  });

  it('registers a repository, runs on a worktree of it, shows the diff, starts an optimization', async () => {
    const repo = await ok(client, 'register_repo', { path: `${dataDir()}/workspaces/app` });
    expect(repo.id).toMatch(/^repo_/);
    const { repos } = await ok(client, 'list_repos');
    expect(repos.map((r: Json) => r.id)).toContain(repo.id);
    const run = await ok(client, 'start_run', {
      repo: repo.id,
      command: ['sh', '-c', 'echo "changed by mcp" >> README.md'],
    });
    expect((await waitUntilDone(client, run.id)).status).toBe('succeeded');
    const diff = await ok(client, 'get_diff', { id: run.id });
    expect(diff.diff).toContain('+changed by mcp');
    expect(diff.files).toEqual([{ path: 'README.md', added: 1, removed: 0, binary: false }]);
    expect(diff.truncated).toBe(false);
    const cut = await ok(client, 'get_diff', { id: run.id, maxBytes: 10 });
    expect(cut).toMatchObject({ truncated: true, bytes: diff.bytes });
    const summary = await readJson(client, `patchbay://runs/${run.id}/summary`);
    expect(summary.changedFiles).toEqual(diff.files);

    // An optimization starts as its first stage run (this repository has nothing to optimize).
    const started = await call(client, 'start_optimization', { repoId: repo.id });
    expect(started.ok, started.text).toBe(true);
    expect(started.ms).toBeLessThan(500);
    expect(started.value).toMatchObject({ kind: 'optimize.detect', repoId: repo.id });
    await waitUntilDone(client, started.value.id);
    const stages = await ok(client, 'list_runs', { parentId: started.value.id });
    expect(stages.runs.every((r: Json) => r.parentId === started.value.id)).toBe(true);
    const proposals = await ok(client, 'list_proposals', { repoId: repo.id });
    expect(proposals).toEqual({ proposals: [], nextCursor: null });
  });

  it('sends a message to a conversation and waits for the answer', async () => {
    const conversation = await ok(client, 'start_conversation', { agent: 'claude' });
    const run = await ok(client, 'send_message', {
      conversationId: conversation.id,
      prompt: 'say hello',
    });
    expect(run.conversationId).toBe(conversation.id);
    const ended = await waitUntilDone(client, run.id);
    expect(ended.status, JSON.stringify(ended.error)).toBe('succeeded');
    expect(ended.resultText).toBeTruthy();
  });
});
