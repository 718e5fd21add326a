/**
 * scale: end-to-end jobs/s of no-op shell runs (`true`), from the first POST to the last run
 * ended, for
 *   - the embedded default: one `patchbay serve` on SQLite with the embedded queue;
 *   - the shared setup: PostgreSQL + Redis (BullMQ), one `serve --no-worker` API node and 1, 2
 *     and 4 `patchbay worker` processes;
 * each as a ratio of bare BullMQ (no-op jobs through a Queue and a Worker on the same Redis,
 * measured in the same run). Then event appends/s through the store on SQLite and PostgreSQL,
 * in the writer's batches (100 events per transaction) and one event per transaction.
 *
 *   npx tsx bench/scale.ts [--runs 400] [--concurrency 8] [--bare-jobs 5000]
 *
 * Needs PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test) and
 * Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore, type Store } from '../src/store/index.js';
import { testRunRecord } from '../test/helpers/records.js';
import type { RunEvent } from '../src/contracts/index.js';
import {
  api,
  heading,
  line,
  main,
  option,
  round,
  sleep,
  startBenchServer,
  writeResult,
  type BenchServer,
  type RunBody,
} from './lib/harness.js';

interface QueueBody {
  queues: Record<string, { waiting: number; delayed: number; active: number; failed: number }>;
}

const databaseUrl = option('database-url', 'postgres://postgres@127.0.0.1:5432/test');
const redisUrl = option('redis-url', 'redis://127.0.0.1:6379');

/** A fresh database on the server, dropped by the returned function. */
async function freshDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `patchbay_bench_${randomBytes(4).toString('hex')}`;
  const admin = async (sql: string): Promise<void> => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function deleteKeys(prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(redisUrl);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
}

/** No-op jobs through BullMQ alone: the ceiling the run queue is compared with. */
async function bareBullmq(jobs: number, concurrency: number): Promise<number> {
  const { Queue, Worker } = await import('bullmq');
  const { Redis } = await import('ioredis');
  const prefix = `patchbay-bench-bare-${randomBytes(4).toString('hex')}`;
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const workerConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('bare', { connection, prefix });
  let done = 0;
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  const worker = new Worker(
    'bare',
    async () => {
      if (++done === jobs) finish();
    },
    { connection: workerConnection, prefix, concurrency },
  );
  await worker.waitUntilReady();
  const t0 = performance.now();
  for (let i = 0; i < jobs; i += 500) {
    await queue.addBulk(
      Array.from({ length: Math.min(500, jobs - i) }, (_, k) => ({
        name: 'noop',
        data: { n: i + k },
        opts: { removeOnComplete: true },
      })),
    );
  }
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  await worker.close();
  await queue.close();
  await connection.quit();
  await workerConnection.quit();
  await deleteKeys(prefix);
  return jobs / seconds;
}

/** Posts `runs` no-op runs to the API nodes in turn and waits until every one has ended. */
async function measureRuns(apiNodes: BenchServer[], runs: number): Promise<number> {
  const t0 = performance.now();
  const ids: string[] = [];
  for (let i = 0; i < runs; i += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, runs - i) }, (_, k) =>
        api<RunBody>('POST', `${apiNodes[(i + k) % apiNodes.length]!.url}/v1/runs`, {
          command: ['true'],
        }),
      ),
    );
    ids.push(...batch.map((r) => r.id));
  }
  const url = apiNodes[0]!.url;
  for (;;) {
    const q = await api<QueueBody>('GET', `${url}/health/queue`);
    const d = q.queues.default;
    if (d && d.waiting + d.delayed + d.active === 0) break;
    await sleep(20);
  }
  const seconds = (performance.now() - t0) / 1000;
  // Every run must have ended, and succeeded: a fast wrong answer is no answer.
  let succeeded = 0;
  let cursor: string | null = null;
  do {
    const page: { runs: RunBody[]; nextCursor: string | null } = await api(
      'GET',
      `${url}/v1/runs?limit=200${cursor ? `&cursor=${cursor}` : ''}`,
    );
    succeeded += page.runs.filter((r) => r.status === 'succeeded').length;
    cursor = page.nextCursor;
  } while (cursor);
  if (succeeded !== runs) throw new Error(`${succeeded}/${runs} runs succeeded`);
  return runs / seconds;
}

/** Events/s appended through the store: `batch` events per transaction. */
async function appendRate(store: Store, total: number, batch: number): Promise<number> {
  const runId = `run_bench_${randomBytes(6).toString('hex')}`;
  const now = new Date().toISOString();
  await store.runs.insert(testRunRecord({}, { id: runId }));
  let seq = 0;
  const text = 'x'.repeat(80) + '\n';
  const t0 = performance.now();
  while (seq < total) {
    const events: RunEvent[] = [];
    for (let k = 0; k < batch && seq < total; k++) {
      seq++;
      events.push({
        runId,
        seq,
        type: 'output',
        ts: now,
        data: { stream: 'stdout', text },
        raw: null,
      });
    }
    await store.events.append(events);
  }
  return total / ((performance.now() - t0) / 1000);
}

