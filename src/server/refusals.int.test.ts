import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { injectServers } from '../../test/helpers/inject-server.js';
import type { Schedule } from '../contracts/index.js';

/**
 * What a newcomer gets wrong first is refused at once, with a stable code and a message that
 * says what to do: which roots are trusted and the setting that adds one, how to install a
 * missing agent CLI. Never later at a tick, never with a stack trace.
 */
const servers = injectServers('pb-refuse-');
afterEach(servers.closeAll);

interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** The error of a refused request: its status and code, and no stack trace anywhere. */
function refusal(res: LightMyRequestResponse, status: number, code: string) {
  expect([res.statusCode, res.json<ErrorBody>().error.code], res.body).toEqual([status, code]);
  expect(res.body).not.toMatch(/\n\s+at |\.ts:\d+|node_modules/);
  return res.json<ErrorBody>().error;
}

describe('workdir outside the trusted roots', () => {
  it('names the trusted roots and PATCHBAY_WORKSPACE_ROOTS, for repos, runs and schedules', async () => {
    // An installed "agent", so that the conversation is refused for its workdir alone.
    const { app, dataDir } = await servers.boot({ PATCHBAY_AGENT_CLAUDE_BIN: '/bin/true' });
    const root = join(dataDir, 'workspaces');
    const outside = join(dataDir, 'elsewhere');
    mkdirSync(outside);
    const attempts = [
      ['/v1/repos', { path: outside }],
      ['/v1/runs', { command: ['true'], workdir: outside }],
      ['/v1/conversations', { agent: 'claude', workdir: outside }],
      // The README's old example: accepted once, then skipped at every tick.
      [
        '/v1/schedules',
        { cron: '0 3 * * *', run: { command: ['make', 'test'], workdir: '/srv/app' } },
      ],
    ] as const;
    for (const [url, payload] of attempts) {
      const res = await app.inject({ method: 'POST', url, payload });
      const error = refusal(res, 403, 'WORKDIR_NOT_TRUSTED');
      expect(error.message).toContain(`trusted roots: ${root}.`);
      expect(error.message).toContain('PATCHBAY_WORKSPACE_ROOTS');
      expect(error.details).toMatchObject({ roots: [root], setting: 'PATCHBAY_WORKSPACE_ROOTS' });
    }
    expect((await app.inject({ method: 'GET', url: '/v1/schedules' })).json()).toEqual({
      schedules: [],
    });
  });

  it('lists every configured root', async () => {
    const { app, dataDir } = await servers.boot({
      PATCHBAY_WORKSPACE_ROOTS: '/tmp/pb-refuse-a,/tmp/pb-refuse-b',
    });
    const res = await app.inject({
      method: 'POST',
      url: '/v1/runs',
      payload: { command: ['true'], workdir: dataDir },
    });
    const error = refusal(res, 403, 'WORKDIR_NOT_TRUSTED');
    expect(error.message).toContain('trusted roots: /tmp/pb-refuse-a, /tmp/pb-refuse-b.');
    rmSync('/tmp/pb-refuse-a', { recursive: true, force: true });
    rmSync('/tmp/pb-refuse-b', { recursive: true, force: true });
  });
});

