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
import { cleanupAll, startServer, tempDir, type ServerHandle } from './helpers.js';

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
    const ctrl = new AbortController();
    const res = await fetch(`${api.url}/v1/events`, {
      headers: { accept: 'text/event-stream' },
      signal: ctrl.signal,
    });
    expect(res.status).toBe(200);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let raw = '';
    const messages = (): { event: string; data: string }[] =>
      raw
        .split('\n\n')
        .slice(0, -1)
        .flatMap((block) => {
          const lines = block.split('\n');
          const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
          const data = lines.find((l) => l.startsWith('data: '))?.slice(6);
          return event && data !== undefined ? [{ event, data }] : [];
        });
    const readUntil = async (done: () => boolean, what: string): Promise<void> => {
      const deadline = Date.now() + 60_000;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got:\n${raw}`);
        const timer = setTimeout(() => ctrl.abort(), deadline - Date.now());
        const { value, done: ended } = await reader.read();
        clearTimeout(timer);
        if (ended) throw new Error(`the stream ended before ${what}; got:\n${raw}`);
        raw += value;
      }
    };
    try {
      await readUntil(() => messages().some((m) => m.event === 'ready'), 'ready');
      expect(JSON.parse(messages().find((m) => m.event === 'ready')!.data)).toEqual({
        complete: true,
      });
      const run = await api.api.createRun({ command: ['sh', '-c', 'echo relayed'] });
      const ofRun = (): LiveEvent[] =>
        messages()
          .filter((m) => m.event !== 'ready')
          .map((m) => JSON.parse(m.data) as LiveEvent)
          .filter((e) => e.run.id === run.id);
      await readUntil(
        () => ofRun().some((e) => e.type === 'runFinished'),
        `runFinished of ${run.id}`,
      );
      const types = ofRun().map((e) => e.type);
      // Each transition once: created here, started and finished relayed from the worker.
      expect(types).toEqual(['runCreated', 'runStarted', 'runFinished']);
      expect(ofRun().at(-1)!.run.status).toBe('succeeded');
    } finally {
      ctrl.abort();
      await reader.cancel().catch(() => undefined);
    }
  }, 90_000);
});
