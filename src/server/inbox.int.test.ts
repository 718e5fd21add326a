/**
 * The inbox over real HTTP: demo data, the top three per horizon, triage with undo, the graph,
 * and a connector connected through OAuth with PKCE (a small in-test Connector against a
 * local fake provider), synced, tested, tested-all over SSE with replay, and disconnected.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.js';
import type { Connector, CreateConnector } from '../intake/index.js';
import { createSilentLogger } from '../observability/index.js';
import { startServer, type RunningServer } from './serve.js';

const TOKEN = 'gho_fake_provider_token_value';
let dir: string;
let server: RunningServer;
let provider: Server;
let providerUrl: string;
const challenges = new Map<string, string>();

/** A fake provider: authorize (remembers the PKCE challenge), token (checks the verifier), items. */
function startProvider(): Promise<void> {
  provider = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (url.pathname === '/authorize') {
        challenges.set('code-1', url.searchParams.get('code_challenge')!);
        res.writeHead(302, {
          location: `${url.searchParams.get('redirect_uri')}?code=code-1&state=${url.searchParams.get('state')}`,
        });
        return res.end();
      }
      if (url.pathname === '/token') {
        const form = new URLSearchParams(body);
        const verifier = form.get('code_verifier') ?? '';
        const ok =
          createHash('sha256').update(verifier).digest('base64url') ===
          challenges.get(form.get('code') ?? '');
        res.writeHead(ok ? 200 : 400, { 'content-type': 'application/json' });
        return res.end(
          JSON.stringify(
            ok ? { access_token: TOKEN, scope: 'repo:read' } : { error: 'invalid_grant' },
          ),
        );
      }
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        res.writeHead(401, { 'content-type': 'application/json' });
        return res.end('{"message":"Bad credentials"}');
      }
      if (url.pathname === '/issues') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(
          JSON.stringify([
            {
              id: 'I_77',
              title: 'Crash when the cache directory is missing',
              body: 'Steps: delete ~/.cache',
              html_url: 'https://github.com/acme/cli/issues/77',
            },
          ]),
        );
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"login":"dev"}');
    });
  });
  return new Promise((resolve) =>
    provider.listen(0, '127.0.0.1', () => {
      const address = provider.address() as { port: number };
      providerUrl = `http://127.0.0.1:${address.port}`;
      resolve();
    }),
  );
}

/** Speaks the fake's wire format; stands in for the connector registry until it is merged. */
const createConnector: CreateConnector = (kind, config, doFetch): Connector => ({
  kind,
  scopes: ['repo:read'],
  authorizeUrl({ state, codeVerifier }) {
    const u = new URL(config.endpoints.authorizeUrl);
    u.searchParams.set('client_id', config.clientId);
    u.searchParams.set('redirect_uri', config.redirectUri);
    u.searchParams.set('state', state);
    u.searchParams.set(
      'code_challenge',
      createHash('sha256').update(codeVerifier).digest('base64url'),
    );
    u.searchParams.set('code_challenge_method', 'S256');
    return u;
  },
  async exchange(code, codeVerifier) {
    const res = await doFetch(config.endpoints.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        code,
        code_verifier: codeVerifier,
        client_id: config.clientId,
      }).toString(),
    });
    if (!res.ok) throw new Error(`token endpoint answered ${res.status}`);
    const body = (await res.json()) as { access_token: string; scope: string };
    return { accessToken: body.access_token, scopes: body.scope.split(' ') };
  },
  refresh: (c) => Promise.resolve(c),
  async test(c) {
    const res = await doFetch(`${config.endpoints.apiBaseUrl}/user`, {
      headers: { authorization: `Bearer ${c.accessToken}` },
    });
    return [
      { step: 'auth', ok: res.ok, detail: res.ok ? 'token accepted' : `HTTP ${res.status}` },
      { step: 'scopes', ok: true, detail: (c.scopes ?? []).join(' ') },
    ];
  },
  async sync(c, cursor) {
    const res = await doFetch(`${config.endpoints.apiBaseUrl}/issues`, {
      headers: { authorization: `Bearer ${c.accessToken}` },
    });
    const issues = (await res.json()) as Array<{
      id: string;
      title: string;
      body: string;
      html_url: string;
    }>;
    return {
      items: cursor
        ? []
        : issues.map((i) => ({
            kind,
            ref: i.id,
            url: i.html_url,
            title: i.title,
            snippet: i.body,
            people: [{ role: 'author' as const, handle: 'octo' }],
            labels: ['bug'],
            identifiers: { issueKey: 'ACME/CLI#77', urls: [i.html_url] },
            mentions: [],
            waitingOnUser: true,
            createdAt: new Date().toISOString(),
            updatedAt: new Date().toISOString(),
          })),
      removedRefs: [],
      cursor: 'after-1',
      more: false,
    };
  },
});

