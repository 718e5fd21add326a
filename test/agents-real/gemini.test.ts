/**
 * The real gemini-cli (pinned in package.json) run by `patchbay serve`, over HTTP only, against
 * a scripted Gemini API on 127.0.0.1. The CLI is pointed at it the way a user points it at a
 * gateway: GEMINI_API_KEY and GOOGLE_GEMINI_BASE_URL in the server's environment (they reach
 * gemini runs as its credentials) and `security.auth.selectedType: gemini-api-key` in
 * ~/.gemini/settings.json (gemini-cli 0.61 otherwise picks its `gateway` auth type for a base
 * URL, which headless mode refuses: "Invalid auth method selected.", exit 41), with
 * `general.maxAttempts: 1` so that a 429 or a 5xx ends the run at once instead of ~4 minutes of
 * silent backoff.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBwrap } from '../helpers/services.js';
import {
  cleanupAll,
  gitIn,
  startServer,
  tempDir,
  waitFor,
  type Json,
  type Run,
  type ServerHandle,
} from '../e2e/helpers.js';
import { errors, startGeminiServer, type GeminiServer } from './gemini/server.js';
import { caseTag, finished as ended, freshHome, realCliBin, SERVE_START_MS } from './harness.js';

const bin = realCliBin('gemini');

/** A small git repository inside the server's default trusted root. */
function makeRepo(dataDir: string): string {
  const path = join(dataDir, 'workspaces', 'app');
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'README.md'), '# app\n');
  gitIn(path, 'init', '-q', '-b', 'main');
  gitIn(path, 'add', '.');
  gitIn(path, 'commit', '-q', '-m', 'initial');
  return path;
}

interface Started {
  server: ServerHandle;
  repo: Json;
}

async function startPatchbay(
  model: GeminiServer,
  home: string,
  env: Record<string, string> = {},
): Promise<Started> {
  const dataDir = tempDir();
  const repoPath = makeRepo(dataDir);
  const server = await startServer({
    startTimeoutMs: SERVE_START_MS,
    dataDir,
    env: {
      HOME: home,
      GEMINI_API_KEY: 'test-key',
      GOOGLE_GEMINI_BASE_URL: model.url,
      PATCHBAY_AGENT_GEMINI_BIN: bin!,
      ...env,
    },
  });
  const res = await server.api.request('POST', '/v1/repos', { path: repoPath });
  expect(res.status, res.text).toBe(201);
  return { server, repo: res.body };
}

/** Ends within `ms`, or fails with what the CLI printed: every case here must be bounded. */
async function finished(server: ServerHandle, id: string, ms = 60_000): Promise<Run> {
  return ended(server.api, id, ms);
}

/** What the server reported to case `name`, as a run's usage. */
function sentTo(model: GeminiServer, name: string) {
  const sent = model.sentUsage(name);
  return { input: sent.prompt, output: sent.candidates, cacheRead: 0, cacheWrite: 0 };
}

/**
 * ~/.gemini/settings.json for these runs: `gemini-api-key` auth and one attempt (see above),
 * and no usage statistics: otherwise every run posts to play.googleapis.com and probes the GPU
 * (systeminformation spawns lspci and friends) next to its startup. Neither is awaited before
 * the first request, but on a loaded 2-core CI box they are work and network no test needs;
 * `privacy.usageStatisticsEnabled: false` is how a user turns them off.
 */
const SETTINGS = {
  security: { auth: { selectedType: 'gemini-api-key' } },
  general: { maxAttempts: 1 },
  privacy: { usageStatisticsEnabled: false },
};

/** A fresh HOME with SETTINGS in ~/.gemini/settings.json. */
function geminiHome(): string {
  const home = freshHome();
  mkdirSync(join(home, '.gemini'));
  writeFileSync(join(home, '.gemini', 'settings.json'), JSON.stringify(SETTINGS));
  return home;
}

/** Every text part of a recorded request's `contents`, with its role. */
function conversation(body: Json): string[] {
  return (body?.contents ?? []).flatMap((c: Json) =>
    (c.parts ?? [])
      .filter((p: Json) => typeof p.text === 'string')
      .map((p: Json) => `${c.role}: ${p.text}`),
  );
}

afterAll(cleanupAll);

