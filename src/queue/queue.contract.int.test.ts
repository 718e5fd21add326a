import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPostgresDatabase,
  deleteRedisKeys,
  requirePostgres,
  requireRedis,
} from '../../test/helpers/services.js';
import { sleep, waitFor } from '../../test/helpers/wait.js';
import { createSilentLogger } from '../observability/index.js';
import { openStore, type Store } from '../store/index.js';
import { createBullmqQueue } from './bullmq.js';
import { createEmbeddedQueue } from './embedded.js';
import type { Job, JobQueue } from './port.js';

const LEASE_MS = 1000;
const log = createSilentLogger();
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const HOLD_JOB = fileURLToPath(new URL('../../test/fixtures/queue/hold-job.ts', import.meta.url));

interface Driver {
  name: string;
  /** Sets up the backing service; null when it is unreachable (skipped outside CI). */
  setup(): Promise<{
    open(): Promise<JobQueue>;
    /** argv tail for hold-job.ts: driver and URL. */
    holdArgs: [string, string];
    env?: Record<string, string>;
    teardown(): Promise<void>;
  } | null>;
}

const drivers: Driver[] = [
  {
    name: 'embedded on SQLite',
    async setup() {
      const dir = mkdtempSync(join(tmpdir(), 'patchbay-queue-'));
      const url = join(dir, 'queue.db');
      const stores: Store[] = [];
      return {
        async open() {
          const store = await openStore({ databaseUrl: url });
          stores.push(store);
          return wrapClose(createEmbeddedQueue({ store, log, leaseMs: LEASE_MS, pollMs: 20 }), () =>
            store.close(),
          );
        },
        holdArgs: ['embedded', url],
        async teardown() {
          await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'embedded on PostgreSQL',
    async setup() {
      const admin = await requirePostgres();
      if (!admin) return null;
      const database = await createPostgresDatabase(admin);
      const stores: Store[] = [];
      return {
        async open() {
          const store = await openStore({ databaseUrl: database.url });
          stores.push(store);
          return wrapClose(createEmbeddedQueue({ store, log, leaseMs: LEASE_MS, pollMs: 20 }), () =>
            store.close(),
          );
        },
        holdArgs: ['embedded', database.url],
        async teardown() {
          await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
          await database.drop();
        },
      };
    },
  },
  {
    name: 'BullMQ on Redis',
    async setup() {
      const url = await requireRedis();
      if (!url) return null;
      // A key prefix of its own: parallel runs and leftovers never meet.
      const prefix = `patchbay-test-${randomBytes(4).toString('hex')}`;
      return {
        open: () => createBullmqQueue({ url, log, leaseMs: LEASE_MS, prefix }),
        holdArgs: ['bullmq', url],
        env: { QUEUE_PREFIX: prefix },
        teardown: () => deleteRedisKeys(url, prefix),
      };
    },
  },
];

/** Closing the queue also closes what it runs on. */
function wrapClose(queue: JobQueue, after: () => Promise<void>): JobQueue {
  return {
    ...queue,
    async close() {
      await queue.close();
      await after();
    },
  };
}

describe.each(drivers)('job queue contract: $name', (driver) => {
  let env: Awaited<ReturnType<Driver['setup']>>;
  let queue: JobQueue;
  let n = 0;
  /** A fresh queue name per test: tests never see each other's jobs. */
  const fresh = (): string => `q${++n}-${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    env = await driver.setup();
    if (env) queue = await env.open();
  });
  afterAll(async () => {
    await queue?.close();
    await env?.teardown();
  });

  it('runs each job once with its data and reports it completed', async ({ skip }) => {
    if (!env) skip();
    const q = fresh();
    const seen: Job<{ n: number }>[] = [];
    const id = await queue.add(q, 'work', { n: 7 });
    const worker = queue.process<{ n: number }>(q, async (job) => void seen.push(job), {
      concurrency: 1,
    });
    await waitFor(async () => (await queue.getJob(q, id))?.status === 'completed', 'completion');
    await worker.close();
    expect(seen).toEqual([{ id, queue: q, name: 'work', data: { n: 7 }, attempt: 1 }]);
    expect(await queue.counts(q)).toMatchObject({ waiting: 0, active: 0, completed: 1, failed: 0 });
  });

  it('runs the most urgent priority first, then in insertion order', async ({ skip }) => {
    if (!env) skip();
    const q = fresh();
    for (const [name, priority] of [
      ['c1', 5],
      ['a1', 1],
      ['c2', 5],
      ['a2', 1],
      ['b1', 3],
    ] as const)
      await queue.add(q, name, {}, { priority });
    expect((await queue.counts(q)).waiting).toBe(5);
    const order: string[] = [];
    const worker = queue.process(q, async (job) => void order.push(job.name), { concurrency: 1 });
    await waitFor(() => order.length === 5, 'five jobs');
    await worker.close();
    expect(order).toEqual(['a1', 'a2', 'b1', 'c1', 'c2']);
  });

  it('holds a delayed job back until its time', async ({ skip }) => {
    if (!env) skip();
    const q = fresh();
    const added = Date.now();
    let ranAt = 0;
    const id = await queue.add(q, 'later', {}, { delayMs: 600 });
    expect((await queue.getJob(q, id))?.status).toBe('delayed');
    expect((await queue.counts(q)).delayed).toBe(1);
    const worker = queue.process(q, async () => void (ranAt = Date.now()), { concurrency: 1 });
    await waitFor(() => ranAt > 0, 'the delayed job');
    await worker.close();
    expect(ranAt - added).toBeGreaterThanOrEqual(580);
  });

  it('retries with exponential backoff, then succeeds', async ({ skip }) => {
    if (!env) skip();
    const q = fresh();
    const attempts: [number, number][] = [];
    const id = await queue.add(q, 'flaky', {}, { attempts: 3, backoffMs: 150 });
    const worker = queue.process(
      q,
      async (job) => {
        attempts.push([job.attempt, Date.now()]);
        if (job.attempt < 3) throw new Error(`try ${job.attempt} failed`);
      },
      { concurrency: 1 },
    );
    await waitFor(async () => (await queue.getJob(q, id))?.status === 'completed', 'completion');
    await worker.close();
    expect(attempts.map(([a]) => a)).toEqual([1, 2, 3]);
    expect(attempts[1]![1] - attempts[0]![1]).toBeGreaterThanOrEqual(140); // 150 ms
    expect(attempts[2]![1] - attempts[1]![1]).toBeGreaterThanOrEqual(290); // 300 ms
    expect((await queue.getJob(q, id))?.attemptsMade).toBe(3);
  });

  it('dead-letters a job after its last attempt, with the error', async ({ skip }) => {
    if (!env) skip();
    const q = fresh();
    let tries = 0;
    const id = await queue.add(q, 'doomed', {}, { attempts: 2, backoffMs: 50 });
    const worker = queue.process(
      q,
      async () => {
        tries++;
        throw new Error('boom');
      },
      { concurrency: 1 },
    );
    await waitFor(async () => (await queue.getJob(q, id))?.status === 'failed', 'the failure');
    await sleep(200); // nothing retries it after that
    await worker.close();
    expect(tries).toBe(2);
    expect(await queue.getJob(q, id)).toMatchObject({ attemptsMade: 2, lastError: 'boom' });
    expect(await queue.counts(q)).toMatchObject({ failed: 1, waiting: 0, delayed: 0 });
  });

  it('never runs more than `concurrency` jobs of a worker at once', async ({ skip }) => {
    if (!env) skip();
    const q = fresh();
    let active = 0;
    let peak = 0;
    let done = 0;
    for (let i = 0; i < 6; i++) await queue.add(q, `j${i}`, {});
    const worker = queue.process(
      q,
      async () => {
        active++;
        peak = Math.max(peak, active);
        await sleep(80);
        active--;
        done++;
      },
      { concurrency: 2 },
    );
    await waitFor(() => done === 6, 'six jobs');
    await worker.close();
    expect(peak).toBe(2);
  });

  it('removes a waiting job, and not a finished one', async ({ skip }) => {
    if (!env) skip();
    const q = fresh();
    const gone = await queue.add(q, 'gone', {});
    const kept = await queue.add(q, 'kept', {}, { delayMs: 50 });
    expect(await queue.remove(q, gone)).toBe(true);
    expect(await queue.getJob(q, gone)).toBeUndefined();
    const seen: string[] = [];
    const worker = queue.process(q, async (job) => void seen.push(job.id), { concurrency: 1 });
    await waitFor(async () => (await queue.getJob(q, kept))?.status === 'completed', 'completion');
    await worker.close();
    expect(seen).toEqual([kept]);
    expect(await queue.remove(q, kept)).toBe(false);
    expect(await queue.remove(q, 'job_unknown')).toBe(false);
  });

  it('adds a job id only once', async ({ skip }) => {
    if (!env) skip();
    const q = fresh();
    const a = await queue.add(q, 'once', { v: 1 }, { jobId: 'same' });
    const b = await queue.add(q, 'once', { v: 2 }, { jobId: 'same' });
    expect([a, b]).toEqual(['same', 'same']);
    const seen: unknown[] = [];
    const worker = queue.process(q, async (job) => void seen.push(job.data), { concurrency: 1 });
    await waitFor(
      async () => (await queue.getJob(q, 'same'))?.status === 'completed',
      'completion',
    );
    await sleep(100);
    await worker.close();
    expect(seen).toEqual([{ v: 1 }]);
  });

  it('keeps jobs across a restart and runs each exactly once', async ({ skip }) => {
    if (!env) skip();
    const q = fresh();
    const first = await env!.open();
    const ids = [
      await first.add(q, 'a', {}),
      await first.add(q, 'b', {}),
      await first.add(q, 'c', {}),
    ];
    await first.close();
    const second = await env!.open();
    const seen: string[] = [];
    const worker = second.process(q, async (job) => void seen.push(job.id), { concurrency: 2 });
    await waitFor(() => seen.length === 3, 'three jobs');
    await sleep(150);
    await worker.close();
    await second.close();
    expect(seen.sort()).toEqual([...ids].sort());
  });

  it("gives a dead worker's job to another worker once the lease runs out", async ({ skip }) => {
    if (!env) skip();
    const q = fresh();
    const id = await queue.add(q, 'orphan', {}, { attempts: 2, backoffMs: 10 });
    // A real process takes the job, then dies with kill -9 (no chance to hand it back).
    const holder = spawn(
      process.execPath,
      ['--import', 'tsx', HOLD_JOB, ...env!.holdArgs, q, String(LEASE_MS)],
      {
        cwd: ROOT,
        env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: tmpdir(), ...env!.env },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    holder.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    await waitFor(() => out.includes(`claimed ${id}`), 'the holder to claim the job', 20_000);
    holder.kill('SIGKILL');
    const killedAt = Date.now();
    let ranAt = 0;
    const worker = queue.process(q, async () => void (ranAt = Date.now()), { concurrency: 1 });
    await waitFor(() => ranAt > 0, 'the job to be picked up again', 15_000);
    await worker.close();
    // Not before the dead worker's lease could have run out.
    expect(ranAt - killedAt).toBeGreaterThanOrEqual(LEASE_MS / 2);
    expect((await queue.getJob(q, id))?.status).toBe('completed');
  });

  it('a closing worker hands back the jobs it could not finish in the grace', async ({ skip }) => {
    if (!env) skip();
    const q = fresh();
    const id = await queue.add(q, 'long', {}, { attempts: 1 });
    let started = false;
    const first = queue.process(
      q,
      (_job, signal) =>
        new Promise<void>((_resolve, reject) => {
          started = true;
          signal.addEventListener('abort', () => reject(new Error('aborted')));
        }),
      { concurrency: 1 },
    );
    await waitFor(() => started, 'the job to start');
    await first.close(100);
    expect((await queue.getJob(q, id))?.status).toBe('waiting');
    const attempts: number[] = [];
    const second = queue.process(q, async (job) => void attempts.push(job.attempt), {
      concurrency: 1,
    });
    await waitFor(async () => (await queue.getJob(q, id))?.status === 'completed', 'completion');
    await second.close();
    // Handing it back did not use up its only attempt.
    expect(attempts).toEqual([1]);
  });

  // A capability: drivers without job schedulers (embedded) leave `schedulers` undefined and
  // the schedules module keeps its own clock on the store's fire lock instead.
  it('a job scheduler makes one job per tick, however many handles upsert and work it', async ({
    skip,
  }) => {
    if (!env || !queue.schedulers) skip();
    const q = fresh();
    const handles = [queue, await env!.open(), await env!.open()];
    const ticks: number[] = [];
    const workers = handles.map((h) =>
      h.process<{ s: string }>(
        q,
        async (job) => {
          expect(job.data).toEqual({ s: 'x' });
          ticks.push(job.scheduledAt!);
        },
        { concurrency: 2 },
      ),
    );
    const repeat = { pattern: '*/1 * * * * *', tz: 'Europe/Berlin' };
    // Every process upserts at start: that must not add jobs.
    for (const h of handles)
      await h.schedulers!.upsert(q, 'every-second', repeat, 'tick', { s: 'x' });
    expect(await queue.schedulers!.list(q)).toEqual(['every-second']);
    await waitFor(() => ticks.length >= 3, 'three ticks', 10_000);
    expect(await handles[1]!.schedulers!.remove(q, 'every-second')).toBe(true);
    expect(await queue.schedulers!.list(q)).toEqual([]);
    await sleep(1500);
    const count = ticks.length;
    await sleep(1500);
    expect(ticks.length).toBe(count); // removed: no more jobs
    const sorted = [...ticks].sort((a, b) => a - b);
    expect(new Set(sorted).size).toBe(sorted.length);
    for (const t of sorted) expect(t % 1000).toBe(0);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]! - sorted[i - 1]!).toBe(1000);
    await Promise.all(workers.map((w) => w.close()));
    await Promise.all(handles.slice(1).map((h) => h.close()));
  });
});
