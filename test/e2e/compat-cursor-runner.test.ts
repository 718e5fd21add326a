/**
 * cursor-runner's API on a real `patchbay serve` (PATCHBAY_COMPAT=cursor-runner), driven by a
 * client that knows only cursor-runner's wire format, with Cursor's CLI played by the scripted
 * fake that prints its real stream-json (test/fixtures/agents/fake-cursor.sh).
 */
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CursorRunnerClient,
  openFeed,
  type Conversation,
  type ExecuteResult,
  type Task,
} from '../helpers/cursor-runner-client.js';
import { cleanupAll, ROOT, startServer, tempDir, waitFor, type ServerHandle } from './helpers.js';

const SECRET = 'cr-e2e-secret';
const TOKEN = 'tok-e2e-cursor-runner';

interface Received {
  url: string;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown>;
}

/** A callback receiver answering `statuses[i]` to the i-th POST (the last one after). */
async function startReceiver(statuses: number[]) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        url: req.url ?? '',
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
      });
      res.writeHead(statuses[Math.min(received.length - 1, statuses.length - 1)]!).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

let root: string;
let dataDir: string;
let server: ServerHandle;
let client: CursorRunnerClient;

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATCHBAY_COMPAT: 'cursor-runner',
    PATCHBAY_AGENT_CURSOR_BIN: join(root, 'cursor-agent'),
    PATCHBAY_WORKSPACE_ROOTS: root,
    PATCHBAY_CURSOR_RUNNER_REPOSITORIES_PATH: join(root, 'repositories'),
    PATCHBAY_CURSOR_RUNNER_WEBHOOK_SECRET: SECRET,
    PATCHBAY_ALLOW_PRIVATE_CALLBACK_URLS: '1',
    PATCHBAY_CALLBACK_BACKOFF_MS: '100',
    ...extra,
  };
}

beforeAll(async () => {
  root = tempDir('patchbay-cr-');
  dataDir = tempDir('patchbay-cr-data-');
  // Cursor's fake, which takes its time on prompts that say `slow`.
  const bin = join(root, 'cursor-agent');
  writeFileSync(
    bin,
    `#!/bin/sh\ncase "$*" in *slow*) sleep 60 ;; esac\nexec ${join(ROOT, 'test/fixtures/agents/fake-cursor.sh')} "$@"\n`,
  );
  chmodSync(bin, 0o755);
  const app = join(root, 'repositories', 'app');
  mkdirSync(join(app, 'src'), { recursive: true });
  mkdirSync(join(app, 'node_modules', 'dep'), { recursive: true });
  writeFileSync(join(app, 'README.md'), '# app\n');
  writeFileSync(join(app, 'src', 'index.ts'), 'export {};\n');
  // A repository that is a link to a directory outside the trusted root.
  symlinkSync(tempDir('patchbay-cr-outside-'), join(root, 'repositories', 'evil'));
  server = await startServer({ env: env(), dataDir });
  client = new CursorRunnerClient(server.url, SECRET);
}, 60_000);

afterAll(cleanupAll, 30_000);

