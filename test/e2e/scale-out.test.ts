import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPostgresDatabase,
  deleteRedisKeys,
  requirePostgres,
  requireRedis,
} from '../helpers/services.js';
import { composeTopology, instanceEnv } from './topology.js';
import {
  cleanupAll,
  readSse,
  tempDir,
  startServer,
  TERMINAL,
  waitFor,
  type Json,
  type Run,
  type ServerHandle,
} from './helpers.js';

const admin = await requirePostgres();
const redisUrl = await requireRedis();

afterAll(cleanupAll);

const RUNS = 500;
const TOKEN = 'scale-out-token';

/**
 * The proof of scale-out, with real processes on one machine: PostgreSQL + Redis, two
 * API nodes (`serve --no-worker`) and three workers (`patchbay worker`).
 */
describe.skipIf(!admin || !redisUrl)(
  'scale-out: 2 API nodes + 3 workers on PostgreSQL + Redis',
  () => {
    const prefix = `patchbay-e2e-${randomBytes(4).toString('hex')}`;
    let drop: (() => Promise<void>) | undefined;
    let perWorker = 0;
    let nodeA: ServerHandle;
    let nodeB: ServerHandle;
    let workers: ServerHandle[] = [];

    beforeAll(async () => {
      const database = await createPostgresDatabase(admin!);
      drop = database.drop;
      // The processes of docker-compose.yml, scaled as `--scale api=2 --scale worker=3`, with
      // the compose environment pointed at this machine's PostgreSQL and Redis.
      const topology = composeTopology({
        vars: { PATCHBAY_API_TOKENS: TOKEN, POSTGRES_PASSWORD: 'not-used-here' },
      });
      const dataDir = tempDir('patchbay-scale-');
      const start = (service: 'api' | 'worker'): Promise<ServerHandle> => {
        const spec = topology.process(service);
        expect(spec.dataVolume).toBe('patchbay-data'); // one data dir for all, as in compose
        const [command, ...args] = spec.args;
        return startServer({
          command: command as 'serve' | 'worker',
          args,
          dataDir,
          token: TOKEN,
          env: instanceEnv(spec, {
            dataDir,
            extra: {
              PATCHBAY_DATABASE_URL: database.url,
              PATCHBAY_QUEUE_PREFIX: prefix,
              PATCHBAY_RUN_LEASE_MS: '2000',
              PATCHBAY_KILL_GRACE_MS: '1000',
              PATCHBAY_RUN_CREATE_RATE_LIMIT: '100000',
              PATCHBAY_LOG_LEVEL: 'warn',
            },
          }),
        });
      };
      perWorker = Number(
        topology.process('worker').args[
          topology.process('worker').args.indexOf('--concurrency') + 1
        ],
      );
      [nodeA, nodeB, ...workers] = await Promise.all([
        start('api'),
        start('api'),
        start('worker'),
        start('worker'),
        start('worker'),
      ]);
    }, 60_000);
    afterAll(async () => {
      await Promise.all([nodeA, nodeB, ...workers].map((p) => p?.stop()));
      await drop?.();
      await deleteRedisKeys(redisUrl!, prefix);
    });

    it(`${RUNS} runs through both API nodes end exactly once, across a kill -9 of a worker`, async () => {
      const { body } = await nodeA.api.request('GET', '/v1/workers');
      const live = (body.workers as Json[]).filter((w) => w.state === 'active');
      expect(live.map((w) => w.role).sort()).toEqual(['api', 'api', 'worker', 'worker', 'worker']);

      // A long run, started through node A, that node B will cancel wherever it landed.
      const long = await nodeA.api.createRun({ command: ['sh', '-c', 'echo long; sleep 60'] });
      // A run made through node B whose stream node A follows from the start.
      const watched = await nodeB.api.createRun({
        command: ['sh', '-c', 'for i in 1 2 3 4 5; do echo watched $i; sleep 0.1; done'],
      });
      const stream = readSse(`${nodeA.url}/v1/runs/${watched.id}/events`, {
        timeoutMs: 60_000,
        headers: { authorization: `Bearer ${TOKEN}` },
      });

      const runs: Run[] = [];
      const submit = async (from: number, to: number): Promise<void> => {
        for (let i = from; i < to; i += 25) {
          const batch = await Promise.all(
            Array.from({ length: Math.min(25, to - i) }, (_, k) =>
              (((i + k) % 2 === 0 ? nodeA : nodeB) as ServerHandle).api.createRun({
                command: ['sh', '-c', `echo run ${i + k}; sleep 0.${(i + k) % 3}`],
              }),
            ),
          );
          runs.push(...batch);
        }
      };
      expect((await nodeA.api.waitForStatus(watched.id, undefined, 30_000)).status).toBe(
        'succeeded',
      );

      // Fill every slot with sleepers, so the worker killed below certainly holds runs; the
      // first half of the short runs then waits in the queue behind them.
      const sleepers = await Promise.all(
        Array.from({ length: perWorker * 3 }, (_, k) =>
          (k % 2 === 0 ? nodeA : nodeB).api.createRun({
            command: ['sh', '-c', 'echo sleeper; sleep 4'],
          }),
        ),
      );
      const victim = workers[0]!;
      await waitFor(
        async () => {
          const reg = await nodeB.api.request('GET', '/v1/workers');
          const v = (reg.body.workers as Json[]).find((w) => w.pid === victim.pid);
          return (v?.running.length ?? 0) >= perWorker;
        },
        'the victim worker to hold a full load',
        20_000,
        50,
      );
      await submit(0, RUNS / 2);
      // kill -9 the worker while it holds runs; the rest go on being submitted meanwhile.
      await victim.crash();
      workers = workers.slice(1);
      await submit(RUNS / 2, RUNS);

      // Cancel through node B reaches whichever worker holds the long run.
      await nodeA.api.waitForStatus(long.id, ['running', 'interrupted'], 30_000);
      if ((await nodeA.api.getRun(long.id)).status === 'running') {
        const cancel = await nodeB.api.request('POST', `/v1/runs/${long.id}/cancel`);
        expect(cancel.status, cancel.text).toBe(200);
        expect((await nodeA.api.waitForStatus(long.id)).status).toBe('cancelled');
      }

      const ended = new Map<string, Run>();
      await waitFor(
        async () => {
          for (const run of [...runs, ...sleepers]) {
            if (ended.has(run.id)) continue;
            const now = await nodeA.api.getRun(run.id);
            if ((TERMINAL as readonly string[]).includes(now.status)) ended.set(run.id, now);
          }
          return ended.size === runs.length + sleepers.length;
        },
        `all ${RUNS} runs to end`,
        120_000,
        500,
      );

      // Nothing but the killed worker's runs was lost: every short run succeeded, and of the
      // sleepers only the ones the victim held ended interrupted, each saying so.
      expect(runs.filter((r) => ended.get(r.id)!.status !== 'succeeded')).toEqual([]);
      const interrupted = sleepers.filter((r) => ended.get(r.id)!.status === 'interrupted');
      for (const run of interrupted) {
        expect(ended.get(run.id)!.error?.message).toContain(`pid ${victim.pid}`);
      }
      expect(interrupted.length).toBeGreaterThanOrEqual(1);
      expect(interrupted.length).toBeLessThanOrEqual(perWorker);
      const others = sleepers.filter((r) => !interrupted.includes(r));
      expect(others.map((r) => ended.get(r.id)!.status)).toEqual(others.map(() => 'succeeded'));

      // Exactly one terminal event per run, and every run printed what it should (sampled in
      // full: each run's events read back through the other node).
      for (const [i, run] of runs.entries()) {
        const node = i % 2 === 0 ? nodeB : nodeA;
        const events = await node.api.events(run.id);
        const terminal = events.filter(
          (e) => e.type === 'status' && (TERMINAL as readonly string[]).includes(e.data.status),
        );
        expect(terminal, JSON.stringify({ run: ended.get(run.id), events })).toHaveLength(1);
        expect(events.map((e) => e.seq)).toEqual(events.map((_, k) => k + 1));
        if (ended.get(run.id)!.status === 'succeeded') {
          const text = events
            .filter((e) => e.type === 'output')
            .map((e) => e.data.text)
            .join('');
          expect(text).toBe(`run ${i}\n`);
        }
      }

      // Node A's SSE client saw every event of the run submitted through node B.
      const seen = await stream;
      const stored = await nodeB.api.events(watched.id);
      expect(seen.events.map((e) => [e.seq, e.type])).toEqual(stored.map((e) => [e.seq, e.type]));
      expect(seen.events.at(-1)?.data.status).toBe('succeeded');

      // The registry knows the victim is lost and the other two kept working.
      const after = await nodeA.api.request('GET', '/v1/workers');
      const states = Object.fromEntries(
        (after.body.workers as Json[])
          .filter((w) => w.role === 'worker')
          .map((w) => [w.pid, w.state]),
      );
      expect(states[victim.pid]).toBe('lost');
      for (const w of workers) expect(states[w.pid]).toBe('active');
      const health = await nodeB.api.request('GET', '/health/queue');
      expect(health.body.queues.default).toMatchObject({ waiting: 0, active: 0 });
    }, 240_000);
  },
);
