/**
 * Task → run through real `patchbay serve` processes and the HTTP API, on SQLite and
 * PostgreSQL: `POST /v1/tasks/:id/run` starts a real agent process (a scripted claude CLI
 * speaking its stream-json) whose prompt is built from the task; the run's end updates the
 * task through the engine's durable `inbox-task` reaction (linked run; done on success when
 * asked, undoable; a failed run leaves it open). On PostgreSQL, the server is killed (-9) while
 * the reaction is mid-way (its write held by a row lock) and the restarted one lands it.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { storeDialects } from '../helpers/services.js';
import {
  cleanupAll,
  ROOT,
  startServer,
  tempDir,
  waitFor,
  type Json,
  type ServerHandle,
} from './helpers.js';

afterAll(cleanupAll);

const CLAUDE = join(ROOT, 'test', 'fixtures', 'agents', 'claude');

/**
 * A scripted `claude` for these runs: records the user message it gets on stdin (the prompt),
 * then prints the recorded success stream, or the error result when the prompt says FAIL-THIS;
 * SLOW-THIS waits 1.5 s first. Like the real CLI in stream-json mode, it exits once stdin closes.
 */
function writeAgent(dir: string): { bin: string; prompts: string } {
  const bin = join(dir, 'claude');
  const prompts = join(dir, 'prompts.ndjson');
  writeFileSync(
    bin,
    `#!/bin/sh
IFS= read -r line
printf '%s\\n' "$line" >> '${prompts}'
case "$line" in *SLOW-THIS*) sleep 1.5 ;; esac
case "$line" in
  *FAIL-THIS*) cat '${join(CLAUDE, 'error-result.ndjson')}'; cat >/dev/null; exit 1 ;;
esac
cat '${join(CLAUDE, 'success-with-tool-calls.ndjson')}'
cat >/dev/null
exit 0
`,
  );
  chmodSync(bin, 0o755);
  return { bin, prompts };
}

async function boot(databaseUrl: string | undefined, agentBin: string, dataDir?: string) {
  return startServer({
    ...(dataDir ? { dataDir } : {}),
    env: {
      ...(databaseUrl ? { PATCHBAY_DATABASE_URL: databaseUrl } : {}),
      PATCHBAY_AGENT_CLAUDE_BIN: agentBin,
      PATCHBAY_INBOX_DEV_SEED: '1',
      PATCHBAY_INBOX_KEYS: 'k1:task run e2e key material',
      PATCHBAY_RUN_LEASE_MS: '1500',
    },
  });
}

async function seededTask(server: ServerHandle, horizon: string): Promise<Json> {
  expect((await server.api.request('POST', '/v1/dev/seed')).status).toBe(201);
  const { body } = await server.api.request('GET', `/v1/tasks?horizon=${horizon}&limit=3`);
  expect(body.tasks.length).toBeGreaterThan(0);
  return body.tasks[0];
}

async function reactionOf(server: ServerHandle, runId: string): Promise<Json> {
  const { body } = await server.api.request('GET', `/v1/runs/${runId}/reactions`);
  return body.reactions.find((r: Json) => r.name === 'inbox-task');
}

