/**
 * The API the dashboard's pages read, over real HTTP against a real server: search over a
 * run's whole log and lines around a match, the raw log, the effective configuration with
 * secrets masked, budget use per day, and the run list filtered by conversation, agent and time.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupAll, ROOT, startServer, type Run, type ServerHandle } from './helpers.js';

afterAll(cleanupAll);

const SECRETS = {
  PATCHBAY_WEBHOOK_SECRET: 'whook-secret-4f1a9c',
  PATCHBAY_OPENAI_API_KEY: 'sk-test-secret-77e2',
  PATCHBAY_OTLP_HEADERS: 'x-api-key=otlp-secret-0b3d',
  PATCHBAY_TELEGRAM_BOTS: JSON.stringify({
    ops: {
      token: '123:tg-secret-9a8b',
      webhookSecret: 'tg-hook-secret-5c6d7e8f',
      allowedChatIds: [1],
    },
  }),
};

describe('dashboard API', () => {
  let server: ServerHandle;
  let logRun: Run;
  beforeAll(async () => {
    server = await startServer({
      env: {
        ...SECRETS,
        PATCHBAY_AGENT_CLAUDE_BIN: join(ROOT, 'test', 'fixtures', 'agents', 'fake-claude.sh'),
      },
    });
    // 3000 numbered lines, a needle, and a last line without its newline, all on stdout.
    logRun = await server.api.createRun({
      command: [
        'sh',
        '-c',
        'i=1; while [ $i -le 3000 ]; do echo "line $i"; i=$((i+1)); done; echo "the NEEDLE is here"; printf "tail-without-newline"',
      ],
    });
    logRun = await server.api.waitForStatus(logRun.id, ['succeeded'], 30_000);
  });

  it('searches the whole log case-insensitively, with line numbers for permalinks', async () => {
    const res = await server.api.request('GET', `/v1/runs/${logRun.id}/log/search?q=needle`);
    expect(res.status, res.text).toBe(200);
    expect(res.body.totalLines).toBe(3002);
    expect(res.body.truncated).toBe(false);
    expect(res.body.matches).toHaveLength(1);
    expect(res.body.matches[0]).toMatchObject({ line: 3001, text: 'the NEEDLE is here' });
    expect(res.body.matches[0].seq).toBeGreaterThan(0);

    const first = await server.api.request(
      'GET',
      `/v1/runs/${logRun.id}/log/search?q=${encodeURIComponent('LINE 2999')}`,
    );
    expect(first.body.matches.map((m: { line: number }) => m.line)).toEqual([2999]);

    const capped = await server.api.request(
      'GET',
      `/v1/runs/${logRun.id}/log/search?q=line&limit=5`,
    );
    expect(capped.body.matches.map((m: { line: number }) => m.line)).toEqual([1, 2, 3, 4, 5]);
    expect(capped.body.truncated).toBe(true);

    const none = await server.api.request('GET', `/v1/runs/${logRun.id}/log/search?q=absent`);
    expect(none.body).toMatchObject({ matches: [], truncated: false, totalLines: 3002 });
  });

  it('reads lines around a line number, the last one even without its newline', async () => {
    const res = await server.api.request(
      'GET',
      `/v1/runs/${logRun.id}/log/lines?start=2999&count=10`,
    );
    expect(res.status, res.text).toBe(200);
    expect(res.body.totalLines).toBe(3002);
    expect(res.body.lines.map((l: { line: number; text: string }) => [l.line, l.text])).toEqual([
      [2999, 'line 2999'],
      [3000, 'line 3000'],
      [3001, 'the NEEDLE is here'],
      [3002, 'tail-without-newline'],
    ]);
    // Seqs only grow: a line's seq is the event it starts in.
    const seqs = res.body.lines.map((l: { seq: number }) => l.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
  });

  it('downloads the raw log: exactly the output, in order', async () => {
    const res = await server.api.request('GET', `/v1/runs/${logRun.id}/log`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(res.text).toBe(await server.api.output(logRun.id));
    expect(res.text.endsWith('the NEEDLE is here\ntail-without-newline')).toBe(true);
  });

  it('answers RUN_NOT_FOUND and refuses an empty query', async () => {
    for (const path of [
      '/v1/runs/nope/log/search?q=x',
      '/v1/runs/nope/log/lines?start=1',
      '/v1/runs/nope/log',
    ]) {
      const res = await server.api.request('GET', path);
      expect(res.status, path).toBe(404);
      expect(res.body.error.code, path).toBe('RUN_NOT_FOUND');
    }
    const empty = await server.api.request('GET', `/v1/runs/${logRun.id}/log/search?q=`);
    expect(empty.status).toBe(400);
    expect(empty.body.error.code).toBe('VALIDATION_FAILED');
  });

  it('shows the effective configuration with every secret masked', async () => {
    const res = await server.api.request('GET', '/v1/settings');
    expect(res.status, res.text).toBe(200);
    for (const [name, value] of Object.entries(SECRETS)) {
      if (name === 'PATCHBAY_TELEGRAM_BOTS') continue;
      expect(res.text, name).not.toContain(value.split('=').pop()!);
    }
    for (const s of ['tg-secret-9a8b', 'tg-hook-secret-5c6d7e8f'])
      expect(res.text).not.toContain(s);
    const byEnv = new Map<string, { value: unknown; secret: boolean }>(
      res.body.settings.map((s: { env: string; value: unknown; secret: boolean }) => [s.env, s]),
    );
    expect(byEnv.get('PATCHBAY_PORT')!.value).toBe(server.port);
    expect(byEnv.get('PATCHBAY_WEBHOOK_SECRET')).toMatchObject({ value: '********', secret: true });
    expect(byEnv.get('PATCHBAY_OTLP_HEADERS')!.value).toBe('********');
    // Unset secrets say so.
    expect(byEnv.get('PATCHBAY_ANTHROPIC_API_KEY')!.value).toBeNull();
    // A structured secret keeps its shape; only the secrets in it are masked.
    expect(byEnv.get('PATCHBAY_TELEGRAM_BOTS')!.value).toMatchObject({
      ops: { token: '********', webhookSecret: '********', allowedChatIds: ['1'] },
    });
    expect(byEnv.get('PATCHBAY_DATA_DIR')!.value).toBe(server.dataDir);
  });

  it('reports budget use per day, today last', async () => {
    const res = await server.api.request('GET', '/v1/budgets/usage?days=3');
    expect(res.status, res.text).toBe(200);
    expect(res.body.scope).toBe('global');
    expect(res.body.timezone).toBeTruthy();
    expect(res.body.days).toHaveLength(3);
    const [a, b, today] = res.body.days;
    expect(a.day < b.day && b.day < today.day).toBe(true);
    expect(today.day).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(today.runs).toBeGreaterThanOrEqual(1);
    // Minutes are rounded to 0.01: a fast run may count as 0.
    expect(today.agentMinutes).toBeGreaterThanOrEqual(0);
    expect(a.runs).toBe(0);
    const unknown = await server.api.request('GET', '/v1/budgets/usage?repo=nope');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('REPO_NOT_FOUND');
  });

  it('says how old each worker heartbeat is, by the server clock', async () => {
    const res = await server.api.request('GET', '/v1/workers');
    expect(res.status).toBe(200);
    const self = res.body.workers.find((w: { role: string }) => w.role === 'server');
    expect(self.heartbeatAgeMs).toBeGreaterThanOrEqual(0);
    expect(self.heartbeatAgeMs).toBeLessThan(60_000);
    const queue = await server.api.request('GET', '/health/queue');
    expect(queue.body.queues).toHaveProperty('default');
  });

  it('filters runs by conversation, agent and creation time', async () => {
    const conv = await server.api.request('POST', '/v1/conversations', { agent: 'claude' });
    expect(conv.status, conv.text).toBe(201);
    const msg = await server.api.request('POST', `/v1/conversations/${conv.body.id}/messages`, {
      prompt: 'hello',
      wait: true,
    });
    expect([200, 202], msg.text).toContain(msg.status);
    const inConv = await server.api.request('GET', `/v1/runs?conversationId=${conv.body.id}`);
    expect(inConv.body.runs.map((r: Run) => r.id)).toEqual([msg.body.id]);

    const claude = await server.api.request('GET', '/v1/runs?agent=claude');
    expect(claude.body.runs.map((r: Run) => r.id)).toEqual([msg.body.id]);
    const shell = await server.api.request('GET', '/v1/runs?agent=shell&limit=200');
    expect(shell.body.runs.map((r: Run) => r.id)).toContain(logRun.id);
    expect(shell.body.runs.map((r: Run) => r.id)).not.toContain(msg.body.id);

    // Time: an offset other than Z means the same instant.
    const created = Date.parse(logRun.createdAt);
    const plus2h = (ms: number): string =>
      new Date(ms + 2 * 3_600_000).toISOString().replace('Z', '+02:00');
    const after = await server.api.request(
      'GET',
      `/v1/runs?createdAfter=${encodeURIComponent(plus2h(created + 1))}`,
    );
    expect(after.body.runs.map((r: Run) => r.id)).not.toContain(logRun.id);
    expect(after.body.runs.map((r: Run) => r.id)).toContain(msg.body.id);
    const window = await server.api.request(
      'GET',
      `/v1/runs?createdAfter=${encodeURIComponent(new Date(created).toISOString())}&createdBefore=${encodeURIComponent(new Date(created + 1).toISOString())}`,
    );
    expect(window.body.runs.map((r: Run) => r.id)).toEqual([logRun.id]);
    const bad = await server.api.request('GET', '/v1/runs?createdAfter=yesterday');
    expect(bad.status).toBe(400);
  });
});
