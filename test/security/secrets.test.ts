/**
 * A run's `env` values are secrets: another run (or anyone with the SQLite file) must not
 * read them from the store, and a process without the right key must not start the run with
 * garbage instead of them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupAll, startServer, tempDir, waitFor } from '../e2e/helpers.js';

afterAll(cleanupAll);

const SECRET = 'sk-test-4f1b2c9d8e7a6b5c';

function storeBytes(dataDir: string): string {
  return ['patchbay.db', 'patchbay.db-wal']
    .map((f) => join(dataDir, f))
    .filter(existsSync)
    .map((f) => readFileSync(f).toString('latin1'))
    .join('');
}

describe("the server's own environment", () => {
  it("is out of a run's reach: not inherited, and no /proc entry of the server to read", async () => {
    const serverSecret = 'whsec-server-only-9c2f7e';
    const server = await startServer({ env: { PATCHBAY_WEBHOOK_SECRET: serverSecret } });
    const run = await server.api.createRun({
      command: [
        'sh',
        '-c',
        'env; cat /proc/$PPID/environ; for p in /proc/[0-9]*; do cat $p/environ; done; echo end',
      ],
      wait: true,
    });
    const events = await server.api.request<{ events: { data: { text?: string } }[] }>(
      'GET',
      `/v1/runs/${run.id}/events?limit=1000`,
    );
    const output = events.body.events.map((e) => e.data.text ?? '').join('');
    expect(output).toContain('end');
    expect(output).toContain('PATH=');
    expect(output).not.toContain(serverSecret);
    await server.stop();
  });
});

describe("an agent's provider credentials (PATCHBAY_AGENT_CREDENTIALS)", () => {
  const fakeClaude = join(import.meta.dirname, '..', 'fixtures', 'agents', 'fake-claude.sh');
  const providerEnv = { ANTHROPIC_API_KEY: 'sk-ant-test-81f2', OPENAI_API_KEY: 'sk-oai-test-77c1' };

  it("reach that agent's runs only: not another provider's, not shell runs, never an answer", async () => {
    const server = await startServer({
      env: { ...providerEnv, PATCHBAY_AGENT_CLAUDE_BIN: fakeClaude },
    });
    const agent = await server.api.createRun({ agent: 'claude', prompt: 'env please', wait: true });
    expect(agent.status, JSON.stringify(agent.error)).toBe('succeeded');
    const seen = readFileSync(
      join(server.dataDir, 'workspaces', agent.id, 'agent-env.txt'),
      'utf8',
    );
    expect(seen).toBe('ANTHROPIC_API_KEY=sk-ant-test-81f2\nOPENAI_API_KEY=\n');
    const shell = await server.api.createRun({
      command: ['sh', '-c', 'test -z "$ANTHROPIC_API_KEY" && test -z "$OPENAI_API_KEY"'],
      wait: true,
    });
    expect(shell.status).toBe('succeeded');
    const answers = JSON.stringify([await server.api.getRun(agent.id), agent]);
    expect(answers).not.toContain('sk-ant-test-81f2');
    expect(storeBytes(server.dataDir)).not.toContain('sk-ant-test-81f2');
    await server.stop();
  });

  it('reach no run with `none`', async () => {
    const server = await startServer({
      env: {
        ...providerEnv,
        PATCHBAY_AGENT_CLAUDE_BIN: fakeClaude,
        PATCHBAY_AGENT_CREDENTIALS: 'none',
      },
    });
    const agent = await server.api.createRun({ agent: 'claude', prompt: 'env please', wait: true });
    const seen = readFileSync(
      join(server.dataDir, 'workspaces', agent.id, 'agent-env.txt'),
      'utf8',
    );
    expect(seen).toBe('ANTHROPIC_API_KEY=\nOPENAI_API_KEY=\n');
    await server.stop();
  });
});

describe('run env at rest', () => {
  it('is sealed in the store, and the run still gets the values', async () => {
    const server = await startServer();
    const run = await server.api.createRun({
      // The command proves the value arrived without containing it.
      command: ['sh', '-c', 'test "${#API_KEY}" = 24 && test "${API_KEY#sk-test-}" != "$API_KEY"'],
      env: { API_KEY: SECRET },
      wait: true,
    });
    expect(run.status).toBe('succeeded');
    expect(run.envKeys).toEqual(['API_KEY']);
    expect(JSON.stringify(await server.api.getRun(run.id))).not.toContain(SECRET);
    // Neither the database nor its WAL holds the value.
    const bytes = storeBytes(server.dataDir);
    expect(bytes).toContain('API_KEY');
    expect(bytes).not.toContain(SECRET);
    await server.stop();
  });

  it("is sealed in a schedule's stored run too, and never answered", async () => {
    const server = await startServer();
    const created = await server.api.request('POST', '/v1/schedules', {
      name: 'nightly',
      cron: '0 3 * * *',
      run: { command: ['true'], env: { API_KEY: SECRET } },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.text).not.toContain(SECRET);
    const bytes = storeBytes(server.dataDir);
    expect(bytes).toContain('nightly');
    expect(bytes).not.toContain(SECRET);
    await server.stop();
  });

  it('a queued run sealed with another key fails with RUN_SECRETS_UNREADABLE, never runs', async () => {
    const dataDir = tempDir();
    const first = await startServer({
      dataDir,
      env: {
        PATCHBAY_SECRETS_KEY: 'the first key, long enough',
        PATCHBAY_MAX_CONCURRENT_RUNS: '1',
      },
    });
    const blocker = await first.api.createRun({ command: ['sleep', '30'] });
    const queued = await first.api.createRun({
      command: ['sh', '-c', 'touch ran'],
      env: { API_KEY: SECRET },
    });
    await waitFor(
      async () => (await first.api.getRun(blocker.id)).status === 'running',
      'the blocker to run',
    );
    await first.crash();
    const second = await startServer({
      dataDir,
      env: { PATCHBAY_SECRETS_KEY: 'another key, also long enough' },
    });
    const ended = await waitFor(async () => {
      const r = await second.api.getRun(queued.id);
      return r.status === 'queued' ? null : r;
    }, 'the queued run to end');
    expect(ended.status).toBe('failed');
    expect(ended.error?.code).toBe('RUN_SECRETS_UNREADABLE');
    expect(existsSync(join(dataDir, 'workspaces', queued.id, 'ran'))).toBe(false);
  });
});