describe.each(storeDialects)('inbox task → run ($name)', (dialect) => {
  it('builds the prompt from the task; success with completeOnSuccess marks it done (undoable), a failed run leaves it open', async ({
    skip,
  }) => {
    const opened = await dialect.open();
    if (!opened) return skip();
    try {
      const dir = tempDir('pb-task-run-');
      const agent = writeAgent(dir);
      const server = await boot(dialect.name === 'postgres' ? opened.url : undefined, agent.bin);
      const task = await seededTask(server, 'today');

      const started = await server.api.request('POST', `/v1/tasks/${task.id}/run`, {
        agent: 'claude',
        completeOnSuccess: true,
        instructions: 'Keep the change small.',
      });
      expect(started.status, started.text).toBe(201);
      const run = await server.api.waitForStatus(started.body.id);
      expect(run.status).toBe('succeeded');
      // The agent got the prompt built from the task.
      const prompt = JSON.parse(readFileSync(agent.prompts, 'utf8').trim().split('\n')[0]!);
      const text = JSON.stringify(prompt.message.content);
      expect(text).toContain(`Work on this task from the inbox: ${task.title}`);
      expect(text).toContain('Keep the change small.');
      // The reaction lands: the task is done, linked to the run, and the done is undoable.
      const done = await waitFor(
        async () => {
          const { body } = await server.api.request('GET', `/v1/tasks/${task.id}`);
          return body.state === 'done' ? body : undefined;
        },
        'the task marked done by its run',
        15_000,
      );
      expect(done.runId).toBe(run.id);
      expect(done.audit.map((e: Json) => e.action)).toEqual(
        expect.arrayContaining(['run_started', 'run_ended']),
      );
      expect((await reactionOf(server, run.id)).status).toBe('succeeded');
      const undone = await server.api.request('POST', `/v1/tasks/${task.id}/undo`);
      expect(undone.body.state).toBe(task.state);

      // A failed run: linked, the task stays open, even with completeOnSuccess.
      const other = (await server.api.request('GET', '/v1/tasks?horizon=week&limit=3')).body
        .tasks[0];
      const failing = await server.api.request('POST', `/v1/tasks/${other.id}/run`, {
        agent: 'claude',
        completeOnSuccess: true,
        instructions: 'FAIL-THIS',
      });
      expect(failing.status, failing.text).toBe(201);
      const failed = await server.api.waitForStatus(failing.body.id);
      expect(failed.status).toBe('failed');
      await waitFor(
        async () => (await reactionOf(server, failed.id))?.status === 'succeeded',
        'the reaction of the failed run',
        15_000,
      );
      const after = (await server.api.request('GET', `/v1/tasks/${other.id}`)).body;
      expect(after.state).toBe(other.state);
      expect(after.runId).toBe(failed.id);
      const ended = after.audit.find((e: Json) => e.action === 'run_ended');
      expect(ended.detail).toMatchObject({ runId: failed.id, succeeded: false });
      await server.stop();
    } finally {
      await cleanupAll();
      await opened.cleanup();
    }
  }, 90_000);
});

describe('inbox task → run across a crash (postgres)', () => {
  it('kill -9 while the reaction is mid-way: the restarted server lands it', async ({ skip }) => {
    const opened = await storeDialects.find((d) => d.name === 'postgres')!.open();
    if (!opened) return skip();
    const lock = new pg.Client({ connectionString: opened.url });
    try {
      const dir = tempDir('pb-task-run-crash-');
      const agent = writeAgent(dir);
      const first = await boot(opened.url, agent.bin);
      const task = await seededTask(first, 'today');
      const started = await first.api.request('POST', `/v1/tasks/${task.id}/run`, {
        agent: 'claude',
        completeOnSuccess: true,
        instructions: 'SLOW-THIS',
      });
      expect(started.status, started.text).toBe(201);
      // The task row locked while the run works: the reaction's write will wait on it.
      await lock.connect();
      await lock.query('BEGIN');
      await lock.query('SELECT id FROM inbox_tasks WHERE id = $1 FOR UPDATE', [task.id]);
      const run = await first.api.waitForStatus(started.body.id);
      expect(run.status).toBe('succeeded');
      await waitFor(
        async () => {
          const { rows } = await lock.query(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()",
          );
          return rows[0].n > 0;
        },
        'the reaction to wait on the task row',
        15_000,
      );
      expect((await reactionOf(first, run.id)).status).toBe('running');
      await first.crash();
      // The dead server's blocked write must not land by itself: end it, then free the row.
      await lock.query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database() AND pid <> pg_backend_pid()",
      );
      await lock.query('ROLLBACK');
      const between = await lock.query('SELECT state FROM inbox_tasks WHERE id = $1', [task.id]);
      expect(between.rows[0].state).toBe(task.state);

      const second = await boot(opened.url, agent.bin);
      const done = await waitFor(
        async () => {
          const { body } = await second.api.request('GET', `/v1/tasks/${task.id}`);
          return body.state === 'done' ? body : undefined;
        },
        'the task done after the restart',
        30_000,
      );
      expect(done.runId).toBe(run.id);
      expect(done.audit.filter((e: Json) => e.action === 'run_ended')).toHaveLength(1);
      const reaction = await reactionOf(second, run.id);
      expect(reaction.status).toBe('succeeded');
      expect(reaction.attempts.length).toBeGreaterThanOrEqual(2);
      await second.stop();
    } finally {
      await lock.end().catch(() => undefined);
      await cleanupAll();
      await opened.cleanup();
    }
  }, 120_000);
});