await main('scale', async (startedAt) => {
  const runs = option('runs', 400);
  const concurrency = option('concurrency', 8);
  const bareJobs = option('bare-jobs', 5000);
  const figures: Record<string, unknown> = {};

  heading(`bare BullMQ: ${bareJobs} no-op jobs, one Worker, concurrency ${concurrency}`);
  const bare = await bareBullmq(bareJobs, concurrency);
  figures.bareBullmqJobsPerSecond = round(bare, 1);
  line('bare BullMQ', `${round(bare, 1)} jobs/s`);

  const common = {
    PATCHBAY_MAX_CONCURRENT_RUNS: String(concurrency),
    PATCHBAY_RUN_CREATE_RATE_LIMIT: '1000000',
  };

  heading(`embedded: one \`serve\` on SQLite, ${runs} runs of \`true\`, ${concurrency} at once`);
  {
    const server = await startBenchServer(common);
    try {
      const rate = await measureRuns([server], runs);
      figures.embedded = {
        runsPerSecond: round(rate, 1),
        ratioToBareBullmq: round(rate / bare, 4),
      };
      line('embedded (SQLite)', `${round(rate, 1)} runs/s (ratio ${round(rate / bare, 4)})`);
    } finally {
      await server.stop();
    }
  }

  const shared: Record<string, unknown> = {};
  for (const workers of [1, 2, 4]) {
    heading(`BullMQ: serve --no-worker + ${workers} worker(s) on PostgreSQL + Redis`);
    const database = await freshDatabase();
    const prefix = `patchbay-bench-${randomBytes(4).toString('hex')}`;
    const env = {
      ...common,
      PATCHBAY_DATABASE_URL: database.url,
      PATCHBAY_QUEUE_URL: redisUrl,
      PATCHBAY_QUEUE_PREFIX: prefix,
    };
    const apiNode = await startBenchServer(env, { args: ['--no-worker'] });
    const procs = [apiNode];
    try {
      for (let i = 0; i < workers; i++) {
        procs.push(await startBenchServer(env, { command: 'worker' }));
      }
      const rate = await measureRuns([apiNode], runs);
      shared[`workers${workers}`] = {
        runsPerSecond: round(rate, 1),
        ratioToBareBullmq: round(rate / bare, 4),
      };
      line(`${workers} worker(s)`, `${round(rate, 1)} runs/s (ratio ${round(rate / bare, 4)})`);
    } finally {
      await Promise.all(procs.map((p) => p.stop()));
      await database.drop();
      await deleteKeys(prefix);
    }
  }
  figures.bullmq = shared;

  heading('event appends through the store (80-byte output events)');
  const appends: Record<string, unknown> = {};
  const dir = mkdtempSync(join(os.tmpdir(), 'patchbay-bench-store-'));
  const database = await freshDatabase();
  try {
    for (const [dialect, url] of [
      ['sqlite', join(dir, 'bench.db')],
      ['postgres', database.url],
    ] as const) {
      const store = await openStore({ databaseUrl: url });
      try {
        const batched = await appendRate(store, 100_000, 100);
        const single = await appendRate(store, 2_000, 1);
        appends[dialect] = {
          eventsPerSecondBatch100: round(batched, 0),
          eventsPerSecondBatch1: round(single, 0),
        };
        line(
          dialect,
          `${round(batched, 0)} events/s in batches of 100; ${round(single, 0)} events/s one per transaction`,
        );
      } finally {
        await store.close();
      }
    }
  } finally {
    await database.drop();
    rmSync(dir, { recursive: true, force: true });
  }
  figures.eventAppends = appends;

  const parameters = { runs, concurrencyPerProcess: concurrency, bareJobs };
  return writeResult(
    {
      benchmark: 'scale',
      description:
        'End-to-end runs/s of no-op shell runs (first POST to last run ended) on the embedded default and on PostgreSQL + Redis with 1, 2 and 4 workers, as ratios of bare BullMQ no-op jobs/s measured in the same run; store event appends/s on SQLite and PostgreSQL.',
      parameters,
      figures,
      targets: [],
      notes: [
        `Machine: ${os.cpus().length} cores shared by every process of the benchmark (API node, workers, PostgreSQL, Redis, the run processes): more workers than cores cannot add throughput here; the figures show the cost of each layer, not a cluster's capacity.`,
      ],
    },
    startedAt,
  );
});
