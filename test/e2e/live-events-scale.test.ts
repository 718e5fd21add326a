/**
 * `GET /v1/events` with scale-out (PostgreSQL + Redis, an API node with no worker and a
 * separate `patchbay worker`): the run is created through the API node but starts and ends on
 * the worker, so its runStarted and runFinished reach the API node's feed only through the
 * relay over Redis. Read with plain fetch, the wire format only.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveEvent } from '../../src/contracts/index.js';
import {
  createPostgresDatabase,
  deleteRedisKeys,
  requirePostgres,
  requireRedis,
} from '../helpers/services.js';
import {
  cleanupAll,
  readSse,
  startServer,
  tempDir,
  type Run,
  type ServerHandle,
} from './helpers.js';

const admin = await requirePostgres();
const redisUrl = await requireRedis();

describe.skipIf(!admin || !redisUrl)('GET /v1/events across processes (Redis relay)', () => {
  const prefix = `patchbay-live-${randomBytes(4).toString('hex')}`;
  let drop: (() => Promise<void>) | undefined;
  let api: ServerHandle;

  beforeAll(async () => {
    const database = await createPostgresDatabase(admin!);
    drop = database.drop;
    const dataDir = tempDir('patchbay-live-scale-');
    const env = {
      PATCHBAY_DATABASE_URL: database.url,
      PATCHBAY_QUEUE_URL: redisUrl!,
      PATCHBAY_QUEUE_PREFIX: prefix,
      PATCHBAY_LOG_LEVEL: 'warn',
    };
    // One at a time: both migrate the same database at start.
    api = await startServer({ args: ['--no-worker'], dataDir, env, startTimeoutMs: 60_000 });
    await startServer({ command: 'worker', dataDir, env, startTimeoutMs: 60_000 });
  }, 150_000);
  afterAll(async () => {
    await cleanupAll();
    await drop?.();
    await deleteRedisKeys(redisUrl!, prefix);
  });

  it("announces a run that another process's worker starts and ends", async () => {
    let created: Promise<Run> | undefined;
    const { status, frames } = await readSse(`${api.url}/v1/events`, {
      timeoutMs: 60_000,
      // The run is made once the feed is open, so every transition of it must be on the feed.
      onFrame: (frame) => {
        if (frame.event !== 'ready' || created) return;
        created = api.api.createRun({ command: ['sh', '-c', 'echo relayed'] });
      },
      // The only run in this fresh database (matched by id below).
      until: (frame) => frame.event === 'runFinished',
    });
    expect(status).toBe(200);
    const run = await created!;
    expect(JSON.parse(frames.find((f) => f.event === 'ready')!.data)).toEqual({ complete: true });
    const ofRun = frames
      .filter((f) => f.event !== 'ready')
      .map((f) => JSON.parse(f.data) as LiveEvent)
      .filter((e) => e.run.id === run.id);
    // Each transition once: created here, started and finished relayed from the worker.
    expect(ofRun.map((e) => e.type)).toEqual(['runCreated', 'runStarted', 'runFinished']);
    expect(ofRun.at(-1)!.run.status).toBe('succeeded');
  }, 90_000);
});
