/**
 * kill -9 of a server between a run's claim and its start. A follow-up run (`workspaceOf`)
 * whose job is claimed waits, still `queued`, for the run before it in that workspace to end:
 * a window as long as we like, opened by a real setting and no hook. Killing the server there
 * used to leave the follow-up `queued` for ever: its job was held by the dead process, expired,
 * and failed (a run is never retried by the queue), and recovery had only looked at start,
 * when the job still seemed held. Both drivers: embedded on SQLite, BullMQ on PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createPostgresDatabase,
  deleteRedisKeys,
  requirePostgres,
  requireRedis,
} from '../helpers/services.js';
import {
  cleanupAll,
  startServer,
  tempDir,
  trackPids,
  waitFor,
  type Api,
  type ServerHandle,
} from './helpers.js';

const admin = await requirePostgres();
const redisUrl = await requireRedis();

afterAll(cleanupAll);

/** Short lease: a dead process's job expires (or stalls) quickly. */
const BASE_ENV = {
  PATCHBAY_MAX_CONCURRENT_RUNS: '2',
  PATCHBAY_RUN_LEASE_MS: '1500',
  PATCHBAY_KILL_GRACE_MS: '500',
};

/** A long leader in its own workspace, and a follow-up whose job is claimed behind it. */
async function openWindow(
  api: Api,
  leaderRetries = 0,
): Promise<{ leader: string; follower: string }> {
  const leader = await api.createRun({
    command: ['sh', '-c', 'echo leader; sleep 60'],
    retries: leaderRetries,
  });
  trackPids(await api.waitForProcess(leader.id));
  const follower = await api.createRun({
    command: ['sh', '-c', 'echo follower ran'],
    workspaceOf: leader.id,
  });
  await claimedBehindLeader(api, follower.id);
  return { leader: leader.id, follower: follower.id };
}

/**
 * `held` jobs are in this server's hands (the leader's, the follow-up's, and any other waiting
 * for the leader's workspace) while the follow-up is still `queued`.
 */
async function claimedBehindLeader(api: Api, follower: string, held = 2): Promise<void> {
  await waitFor(
    async () => {
      const health = await api.request('GET', '/health/queue');
      return health.body.queue.running === held;
    },
    'the follow-up to be claimed',
    15_000,
  );
  expect((await api.getRun(follower)).status).toBe('queued');
}

/** The pid of a run's second attempt, once it is spawned. */
function secondProcess(api: Api, id: string): Promise<number> {
  return waitFor(
    async () => {
      const pids = (await api.events(id))
        .filter((e) => e.type === 'status' && typeof e.data.pid === 'number')
        .map((e) => e.data.pid as number);
      return pids[1] ?? null;
    },
    `the second attempt of ${id} to spawn`,
    15_000,
  );
}

/** The follow-up ran once, in the leader's workspace, with a contiguous, ended stream. */
async function expectRanOnce(api: Api, id: string): Promise<void> {
  const done = await api.waitForStatus(id, undefined, 20_000);
  expect(done.status).toBe('succeeded');
  expect(await api.output(id)).toBe('follower ran\n');
  const events = await api.events(id);
  expect(events.map((e) => e.seq)).toEqual(Array.from({ length: events.length }, (_, i) => i + 1));
  const statuses = events.filter((e) => e.type === 'status').map((e) => e.data.status);
  expect(statuses).toEqual(['queued', 'running', 'succeeded']);
}

describe('kill -9 between a run claim and its start', () => {
  it('embedded queue (SQLite): the restarted server starts the claimed run', async () => {
    const dataDir = tempDir();
    const first = await startServer({ dataDir, env: BASE_ENV });
    const { leader, follower } = await openWindow(first.api);
    await first.crash();

    const second = await startServer({ dataDir, env: BASE_ENV });
    expect((await second.api.getRun(leader)).status).toBe('interrupted');
    await expectRanOnce(second.api, follower);
    await second.stop();
  }, 60_000);

  describe.skipIf(!admin || !redisUrl)('BullMQ on Redis, PostgreSQL store', () => {
    it('a run claimed in two crashed processes in a row is started by the third', async () => {
      const prefix = `patchbay-e2e-${randomBytes(4).toString('hex')}`;
      const database = await createPostgresDatabase(admin!);
      const env = {
        ...BASE_ENV,
        PATCHBAY_DATABASE_URL: database.url,
        PATCHBAY_QUEUE_URL: redisUrl!,
        PATCHBAY_QUEUE_PREFIX: prefix,
        PATCHBAY_MAX_CONCURRENT_RUNS: '3',
      };
      const servers: ServerHandle[] = [];
      try {
        // BullMQ moves a job whose worker died back to wait once, and fails it the second
        // time: the leader is retried, so the follow-up is claimed behind it again.
        const first = await startServer({ env });
        servers.push(first);
        const { leader, follower } = await openWindow(first.api, 1);
        await first.crash();

        const second = await startServer({ env });
        servers.push(second);
        trackPids(await secondProcess(second.api, leader));
        // The leader's first job, back from its stall, waits for the workspace too.
        await claimedBehindLeader(second.api, follower, 3);
        await second.crash();

        const third = await startServer({ env });
        servers.push(third);
        expect((await third.api.waitForStatus(leader, undefined, 15_000)).status).toBe(
          'interrupted',
        );
        await expectRanOnce(third.api, follower);
      } finally {
        for (const s of servers) await s.stop(3000);
        await database.drop();
        await deleteRedisKeys(redisUrl!, prefix);
      }
    }, 90_000);
  });
});
