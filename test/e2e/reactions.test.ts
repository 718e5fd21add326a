/**
 * The reaction contract: what is done because a run ended (its callback, the first reaction)
 * is decided in the run's terminal transaction and done exactly once, across a kill -9 and
 * across several processes, on both stores: SQLite with the embedded queue, and PostgreSQL
 * with BullMQ. Real `patchbay serve` processes, a real receiver on loopback, HTTP only.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
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
  waitFor,
  type Json,
  type ServerHandle,
} from './helpers.js';

const admin = await requirePostgres();
const redisUrl = await requireRedis();

afterAll(cleanupAll);

interface Hit {
  runId: string;
  attempt: string;
  status: number;
}

/**
 * A callback receiver that answers each run's n-th request with `statusFor(n)` and records
 * every request it answered.
 */
async function startReceiver(statusFor: (n: number) => number = () => 200) {
  const hits: Hit[] = [];
  const perRun = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const runId = String(req.headers['x-patchbay-run-id']);
      const n = (perRun.get(runId) ?? 0) + 1;
      perRun.set(runId, n);
      const status = statusFor(n);
      hits.push({ runId, attempt: String(req.headers['x-patchbay-attempt']), status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hook`,
    hits,
    acknowledged: (runId?: string) =>
      hits.filter((h) => h.status === 200 && (runId === undefined || h.runId === runId)),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

interface Topology {
  name: string;
  /** Environment and data dir every process of one test shares; `drop` cleans up. */
  make(): Promise<{ env: Record<string, string>; dataDir: string; drop(): Promise<void> }>;
  skip: boolean;
}

const topologies: Topology[] = [
  {
    name: 'SQLite + embedded queue',
    skip: false,
    async make() {
      return { env: {}, dataDir: tempDir('patchbay-reactions-'), drop: async () => undefined };
    },
  },
  {
    name: 'PostgreSQL + BullMQ',
    skip: !admin || !redisUrl,
    async make() {
      const database = await createPostgresDatabase(admin!);
      const prefix = `patchbay-e2e-${randomBytes(4).toString('hex')}`;
      return {
        env: {
          PATCHBAY_DATABASE_URL: database.url,
          PATCHBAY_QUEUE_URL: redisUrl!,
          PATCHBAY_QUEUE_PREFIX: prefix,
        },
        dataDir: tempDir('patchbay-reactions-'),
        async drop() {
          await database.drop();
          await deleteRedisKeys(redisUrl!, prefix);
        },
      };
    },
  },
];

const BASE_ENV = {
  // The receiver is on loopback.
  PATCHBAY_ALLOW_PRIVATE_CALLBACK_URLS: '1',
  PATCHBAY_RUN_LEASE_MS: '1500',
  PATCHBAY_KILL_GRACE_MS: '1000',
  PATCHBAY_RUN_CREATE_RATE_LIMIT: '100000',
};

async function reactionsOf(server: ServerHandle, runId: string): Promise<Json[]> {
  const res = await server.api.request('GET', `/v1/runs/${runId}/reactions`);
  expect(res.status).toBe(200);
  return res.body.reactions as Json[];
}

describe.each(topologies)('reactions on $name', (topology) => {
  it.skipIf(topology.skip)(
    'kill -9 between the run’s end and its callback’s delivery: after a restart it is delivered once',
    async ({ onTestFinished }) => {
      const shared = await topology.make();
      onTestFinished(() => shared.drop());
      // The first request is refused (503), every later one accepted.
      const receiver = await startReceiver((n) => (n === 1 ? 503 : 200));
      onTestFinished(() => receiver.close());
      const first = await startServer({
        dataDir: shared.dataDir,
        // After the refused attempt the delivery waits a minute: the crash lands in that wait.
        env: { ...BASE_ENV, ...shared.env, PATCHBAY_CALLBACK_BACKOFF_MS: '60000' },
      });
      const run = await first.api.createRun({
        command: ['sh', '-c', 'echo done'],
        callbackUrl: receiver.url,
      });
      expect((await first.api.waitForStatus(run.id)).status).toBe('succeeded');
      await waitFor(() => receiver.hits.length === 1, 'the first (refused) delivery', 15_000);
      const before = await reactionsOf(first, run.id);
      expect(before.map((r) => [r.name, r.status])).toEqual([['callback', 'running']]);
      await first.crash();

      const second = await startServer({
        dataDir: shared.dataDir,
        env: { ...BASE_ENV, ...shared.env, PATCHBAY_CALLBACK_BACKOFF_MS: '50' },
      });
      const settled = await waitFor(
        async () => {
          const [reaction] = await reactionsOf(second, run.id);
          return reaction?.status === 'succeeded' ? reaction : null;
        },
        'the callback reaction to succeed after the restart',
        30_000,
        100,
      );
      // Exactly one delivery was acknowledged, continuing the count of attempts.
      expect(receiver.hits.map((h) => [h.attempt, h.status])).toEqual([
        ['1', 503],
        ['2', 200],
      ]);
      // The try the crash cut short is recorded as lost, then the one that delivered.
      expect(settled.attempts.map((a: Json) => [a.attempt, a.outcome])).toEqual([
        [1, 'retrying'],
        [2, 'succeeded'],
      ]);
      const deliveries = await second.api.request('GET', `/v1/runs/${run.id}/deliveries`);
      expect(
        deliveries.body.deliveries.map((d: Json) => [d.attempt, d.outcome, d.httpStatus]),
      ).toEqual([
        [1, 'retrying', 503],
        [2, 'delivered', 200],
      ]);
      await second.stop();
      expect(receiver.acknowledged()).toHaveLength(1);
    },
    90_000,
  );

  it.skipIf(topology.skip)(
    'three processes, 200 finished runs: exactly 200 deliveries',
    async ({ onTestFinished }) => {
      const shared = await topology.make();
      onTestFinished(() => shared.drop());
      const receiver = await startReceiver();
      onTestFinished(() => receiver.close());
      // Healthy processes here: a lease long enough that a starved event loop on a loaded
      // machine does not look like a dead process (the 1.5 s lease is for the kill -9 cases).
      const env = {
        ...BASE_ENV,
        ...shared.env,
        PATCHBAY_MAX_CONCURRENT_RUNS: '4',
        PATCHBAY_RUN_LEASE_MS: '15000',
      };
      const servers = await Promise.all(
        [0, 1, 2].map(() => startServer({ dataDir: shared.dataDir, env })),
      );
      const ids: string[] = [];
      for (let i = 0; i < 200; i += 20) {
        const batch = await Promise.all(
          Array.from({ length: 20 }, (_, k) =>
            servers[(i + k) % 3]!.api.createRun({
              command: ['true'],
              callbackUrl: receiver.url,
            }),
          ),
        );
        ids.push(...batch.map((r) => r.id));
      }
      await waitFor(
        () => new Set(receiver.acknowledged().map((h) => h.runId)).size === 200,
        'a delivery for each of the 200 runs',
        150_000,
        200,
      );
      // Every reaction settled (so no try is still on its way), then count.
      await waitFor(
        async () => {
          for (const id of ids) {
            const [reaction] = await reactionsOf(servers[0]!, id);
            if (reaction?.status !== 'succeeded') return false;
          }
          return true;
        },
        'every callback reaction to be settled',
        30_000,
        250,
      );
      await Promise.all(servers.map((s) => s.stop()));
      expect(receiver.hits).toHaveLength(200);
      expect(new Set(receiver.hits.map((h) => h.runId))).toEqual(new Set(ids));
      expect(receiver.hits.every((h) => h.attempt === '1')).toBe(true);
    },
    240_000,
  );
});