describe.skipIf(!bin)('gemini-cli (real) through patchbay serve', () => {
  let model: GeminiServer;
  let server: ServerHandle;
  let repo: Json;

  beforeAll(async () => {
    model = await startGeminiServer();
    ({ server, repo } = await startPatchbay(model, geminiHome()));
  });
  afterAll(async () => {
    await model?.close();
  });

  it('writes a file (auto_edit): the diff has it, the answer is the last turn, usage is what the API sent', async () => {
    model.script(
      'write',
      {
        text: 'I will write it.',
        call: {
          name: 'write_file',
          args: { file_path: 'hello.txt', content: 'hello from gemini\n' },
        },
        usage: { prompt: 120, candidates: 12 },
      },
      { text: 'Done: wrote hello.txt.', usage: { prompt: 150, candidates: 7 } },
    );
    const created = await server.api.createRun({
      agent: 'gemini',
      prompt: `write hello.txt ${caseTag('write')}`,
      repo: repo.id,
    });
    const run = await finished(server, created.id);
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    const diff = await server.api.request('GET', `/v1/runs/${run.id}/diff`);
    expect(diff.text).toContain('+++ b/hello.txt');
    expect(diff.text).toContain('+hello from gemini');
    expect(run.resultText).toBe('Done: wrote hello.txt.');
    expect(run.numTurns).toBe(2);
    const turns = model.turns('write');
    expect(turns).toHaveLength(2);
    expect(run.model).toBe(turns[0]!.model); // the model the router chose, not `auto`
    expect(run.usage).toEqual(sentTo(model, 'write'));
    expect(run.permissionDenials).toEqual([]);
    expect(run.agentPermissions).toBe('edit');
  });

  it('read-only: the write is refused (plan mode), no file, the denial is surfaced', async () => {
    model.script(
      'read-only',
      { call: { name: 'write_file', args: { file_path: 'nope.txt', content: 'x\n' } } },
      { text: 'I could not write it.' },
    );
    const created = await server.api.createRun({
      agent: 'gemini',
      prompt: `write nope.txt ${caseTag('read-only')}`,
      repo: repo.id,
      agentPermissions: 'read-only',
    });
    const run = await finished(server, created.id);
    expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
    expect(run.permissionDenials).toEqual([{ tool: 'write_file', detail: 'nope.txt' }]);
    const diff = await server.api.request('GET', `/v1/runs/${run.id}/diff`);
    expect(diff.text).not.toContain('nope.txt');
    const events = await server.api.events(run.id);
    const denial = events.find(
      (e) => e.type === 'error' && e.data.code === 'AGENT_PERMISSION_DENIED',
    );
    expect(denial?.data.message).toContain('write_file (nope.txt)');
  });

  it('a conversation resumes the session: the second request carries the first exchange', async () => {
    const conv = await server.api.request('POST', '/v1/conversations', {
      agent: 'gemini',
      repo: repo.id,
    });
    expect(conv.status, conv.text).toBe(201);
    const remember = `Remember the word PAPAYA. ${caseTag('resume-1')}`;
    model.script('resume-1', { text: 'Noted: PAPAYA.', usage: { prompt: 90, candidates: 4 } });
    const first = await server.api.request('POST', `/v1/conversations/${conv.body.id}/messages`, {
      prompt: remember,
    });
    const run1 = await finished(server, first.body.id);
    expect(run1.status, JSON.stringify(run1.error)).toBe('succeeded');

    const which = `Which word? ${caseTag('resume-2')}`;
    model.script('resume-2', {
      text: 'The word was PAPAYA.',
      usage: { prompt: 300, candidates: 6 },
    });
    const second = await server.api.request('POST', `/v1/conversations/${conv.body.id}/messages`, {
      prompt: which,
    });
    const run2 = await finished(server, second.body.id);
    expect(run2.status, JSON.stringify(run2.error)).toBe('succeeded');
    expect(run2.resumeSessionId).toBe(run1.sessionId);
    expect(run2.sessionId).toBe(run1.sessionId);
    expect(run2.resultText).toBe('The word was PAPAYA.');
    const sent = conversation(model.turns('resume-2')[0]!.body);
    expect(sent).toEqual(
      expect.arrayContaining([`user: ${remember}`, 'model: Noted: PAPAYA.', `user: ${which}`]),
    );
    // gemini reports this process's requests only: the run's usage is its own.
    expect(run2.usage).toEqual(sentTo(model, 'resume-2'));
  });

  it('an interrupted turn ends cancelled, and the next message resumes the session', async () => {
    const conv = await server.api.request('POST', '/v1/conversations', { agent: 'gemini' });
    const count = `Count the stars. ${caseTag('interrupt')}`;
    model.script('interrupt', { hang: 'Thinking about' });
    const first = await server.api.request('POST', `/v1/conversations/${conv.body.id}/messages`, {
      prompt: count,
    });
    await waitFor(() => model.turns('interrupt').length > 0, 'the turn to reach the model', 60_000);
    // The CLI has printed its init line (the session exists) and waits on the model.
    await waitFor(
      async () => (await server.api.events(first.body.id)).some((e) => e.data.subtype === 'init'),
      'the init line',
      30_000,
    );
    const res = await server.api.request('POST', `/v1/runs/${first.body.id}/interrupt`);
    expect(res.status, res.text).toBe(200);
    const run1 = await finished(server, first.body.id, 30_000);
    expect([run1.status, run1.error?.code]).toEqual(['cancelled', 'AGENT_TURN_INTERRUPTED']);

    const goOn = `Go on. ${caseTag('interrupt-resume')}`;
    model.script('interrupt-resume', { text: 'Resumed.' });
    const second = await server.api.request('POST', `/v1/conversations/${conv.body.id}/messages`, {
      prompt: goOn,
    });
    const run2 = await finished(server, second.body.id);
    expect(run2.status, JSON.stringify(run2.error)).toBe('succeeded');
    expect(run2.resumeSessionId).toBe(run1.sessionId);
    const sent = conversation(model.turns('interrupt-resume')[0]!.body);
    expect(sent).toContain(`user: ${count}`);
    expect(sent.at(-1)).toBe(`user: ${goOn}`);
  });

  it.each([
    ['401', errors.unauthenticated(), 'AGENT_AUTH_FAILED', 'invalid authentication credentials'],
    ['429', errors.rateLimited('2s'), 'AGENT_RATE_LIMITED', 'Suggested retry after 2s'],
    ['500', errors.internal(), 'AGENT_PROVIDER_ERROR', '500 INTERNAL'],
    ['400 context', errors.contextLength(), 'AGENT_CONTEXT_WINDOW_EXCEEDED', 'input token count'],
  ])(
    'a %s from the API fails the run with its code, without a long backoff',
    async (name, error, code, words) => {
      model.script(name, { error });
      const started = Date.now();
      const created = await server.api.createRun({
        agent: 'gemini',
        prompt: `hello ${caseTag(name)}`,
      });
      const run = await finished(server, created.id, 45_000);
      expect(Date.now() - started).toBeLessThan(45_000);
      expect([run.status, run.error?.code]).toEqual(['failed', code]);
      expect(run.error?.message).toContain(words);
      expect(run.error?.message).not.toContain('[API Error');
      expect(model.pending(name)).toBe(0);
    },
  );
});