describe('an agent whose CLI is not installed', () => {
  const cases = [
    ['claude', 'npm install -g @anthropic-ai/claude-code'],
    ['codex', 'npm install -g @openai/codex'],
    ['gemini', 'npm install -g @google/gemini-cli'],
    ['cursor', 'curl https://cursor.com/install -fsS | bash'],
  ] as const;

  it.each(cases)(
    '%s: refused for conversations and schedules with how to install it',
    async (agent, install) => {
      const setting = `PATCHBAY_AGENT_${agent.toUpperCase()}_BIN`;
      const { app } = await servers.boot({ [setting]: `/nonexistent/${agent}` });
      const conversation = await app.inject({
        method: 'POST',
        url: '/v1/conversations',
        payload: { agent },
      });
      const schedule = await app.inject({
        method: 'POST',
        url: '/v1/schedules',
        payload: { cron: '0 9 * * 1-5', run: { agent, prompt: 'triage' } },
      });
      for (const res of [conversation, schedule]) {
        const error = refusal(res, 400, 'AGENT_NOT_INSTALLED');
        expect(error.message).toContain(install);
        expect(error.message).toContain(`${setting} is \`/nonexistent/${agent}\``);
        expect(error.details).toMatchObject({ agent, setting, bin: `/nonexistent/${agent}` });
      }
      expect((await app.inject({ method: 'GET', url: '/v1/conversations' })).json()).toMatchObject({
        conversations: [],
      });
      expect((await app.inject({ method: 'GET', url: '/v1/schedules' })).json()).toEqual({
        schedules: [],
      });
    },
  );
});

describe("a schedule's run is validated as a run would be", () => {
  it('accepts the README example once its directory is inside a trusted root', async () => {
    const { app, dataDir } = await servers.boot();
    mkdirSync(join(dataDir, 'workspaces', 'app'), { recursive: true });
    const res = await app.inject({
      method: 'POST',
      url: '/v1/schedules',
      payload: {
        name: 'nightly tests',
        cron: '0 3 * * *',
        timezone: 'Europe/Berlin',
        run: { command: ['make', 'test'], workdir: 'app' },
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json<Schedule>()).toMatchObject({ lastFire: null, lastRunAt: null });
  });

  it('refuses what createRun refuses: repo, allowed commands, callback URL', async () => {
    const { app } = await servers.boot({ PATCHBAY_ALLOWED_COMMANDS: 'true' });
    const post = (run: Record<string, unknown>) =>
      app.inject({ method: 'POST', url: '/v1/schedules', payload: { cron: '0 3 * * *', run } });
    refusal(await post({ command: ['true'], repo: 'repo_nope' }), 404, 'REPO_NOT_FOUND');
    refusal(await post({ command: ['rm', '-rf', 'x'] }), 403, 'COMMAND_NOT_ALLOWED');
    refusal(
      await post({ command: ['true'], callbackUrl: 'http://127.0.0.1:9/hook' }),
      400,
      'CALLBACK_URL_FORBIDDEN',
    );
    refusal(await post({ agent: 'shell' }), 400, 'RUN_COMMAND_REQUIRED');
    expect((await app.inject({ method: 'GET', url: '/v1/schedules' })).json()).toEqual({
      schedules: [],
    });
  });

  it('checks a changed run, and the stored run when the schedule is enabled again', async () => {
    const { app, dataDir } = await servers.boot();
    const dir = join(dataDir, 'workspaces', 'app');
    mkdirSync(dir, { recursive: true });
    const created = await app.inject({
      method: 'POST',
      url: '/v1/schedules',
      payload: { cron: '0 3 * * *', enabled: false, run: { command: ['true'], workdir: 'app' } },
    });
    expect(created.statusCode, created.body).toBe(201);
    const { id } = created.json<Schedule>();
    const patch = (payload: Record<string, unknown>) =>
      app.inject({ method: 'PATCH', url: `/v1/schedules/${id}`, payload });

    refusal(
      await patch({ run: { command: ['true'], workdir: '/srv/app' } }),
      403,
      'WORKDIR_NOT_TRUSTED',
    );
    const kept = (await app.inject({ method: 'GET', url: `/v1/schedules/${id}` })).json<Schedule>();
    expect(kept.run.workdir).toBe('app');

    rmSync(dir, { recursive: true });
    refusal(await patch({ enabled: true }), 400, 'WORKDIR_NOT_FOUND');
    // Renaming a disabled schedule does not need a valid run.
    expect((await patch({ name: 'later' })).statusCode).toBe(200);
    mkdirSync(dir);
    const on = await patch({ enabled: true });
    expect(on.statusCode, on.body).toBe(200);
    expect(on.json<Schedule>()).toMatchObject({ enabled: true, name: 'later' });
  });
});
