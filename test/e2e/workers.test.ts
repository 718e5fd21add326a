import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPostgresDatabase,
  deleteRedisKeys,
  requirePostgres,
  requireRedis,
} from '../helpers/services.js';
import {
  cleanupAll,
  isAlive,
  runCli,
  startServer,
  waitFor,
  type Json,
  type ServerHandle,
} from './helpers.js';

const admin = await requirePostgres();
const redisUrl = await requireRedis();

afterAll(cleanupAll);

describe('split roles need the shared queue', () => {
  it('refuses `serve --no-worker` and `worker` without PATCHBAY_QUEUE_URL, saying why', async () => {
    for (const args of [['serve', '--no-worker', '--port', '0'], ['worker']]) {
      const result = await runCli(args, { env: { PATCHBAY_DATA_DIR: '/tmp/patchbay-no-queue' } });
      expect(result.code, result.stderr).not.toBe(0);
      expect(result.stderr).toContain('CONFIG_INVALID');
      expect(result.stderr).toContain('PATCHBAY_QUEUE_URL');
    }
  });
});

describe.skipIf(!admin || !redisUrl)('API node and workers (PostgreSQL + Redis)', () => {
  const prefix = `patchbay-e2e-${randomBytes(4).toString('hex')}`;
  let drop: (() => Promise<void>) | undefined;
  let env: Record<string, string>;
  let api: ServerHandle;
  const workers: ServerHandle[] = [];

  const startWorker = async (extra: string[] = []): Promise<ServerHandle> => {
    const w = await startServer({ env, command: 'worker', args: extra });
    workers.push(w);
    return w;
  };
  /** The registry entry of a worker process (by pid). */
  const registered = async (w: ServerHandle): Promise<Json> => {
    const { body } = await api.api.request('GET', '/v1/workers');
    return (body.workers as Json[]).find((x) => x.pid === w.pid);
  };

  beforeAll(async () => {
    const database = await createPostgresDatabase(admin!);
    drop = database.drop;
    env = {
      PATCHBAY_DATABASE_URL: database.url,
      PATCHBAY_QUEUE_URL: redisUrl!,
      PATCHBAY_QUEUE_PREFIX: prefix,
      PATCHBAY_MAX_CONCURRENT_RUNS: '2',
      PATCHBAY_RUN_LEASE_MS: '2000',
      PATCHBAY_KILL_GRACE_MS: '1000',
      PATCHBAY_WORKER_GRACE_MS: '2500',
    };
    api = await startServer({ env, args: ['--no-worker'] });
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await api?.stop();
    await drop?.();
    await deleteRedisKeys(redisUrl!, prefix);
  });

  it('an API node runs nothing itself; a worker takes its runs and shows in the registry', async () => {
    const run = await api.api.createRun({ command: ['sh', '-c', 'echo from a worker'] });
    await new Promise((r) => setTimeout(r, 1500));
    expect((await api.api.getRun(run.id)).status).toBe('queued');
    const health = await api.api.request('GET', '/health/queue');
    expect(health.body.queues.default.waiting).toBe(1);
    expect(health.body.warning).toContain('no live worker takes queue default');

    const w1 = await startWorker();
    const done = await api.api.waitForStatus(run.id);
    expect(done.status).toBe('succeeded');
    const output = (await api.api.events(run.id))
      .filter((e) => e.type === 'output')
      .map((e) => e.data.text)
      .join('');
    expect(output).toBe('from a worker\n');

    const { body } = await api.api.request('GET', '/v1/workers');
    const roles = (body.workers as Json[])
      .filter((x) => x.state === 'active')
      .map((x) => x.role)
      .sort();
    expect(roles).toEqual(['api', 'worker']);
    const entry = await registered(w1);
    expect(entry).toMatchObject({ role: 'worker', queues: ['default'], concurrency: 2 });
    expect(Date.parse(entry.heartbeatAt)).toBeGreaterThan(Date.now() - 10_000);

    const cli = await runCli(['workers'], { env: { PATCHBAY_URL: api.url } });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(
      new RegExp(`worker +active +\\S+:${w1.pid} +queues default +runs 0/2`),
    );
    expect(cli.stdout).toMatch(/ api +active /);

    const wh = await fetch(`${w1.url}/health`);
    expect(await wh.json()).toMatchObject({ status: 'ok', state: 'active', limit: 2 });
    const metrics = await (await fetch(`${w1.url}/metrics`)).text();
    expect(metrics).toMatch(/patchbay_queue_jobs\{queue="default",state="waiting"\} 0/);
    expect(metrics).toMatch(/patchbay_workers\{role="worker",state="active"\} 1/);
  });

  it('reports per-worker load while runs are held, and the registry lists what each holds', async () => {
    const w1 = workers[0]!;
    const runs = await Promise.all(
      [1, 2].map(() => api.api.createRun({ command: ['sh', '-c', 'sleep 2'] })),
    );
    for (const run of runs) await api.api.waitForStatus(run.id, ['running'], 10_000);
    await waitFor(
      async () => ((await registered(w1))?.running.length ?? 0) === 2,
      'the heartbeat to list both runs',
      5000,
    );
    const health = await api.api.request('GET', '/health/queue');
    const load = (health.body.workers as Json[]).find((x) => x.role === 'worker');
    expect(load).toMatchObject({ running: 2, concurrency: 2 });
    const metrics = await api.api.request('GET', '/metrics');
    expect(metrics.text).toMatch(
      /patchbay_worker_running_runs\{worker="[^"]+",hostname="[^"]+"\} 2/,
    );
    for (const run of runs) expect((await api.api.waitForStatus(run.id)).status).toBe('succeeded');
  });

  it('kill -9 of a worker: its runs end interrupted when the lease expires, or run again when retries allow', async () => {
    const victim = workers[0]!;
    const survivorRuns = workers.length;
    expect(survivorRuns).toBe(1);
    const plain = await api.api.createRun({ command: ['sh', '-c', 'echo attempt; sleep 30'] });
    const retried = await api.api.createRun({
      command: ['sh', '-c', 'echo attempt; sleep 3'],
      retries: 1,
    });
    const pids: number[] = [];
    for (const run of [plain, retried]) pids.push(await api.api.waitForProcess(run.id, 10_000));
    await victim.crash();
    workers.shift();
    const other = await startWorker();

    const ended = await api.api.waitForStatus(plain.id, undefined, 15_000);
    expect(ended.status).toBe('interrupted');
    expect(ended.error?.code).toBe('RUN_INTERRUPTED');
    expect(ended.error?.message).toContain(`pid ${victim.pid}`);

    const again = await api.api.waitForStatus(retried.id, undefined, 20_000);
    expect(again.status).toBe('succeeded');
    expect(again.attempt).toBe(2);
    const statuses = (await api.api.events(retried.id))
      .filter((e) => e.type === 'status')
      .map((e) => e.data.status);
    expect(statuses).toEqual(['queued', 'running', 'queued', 'running', 'succeeded']);
    expect((await registered(other))?.state).toBe('active');
    // The lost worker's processes were killed by whoever reaped its runs (same machine here).
    await waitFor(
      async () => pids.every((p) => !isAlive(p)),
      'orphaned run processes to die',
      5000,
    );
    const lost = await api.api.request('GET', '/v1/workers');
    const gone = (lost.body.workers as Json[]).find((x) => x.pid === victim.pid);
    expect(gone.state).toBe('lost');
  });

  it('SIGTERM drains a worker: short runs finish, long ones are queued again for another worker', async () => {
    const draining = workers[0]!;
    const short = await api.api.createRun({ command: ['sh', '-c', 'sleep 1; echo short done'] });
    const long = await api.api.createRun({ command: ['sh', '-c', 'echo long; sleep 8; echo end'] });
    for (const run of [short, long]) await api.api.waitForStatus(run.id, ['running'], 10_000);
    const stopping = draining.stop(20_000);
    // Stopped taking runs: one posted now waits for the next worker.
    await new Promise((r) => setTimeout(r, 300));
    const later = await api.api.createRun({ command: ['sh', '-c', 'echo later'] });
    const exit = await stopping;
    workers.shift();
    expect(exit.code).toBe(0);
    expect((await api.api.getRun(short.id)).status).toBe('succeeded');
    const requeued = await api.api.getRun(long.id);
    expect(requeued).toMatchObject({ status: 'queued', attempt: 2 });
    expect((await api.api.getRun(later.id)).status).toBe('queued');
    const stopped = await api.api.request('GET', '/v1/workers');
    expect((stopped.body.workers as Json[]).find((x) => x.pid === draining.pid)?.state).toBe(
      'stopped',
    );

    await startWorker();
    expect((await api.api.waitForStatus(later.id)).status).toBe('succeeded');
    const finished = await api.api.waitForStatus(long.id, undefined, 20_000);
    expect(finished).toMatchObject({ status: 'succeeded', attempt: 2 });
    const requeueEvent = (await api.api.events(long.id)).find(
      (e) => e.type === 'status' && e.data.status === 'queued' && e.data.attempt === 2,
    );
    expect(requeueEvent?.data.reason.code).toBe('RUN_REQUEUED');
  }, 60_000);

  it('a second SIGTERM during a drain stops the runs at once: they end interrupted', async () => {
    // A queue of its own, so this worker is the one that holds the run.
    const w = await startWorker(['--grace-ms', '30000', '--queues', 'hold']);
    const run = await api.api.createRun({
      command: ['sh', '-c', 'echo hold; sleep 30'],
      queue: 'hold',
    });
    await api.api.waitForStatus(run.id, ['running'], 10_000);
    const started = Date.now();
    w.proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    w.proc.kill('SIGTERM');
    const exit = await w.exited;
    workers.splice(workers.indexOf(w), 1);
    expect(exit.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    const ended = await api.api.waitForStatus(run.id);
    expect(ended.status).toBe('interrupted');
  });

  it('run queues: a run waits in its queue until a worker that takes that queue starts', async () => {
    const run = await api.api.createRun({ command: ['sh', '-c', 'echo gpu'], queue: 'gpu' });
    await new Promise((r) => setTimeout(r, 1000));
    expect((await api.api.getRun(run.id)).status).toBe('queued');
    const health = await api.api.request('GET', '/health/queue');
    expect(health.body.queues.gpu.waiting).toBe(1);
    expect(health.body.warning).toContain('no live worker takes queue gpu');
    const gpu = await startWorker(['--queues', 'gpu', '--concurrency', '1']);
    expect((await api.api.waitForStatus(run.id)).status).toBe('succeeded');
    expect(await registered(gpu)).toMatchObject({ queues: ['gpu'], concurrency: 1 });
    const bad = await api.api.request('POST', '/v1/runs', { command: ['true'], queue: 'No Such' });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(isAlive(gpu.pid)).toBe(true);
  });
});
