import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPostgresDatabase,
  deleteRedisKeys,
  requirePostgres,
  requireRedis,
} from '../helpers/services.js';
import { cleanupAll, readSse, startServer, type ServerHandle } from './helpers.js';

const admin = await requirePostgres();
const redisUrl = await requireRedis();

afterAll(cleanupAll);

describe.skipIf(!admin || !redisUrl)(
  'two servers sharing PostgreSQL and Redis (PATCHBAY_QUEUE_URL)',
  () => {
    const prefix = `patchbay-e2e-${randomBytes(4).toString('hex')}`;
    let drop: (() => Promise<void>) | undefined;
    let a: ServerHandle;
    let b: ServerHandle;

    beforeAll(async () => {
      const database = await createPostgresDatabase(admin!);
      drop = database.drop;
      const env = {
        PATCHBAY_DATABASE_URL: database.url,
        PATCHBAY_QUEUE_URL: redisUrl!,
        PATCHBAY_QUEUE_PREFIX: prefix,
        PATCHBAY_MAX_CONCURRENT_RUNS: '3',
      };
      a = await startServer({ env });
      b = await startServer({ env });
    });
    afterAll(async () => {
      await a?.stop();
      await b?.stop();
      await drop?.();
      await deleteRedisKeys(redisUrl!, prefix);
    });

    it('runs posted to one server run once, and their events stream complete from the other', async () => {
      const runs = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          a.api.createRun({
            command: ['sh', '-c', `for j in 1 2 3; do echo run${i} line $j; sleep 0.05; done`],
          }),
        ),
      );
      const streams = await Promise.all(
        runs.map((run) => readSse(`${b.url}/v1/runs/${run.id}/events`, { timeoutMs: 20_000 })),
      );
      for (const [i, stream] of streams.entries()) {
        const text = stream.events
          .filter((e) => e.type === 'output')
          .map((e) => String(e.data.text))
          .join('');
        expect(text).toBe(`run${i} line 1\nrun${i} line 2\nrun${i} line 3\n`);
        const seqs = stream.events.map((e) => e.seq);
        expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, k) => k + 1));
        expect(stream.events.at(-1)!.data.status).toBe('succeeded');
      }
      // Every run ended exactly once, as either server sees it.
      for (const run of runs) {
        const seen = await b.api.getRun(run.id);
        expect(seen.status).toBe('succeeded');
        const statuses = (await a.api.events(run.id))
          .filter((e) => e.type === 'status')
          .map((e) => e.data.status);
        expect(statuses).toEqual(['queued', 'running', 'succeeded']);
      }
      const health = await b.api.request('GET', '/health/queue');
      expect(health.body.queue).toMatchObject({ waiting: 0, limit: 3 });
    });

    it('cancel, pause, resume and interrupt sent to either server reach the one running the run', async () => {
      // Six long runs, three slots per server: both servers hold some of them.
      const runs = await Promise.all(
        Array.from({ length: 6 }, () =>
          a.api.createRun({ command: ['sh', '-c', 'echo started; sleep 30'] }),
        ),
      );
      for (const run of runs) await a.api.waitForProcess(run.id, 15_000);
      for (const run of runs) {
        const paused = await b.api.request('POST', `/v1/runs/${run.id}/pause`);
        expect(paused.status, paused.text).toBe(200);
      }
      for (const run of runs) expect((await a.api.getRun(run.id)).status).toBe('paused');
      for (const run of runs) {
        const resumed = await a.api.request('POST', `/v1/runs/${run.id}/resume`);
        expect(resumed.status, resumed.text).toBe(200);
      }
      for (const [i, run] of runs.entries()) {
        const verb = i < 3 ? 'interrupt' : 'cancel';
        const res = await b.api.request('POST', `/v1/runs/${run.id}/${verb}`);
        expect(res.status, res.text).toBe(200);
      }
      for (const [i, run] of runs.entries()) {
        const ended = await a.api.waitForStatus(run.id);
        expect(ended.status).toBe('cancelled');
        expect(ended.error?.code).toBe(i < 3 ? 'AGENT_TURN_INTERRUPTED' : 'RUN_CANCELLED');
      }
      // A run nobody holds any more: the stable refusal, not a hang.
      const again = await b.api.request('POST', `/v1/runs/${runs[0]!.id}/pause`);
      expect([again.status, again.body.error.code]).toEqual([409, 'RUN_NOT_ACTIVE']);
    });
  },
);