describe('cursor-runner compat', () => {
  it('is off unless PATCHBAY_COMPAT names it', async () => {
    const plain = await startServer();
    const res = await new CursorRunnerClient(plain.url).execute({ prompt: 'x' });
    expect(res.status).toBe(404);
    await plain.stop();
  }, 60_000);

  it('answers /health and /health/queue in a shape both clients read', async () => {
    const health = await client.health();
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('ok');
    const queue = await client.queue();
    expect(queue.body.status).toBe('ok');
    expect(queue.body.queue.maxConcurrent).toBeGreaterThan(0);
    expect(queue.body.queue.available).toBe(queue.body.queue.maxConcurrent);
    expect(queue.body.queue.waiting).toBe(0);
    expect(queue.body.warning).toBeNull();
  });

  it('/cursor/execute: secret, 400 without prompt, 404 for an unknown repository, then the result', async () => {
    const open = await client.execute({ prompt: 'list the files' }, 'none');
    expect(open.status).toBe(401);
    expect(open.body.success).toBe(false);

    const noPrompt = await client.execute({ repository: 'app' });
    expect(noPrompt.status).toBe(400);
    expect(noPrompt.body).toMatchObject({ success: false, error: 'prompt is required' });

    const noRepo = await client.execute({ repository: 'nope', prompt: 'x' }, 'query');
    expect(noRepo.status).toBe(404);
    expect(String(noRepo.body.error)).toContain('Repository not found locally: nope');

    const done = await client.execute(
      { id: 'req-sync-1', repository: 'app', branchName: 'feature/x', prompt: 'list the files' },
      'x-cursor-runner-secret',
    );
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      success: true,
      requestId: 'req-sync-1',
      repository: 'app',
      branchName: 'feature/x',
      output: 'Listing files.There is a README.',
      exitCode: 0,
      error: null,
    });
    expect(done.body.duration).toMatch(/^\d+ms$/);
    expect(Array.isArray(done.body.command)).toBe(true);
    expect(Number.isNaN(Date.parse(done.body.timestamp))).toBe(false);

    // A CLI that exits non-zero is still `success: true`, with its exit code.
    const failed = await client.execute({ repository: 'app', prompt: 'fail now' });
    expect(failed.status).toBe(200);
    expect(failed.body).toMatchObject({ success: true, exitCode: 1 });
  }, 60_000);

  it('/cursor/execute/async: 200 at once, then the callback with its secret headers, retried', async () => {
    const receiver = await startReceiver([503, 200]);
    try {
      const accepted = await client.executeAsync(
        {
          id: 'req-async-1',
          repository: 'app',
          prompt: 'list the files',
          callbackUrl: `${receiver.url}/callback?secret=cb-secret&x=1`,
        },
        'query',
      );
      expect(accepted.status).toBe(200);
      expect(accepted.body).toMatchObject({
        success: true,
        message: 'Request accepted, processing asynchronously',
        requestId: 'req-async-1',
      });
      await waitFor(() => receiver.received.length >= 2, 'the callback, retried once', 30_000);
      const [first, second] = receiver.received;
      for (const r of [first!, second!]) {
        expect(r.url).toBe('/callback?x=1');
        expect(r.headers['x-webhook-secret']).toBe('cb-secret');
        expect(r.headers['x-cursor-runner-secret']).toBe('cb-secret');
        expect(r.headers['user-agent']).toBe('cursor-runner/1.0');
      }
      const body = second!.body as unknown as ExecuteResult & { runId: string };
      expect(body).toMatchObject({
        success: true,
        requestId: 'req-async-1',
        repository: 'app',
        output: 'Listing files.There is a README.',
        exitCode: 0,
      });
      // Both tries are recorded with the run.
      const deliveries = (await (
        await fetch(`${server.url}/v1/runs/${body.runId}/deliveries`)
      ).json()) as { deliveries: { outcome: string }[] };
      expect(deliveries.deliveries.map((d) => d.outcome)).toEqual(['retrying', 'delivered']);

      // Without ?secret= in the callback URL, the configured secret is sent.
      await client.executeAsync({
        repository: 'app',
        prompt: 'list the files',
        callback_url: `${receiver.url}/again`,
      });
      await waitFor(() => receiver.received.length >= 3, 'the second callback', 30_000);
      expect(receiver.received[2]!.headers['x-webhook-secret']).toBe(SECRET);
    } finally {
      await receiver.close();
    }
  }, 60_000);

  it('/cursor/iterate continues a failed turn in the same session; /async calls back', async () => {
    const sync = await client.iterate({
      repository: 'app',
      prompt: 'fail first',
      maxIterations: 3,
    });
    expect(sync.status).toBe(200);
    expect(sync.body).toMatchObject({
      success: true,
      iterations: 2,
      maxIterations: 3,
      exitCode: 0,
    });
    // The second turn resumed the session the first one left.
    const second = (await (
      await fetch(`${server.url}/v1/runs/${(sync.body as { runId?: string }).runId}`)
    ).json()) as { resumeSessionId: string | null; prompt: string };
    expect(second.resumeSessionId).toBe('chat-err');
    expect(second.prompt).toContain('please resume this solution');

    const receiver = await startReceiver([200]);
    try {
      const accepted = await client.iterateAsync({
        id: 'req-iter-async',
        repository: 'app',
        prompt: 'fail again',
        maxIterations: 1,
        callbackUrl: `${receiver.url}/iter`,
      });
      expect(accepted.status).toBe(200);
      await waitFor(() => receiver.received.length >= 1, 'the iterate callback', 30_000);
      expect(receiver.received[0]!.body).toMatchObject({
        success: false,
        requestId: 'req-iter-async',
        iterations: 1,
        maxIterations: 1,
      });
    } finally {
      await receiver.close();
    }
  }, 90_000);

  it('conversations: last one per queue, new, list, get, message; the WebSocket feed', async () => {
    const fresh = await client.newConversation('telegram');
    expect(fresh.body).toMatchObject({ success: true, queueType: 'telegram' });
    const id = fresh.body.conversationId;
    // No conversationId: a telegram- request continues the telegram queue's last conversation.
    const ran = await client.execute({
      id: 'telegram-42',
      repository: 'app',
      prompt: 'list the files',
    });
    expect(ran.status).toBe(200);
    const got = await client.request<Conversation>('GET', `/api/${id}`);
    expect(got.status).toBe(200);
    expect(got.body.messages.map((m) => m.role)).toEqual(['user', 'assistant']);
    expect(got.body.messages[0]!.content).toBe('list the files');

    const made = await client.request<{ conversationId: string }>(
      'POST',
      '/conversations/api/new',
      {},
    );
    const conv = made.body.conversationId;
    const feed = await openFeed(
      `${server.url.replace('http', 'ws')}/api/ws?conversationId=${conv}`,
    );
    try {
      await waitFor(() => feed.messages.length >= 1, 'the snapshot', 10_000);
      expect(feed.messages[0]).toMatchObject({
        type: 'conversation.snapshot',
        conversationId: conv,
      });

      const bad = await client.request('POST', `/api/${conv}/message`, { message: '  ' });
      expect(bad.status).toBe(400);
      const sent = await client.request<{ success: boolean; conversationId: string }>(
        'POST',
        `/conversations/api/${conv}/message`,
        { message: 'list the files', repository: 'app' },
      );
      expect(sent.status).toBe(200);
      expect(sent.body).toMatchObject({ success: true, conversationId: conv });
      await waitFor(
        async () =>
          (await client.request<Conversation>('GET', `/conversations/api/${conv}`)).body.messages
            .length === 2,
        'the answer in the conversation',
        30_000,
      );
      await waitFor(
        () =>
          feed.messages.some(
            (m) =>
              m.type === 'conversation.updated' &&
              m.reason === 'message_added' &&
              (m.conversation as Conversation).messages.length === 2,
          ),
        'an update with the answer on the feed',
        10_000,
      );
    } finally {
      feed.close();
    }
    const list = await client.request<Conversation[]>('GET', '/api/list');
    expect(list.body.map((c) => c.conversationId)).toEqual(expect.arrayContaining([id, conv]));
    expect((await client.request('GET', '/api/no-such-conversation')).status).toBe(404);
  }, 90_000);

  it('a request outlives its server: after kill -9, the next server answers its callback', async () => {
    const receiver = await startReceiver([200]);
    try {
      const accepted = await client.executeAsync({
        id: 'req-crash',
        repository: 'app',
        prompt: 'slow work',
        callbackUrl: `${receiver.url}/crash`,
      });
      const runId = (accepted.body as unknown as { runId: string }).runId;
      await waitFor(
        async () =>
          ((await (await fetch(`${server.url}/v1/runs/${runId}`)).json()) as { status: string })
            .status === 'running',
        'the slow run to start',
        30_000,
      );
      await server.crash();
      server = await startServer({ env: env(), dataDir });
      client = new CursorRunnerClient(server.url, SECRET);
      await waitFor(
        () => receiver.received.length >= 1,
        'the callback from the next server',
        60_000,
      );
      expect(receiver.received[0]!.body).toMatchObject({
        success: false,
        requestId: 'req-crash',
        repository: 'app',
        exitCode: 1,
        runId,
      });
      const reactions = (await (
        await fetch(`${server.url}/v1/runs/${runId}/reactions`)
      ).json()) as {
        reactions: { name: string; status: string }[];
      };
      expect(reactions.reactions).toContainEqual(
        expect.objectContaining({ name: 'cursor-runner', status: 'succeeded' }),
      );
    } finally {
      await receiver.close();
    }
  }, 120_000);

  it('agent conversations over HTTP and their feed', async () => {
    const made = await client.request<{ conversationId: string }>('POST', '/api/agent/new', {
      agentId: 'voice-1',
      metadata: { channel: 'phone' },
    });
    const id = made.body.conversationId;
    expect(id).toMatch(/^agent-/);
    const feed = await openFeed(
      `${server.url.replace('http', 'ws')}/api/agent/ws?conversationId=${id}`,
    );
    try {
      await waitFor(() => feed.messages.length >= 1, 'the agent snapshot', 10_000);
      expect(feed.messages[0]).toMatchObject({ type: 'agent_conversation.snapshot' });
      expect(
        (await client.request('POST', `/api/agent/${id}/message`, { role: 'user' })).status,
      ).toBe(400);
      const added = await client.request('POST', `/agent-conversations/api/${id}/message`, {
        role: 'user',
        content: 'hello there',
        source: 'voice',
      });
      expect(added.body).toMatchObject({ success: true, conversationId: id });
      await waitFor(
        () => feed.messages.some((m) => m.type === 'agent_conversation.updated'),
        'the agent update',
        10_000,
      );
    } finally {
      feed.close();
    }
    const got = await client.request<{
      messages: { content: string; source: string }[];
      agentId: string;
    }>('GET', `/api/agent/${id}`);
    expect(got.body.agentId).toBe('voice-1');
    expect(got.body.messages[0]).toMatchObject({ content: 'hello there', source: 'voice' });
    const list = await client.request<{
      conversations: unknown[];
      pagination: { total: number; hasMore: boolean };
    }>('GET', '/agent-conversations/api/list?limit=1&offset=0');
    expect(list.body.pagination.total).toBeGreaterThanOrEqual(1);
    expect(list.body.conversations).toHaveLength(1);
    expect((await client.request('GET', '/api/agent/agent-unknown')).status).toBe(404);
  }, 30_000);

  it('file trees, the telegram webhook stub', async () => {
    const tree = await client.request<
      { name: string; type: string; children?: { name: string }[] }[]
    >('GET', '/repositories/api/app/files');
    expect(tree.status).toBe(200);
    expect(tree.body.map((n) => n.name)).toEqual(['src', 'README.md']);
    expect(tree.body.find((n) => n.name === 'src')?.children?.map((c) => c.name)).toEqual([
      'index.ts',
    ]);
    expect(tree.body.some((n) => n.name === 'node_modules')).toBe(false);
    expect((await client.request('GET', '/repositories/api/nope/files')).status).toBe(404);
    const outside = await client.request<{ code: string }>('GET', '/repositories/api/evil/files');
    expect(outside.status).toBe(403);
    expect(outside.body.code).toBe('WORKDIR_NOT_TRUSTED');
    const run = await client.execute({ repository: 'evil', prompt: 'list the files' });
    expect(run.status).toBe(403);
    expect(run.body.success).toBe(false);
    const wd = await client.request<{ name: string }[]>('GET', '/api/working-directory/files');
    expect(wd.body.map((n) => n.name)).toContain('app');

    const tg = await client.request('POST', '/telegram/webhook', {
      update_id: 1,
      message: { text: 'hi' },
    });
    expect(tg.status).toBe(200);
    expect(tg.body).toMatchObject({ success: true, received: true, updateType: 'message' });
  });

  it('tasks: CRUD with status numbers, then the operator runs ready ones in order (behind API tokens)', async () => {
    const bad = await client.request('POST', '/api/tasks', { order: 1 });
    expect(bad.status).toBe(400);
    const later = await client.request<Task>('POST', '/api/tasks', {
      prompt: 'task later',
      order: 5,
    });
    expect(later.status).toBe(201);
    expect(later.body).toMatchObject({ status: 0, status_label: 'ready', order: 5 });
    const first = await client.request<Task>('POST', '/api/tasks', {
      prompt: 'task first',
      order: 1,
    });
    const parked = await client.request<Task>('POST', '/api/tasks', {
      prompt: 'parked',
      status: 3,
    });
    const gone = await client.request<Task>('POST', '/api/tasks', { prompt: 'to delete' });
    expect((await client.request('DELETE', `/api/tasks/${gone.body.id}`)).body).toEqual({
      success: true,
      message: 'Task deleted',
    });
    expect((await client.request('GET', `/api/tasks/${gone.body.id}`)).status).toBe(404);
    expect((await client.request('GET', '/api/tasks/abc')).status).toBe(400);
    const edited = await client.request<Task>('PUT', `/api/tasks/${parked.body.id}`, { status: 2 });
    expect(edited.body).toMatchObject({ status: 2, status_label: 'archived' });
    const ready = await client.request<Task[]>('GET', '/api/tasks?status=0');
    expect(ready.body.map((t) => t.prompt)).toEqual(['task first', 'task later']);

    // The same data dir, with the operator on and API tokens required: the tasks persisted.
    await server.stop();
    server = await startServer({
      env: env({
        PATCHBAY_CURSOR_RUNNER_TASK_OPERATOR: '1',
        PATCHBAY_CURSOR_RUNNER_TASK_POLL_MS: '200',
        PATCHBAY_API_TOKENS: TOKEN,
      }),
      dataDir,
      token: TOKEN,
    });
    client = new CursorRunnerClient(server.url, SECRET, 'x-cursor-runner-secret');
    expect((await client.request('GET', '/api/tasks', undefined, 'none')).status).toBe(401);
    await waitFor(
      async () => (await client.request<Task[]>('GET', '/api/tasks?status=1')).body.length === 2,
      'both ready tasks complete',
      60_000,
    );
    const done = (await client.request<(Task & { runId: string })[]>('GET', '/api/tasks?status=1'))
      .body;
    const runs = await Promise.all(
      done.map(async (t) => {
        const res = await fetch(`${server.url}/v1/runs/${t.runId}`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        return {
          prompt: t.prompt,
          run: (await res.json()) as { createdAt: string; status: string },
        };
      }),
    );
    runs.sort((a, b) => a.run.createdAt.localeCompare(b.run.createdAt));
    expect(runs.map((r) => r.prompt)).toEqual(['task first', 'task later']);
    expect(runs.every((r) => r.run.status === 'succeeded')).toBe(true);
    // Archived stays archived.
    expect((await client.request<Task>('GET', `/api/tasks/${parked.body.id}`)).body.status).toBe(2);
    void first;
  }, 120_000);
});