async function api<T = unknown>(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T; text: string }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed as T, text };
}

async function waitFor<T>(
  check: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

type Task = { id: string; title: string; score: number; state: string; horizon: string };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pb-inbox-'));
  await startProvider();
  const config = loadConfig({
    env: {
      PATCHBAY_DATA_DIR: dir,
      PATCHBAY_PORT: '0',
      PATCHBAY_HOST: '127.0.0.1',
      PATCHBAY_INBOX_DEV_SEED: '1',
      PATCHBAY_INBOX_KEYS: 'k1:a test key of enough length',
      PATCHBAY_INBOX_APPS: JSON.stringify({
        github: {
          clientId: 'cid',
          apiBaseUrl: providerUrl,
          authorizeUrl: `${providerUrl}/authorize`,
          tokenUrl: `${providerUrl}/token`,
        },
      }),
      PATCHBAY_INBOX_SYNC_INTERVAL_MS: '600000',
      PATH: '/usr/bin:/bin',
      HOME: tmpdir(),
    },
    cwd: dir,
  });
  server = await startServer({ config, log: createSilentLogger(), version: 't', createConnector });
});
afterAll(async () => {
  await server?.close();
  provider?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('inbox over HTTP', () => {
  it('seeds demo data and answers the top three per horizon, with explainable scores', async () => {
    const seeded = await api<{ tasks: number; connectors: number }>('POST', '/v1/dev/seed');
    expect(seeded.status).toBe(201);
    expect(seeded.body.tasks).toBeGreaterThanOrEqual(8);
    for (const horizon of ['today', 'week', 'month']) {
      const { status, body } = await api<{
        tasks: Array<Task & { scoreInputs: { points: Record<string, number> } }>;
      }>('GET', `/v1/tasks?horizon=${horizon}&limit=3`);
      expect(status).toBe(200);
      expect(body.tasks.length).toBeGreaterThan(0);
      expect(body.tasks.length).toBeLessThanOrEqual(3);
      expect(body.tasks.every((t) => t.horizon === horizon)).toBe(true);
      const scores = body.tasks.map((t) => t.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
      expect(Object.keys(body.tasks[0]!.scoreInputs.points)).toContain('due');
    }
    const today = await api<{ tasks: Task[] }>('GET', '/v1/tasks?horizon=today&limit=3');
    // The Jira incident and the email about it are one task with both sources.
    const incident = today.body.tasks.find((t) => t.title.startsWith('PAY-142'))!;
    const detail = await api<{ sources: Array<{ kind: string }> }>(
      'GET',
      `/v1/tasks/${incident.id}`,
    );
    expect(detail.body.sources.map((s) => s.kind).sort()).toEqual(['gmail', 'jira']);
  });

  it('lists tasks with their sources on request, as each task’s detail has them', async () => {
    type Source = { kind: string; ref: string; url: string | null; title: string };
    const plain = await api<{ tasks: Array<Task & { sources?: Source[] }> }>(
      'GET',
      '/v1/tasks?limit=100',
    );
    expect(plain.body.tasks.length).toBeGreaterThan(1);
    expect(plain.body.tasks.every((t) => t.sources === undefined)).toBe(true);
    const withSources = await api<{ tasks: Array<Task & { sources: Source[] }> }>(
      'GET',
      '/v1/tasks?limit=100&include=sources',
    );
    expect(withSources.body.tasks.map((t) => t.id)).toEqual(plain.body.tasks.map((t) => t.id));
    for (const t of withSources.body.tasks) {
      const detail = await api<{ sources: Source[] }>('GET', `/v1/tasks/${t.id}`);
      expect(t.sources, t.title).toEqual(detail.body.sources);
      expect(t.sources.length, t.title).toBeGreaterThan(0);
    }
    const incident = withSources.body.tasks.find((t) => t.title.startsWith('PAY-142'))!;
    expect(incident.sources.map((s) => s.kind).sort()).toEqual(['gmail', 'jira']);
    const bad = await api<{ error: { code: string } }>('GET', '/v1/tasks?include=audit');
    expect(bad.status).toBe(400);
  });

  it('completes a task and undoes it exactly; refuses what cannot be done', async () => {
    const [top] = (await api<{ tasks: Task[] }>('GET', '/v1/tasks?horizon=week&limit=1')).body
      .tasks;
    const done = await api<Task>('POST', `/v1/tasks/${top!.id}/complete`);
    expect(done.body.state).toBe('done');
    const past = await api<{ tasks: Task[] }>('GET', '/v1/tasks?horizon=past7d&limit=3');
    expect(past.body.tasks.map((t) => t.id)).toContain(top!.id);
    const undone = await api<Task>('POST', `/v1/tasks/${top!.id}/undo`);
    expect(undone.body.state).toBe(top!.state);
    const again = await api<{ error: { code: string } }>('POST', `/v1/tasks/${top!.id}/undo`);
    expect([again.status, again.body.error.code]).toEqual([409, 'INBOX_TRIAGE_INVALID']);
    const missing = await api<{ error: { code: string } }>('POST', '/v1/tasks/task_nope/accept');
    expect([missing.status, missing.body.error.code]).toEqual([404, 'INBOX_TASK_NOT_FOUND']);
    const snooze = await api<Task & { snoozedUntil: string }>(
      'POST',
      `/v1/tasks/${top!.id}/snooze`,
      { until: new Date(Date.now() + 86_400_000).toISOString() },
    );
    expect(snooze.body.state).toBe('snoozed');
  });

  it('draws the graph with issue links and lanes, and lists its filters', async () => {
    const graph = await api<{
      nodes: Array<{ id: string; lane: string }>;
      edges: Array<{ kind: string }>;
    }>('GET', '/v1/graph?window=month');
    expect(graph.status).toBe(200);
    expect(new Set(graph.body.nodes.map((n) => n.lane))).toEqual(
      new Set(['today', 'week', 'month']),
    );
    expect(graph.body.edges.map((e) => e.kind)).toContain('issue_link');
    const filters = await api<{ kinds: string[] }>('GET', '/v1/graph/filters');
    expect(filters.body.kinds).toEqual(['drive', 'github', 'gmail', 'jira']);
  });

  it('connects through OAuth with PKCE, syncs, tests, tests all over SSE with replay, and disconnects; tokens never in responses', async () => {
    const connect = await api<{ authorizeUrl: string }>('POST', '/v1/connectors/github/connect');
    expect(connect.status).toBe(200);
    expect(new URL(connect.body.authorizeUrl).searchParams.get('code_challenge_method')).toBe(
      'S256',
    );
    // The browser: the provider redirects to our callback (no bearer token needed there).
    const redirect = await fetch(connect.body.authorizeUrl, { redirect: 'manual' });
    // Port 0 in the config: the redirect URL names the port the server was given.
    const location = new URL(redirect.headers.get('location')!);
    const back = `${server.url}${location.pathname}${location.search}`;
    const callback = await fetch(back);
    expect(callback.status).toBe(200);
    // A state is good once.
    expect((await fetch(back)).status).toBe(400);
    // The user declined at the provider: a 400 that says so, not a gateway error.
    const declined = await fetch(`${server.url}${location.pathname}?state=x&error=access_denied`);
    expect(declined.status).toBe(400);
    expect(((await declined.json()) as { error: { code: string } }).error.code).toBe(
      'INBOX_OAUTH_DENIED',
    );

    const synced = await waitFor(async () => {
      const { body } = await api<{ tasks: Task[] }>('GET', '/v1/tasks?state=todo&limit=100');
      return body.tasks.find((t) => t.title.startsWith('Crash when the cache'));
    }, 'the synced issue');
    expect(synced.horizon).toBe('week');
    const list = await api<{
      connectors: Array<{ kind: string; status: string; lastSyncAt: string | null }>;
    }>('GET', '/v1/connectors');
    expect(list.body.connectors.find((c) => c.kind === 'github')).toMatchObject({
      status: 'connected',
    });

    const test = await api<{ ok: boolean; steps: unknown[] }>('POST', '/v1/connectors/github/test');
    expect(test.body.ok).toBe(true);

    const sse = await fetch(`${server.url}/v1/connectors/test-all`, {
      method: 'POST',
      headers: { accept: 'text/event-stream' },
    });
    const stream = await sse.text();
    expect(stream).toContain('event: step');
    expect(stream).toContain('event: done');
    const ids = [...stream.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    // Resumed after the first event: the same run, the rest of its events.
    const resumed = await (
      await fetch(`${server.url}/v1/connectors/test-all`, {
        method: 'POST',
        headers: { 'last-event-id': '1' },
      })
    ).text();
    expect([...resumed.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))).toEqual(ids.slice(1));

    for (const text of [connect.text, list.text, test.text, stream, resumed])
      expect(text).not.toContain(TOKEN);
    expect((await api('DELETE', '/v1/connectors/github')).status).toBe(204);
    const after = await api<{ connectors: Array<{ kind: string; status: string }> }>(
      'GET',
      '/v1/connectors',
    );
    expect(after.body.connectors.find((c) => c.kind === 'github')!.status).toBe('disconnected');
  });
});