/**
 * Its own HOME: gemini-cli 0.61 exits 41 here while its unawaited startup cleanup
 * (cleanupCheckpoints -> Storage.initialize -> ProjectRegistry.getShortId) may be between the
 * mkdir of ~/.gemini/projects.json.lock and proper-lockfile's registering it, so the exit's
 * cleanup leaves the lock behind. The next gemini in that HOME then prints nothing until the
 * lock is 10 s old, retrying at 0.1·2^k s (12.7 s, 25.5 s, then 51 s: two lockers per process
 * race for it): in CI, the 401 case after this one never reached the model in 45 s.
 */
describe.skipIf(!bin)('gemini-cli (real) without an API key', () => {
  let model: GeminiServer;
  let server: ServerHandle;

  beforeAll(async () => {
    model = await startGeminiServer();
    ({ server } = await startPatchbay(model, geminiHome()));
  });
  afterAll(async () => {
    await model?.close();
  });

  it('no API key: the CLI stops before its stream, AGENT_AUTH_FAILED in its own words', async () => {
    const created = await server.api.createRun({
      agent: 'gemini',
      prompt: 'hello',
      env: { GEMINI_API_KEY: '' },
    });
    const run = await finished(server, created.id, 45_000);
    expect([run.status, run.error?.code, run.exitCode]).toEqual([
      'failed',
      'AGENT_AUTH_FAILED',
      41,
    ]);
    expect(run.error?.message).toContain('GEMINI_API_KEY');
    expect(run.error?.message).not.toContain('\u001b[');
  });
});

const bwrap = bin ? await requireBwrap() : null;

describe.skipIf(!bin || !bwrap)(
  'gemini-cli (real) under PATCHBAY_SANDBOX=bwrap, a HOME with only its gateway settings',
  () => {
    let model: GeminiServer;
    let server: ServerHandle;
    let repo: Json;

    beforeAll(async () => {
      model = await startGeminiServer();
      // The sandbox hides /tmp (where a checkout may be): the gateway settings are where a user
      // puts them, ~/.gemini/settings.json, which the sandbox binds. Nothing else is in HOME.
      const home = geminiHome();
      ({ server, repo } = await startPatchbay(model, home, { PATCHBAY_SANDBOX: 'bwrap' }));
    });
    afterAll(async () => {
      await model?.close();
    });

    it('writes a file in the sandbox (network: true reaches the loopback model server)', async () => {
      model.script(
        'boxed',
        {
          call: {
            name: 'write_file',
            args: { file_path: 'boxed.txt', content: 'from the sandbox\n' },
          },
        },
        { text: 'Wrote boxed.txt.' },
      );
      const created = await server.api.createRun({
        agent: 'gemini',
        prompt: `write boxed.txt ${caseTag('boxed')}`,
        repo: repo.id,
        network: true,
      });
      const run = await finished(server, created.id);
      expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
      expect(run.sandbox).toBe('bwrap');
      const diff = await server.api.request('GET', `/v1/runs/${run.id}/diff`);
      expect(diff.text).toContain('+from the sandbox');
      expect(run.resultText).toBe('Wrote boxed.txt.');
    });
  },
);
