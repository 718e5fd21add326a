import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createPostgresDatabase,
  deleteRedisKeys,
  requirePostgres,
  requireRedis,
} from '../helpers/services.js';
import { cleanupAll, runCli, sleep, startServer, waitFor, type ServerHandle } from './helpers.js';

const admin = await requirePostgres();
const redisUrl = await requireRedis();

afterAll(cleanupAll);

interface Fire {
  tick: string;
  outcome: string;
  runId: string | null;
  runStatus: string | null;
}

/**
 * The proof: three servers share one store and a per-second schedule; N ticks give
 * exactly N runs, one per tick, with no tick missed or fired twice.
 */
async function everyTickOnce(servers: ServerHandle[]): Promise<void> {
  const [a, b, c] = servers as [ServerHandle, ServerHandle, ServerHandle];
  const created = await a.api.request('POST', '/v1/schedules', {
    name: 'every second',
    cron: '*/1 * * * * *',
    run: { command: ['true'] },
  });
  expect(created.status, created.text).toBe(201);
  const id = created.body.id as string;
  await sleep(5500);
  const off = await b.api.request('PATCH', `/v1/schedules/${id}`, { enabled: false });
  expect(off.status, off.text).toBe(200);
  // A tick being fired while it was disabled may still finish; then nothing more comes.
  await sleep(1500);
  const fires = async (): Promise<Fire[]> =>
    (await c.api.request('GET', `/v1/schedules/${id}`)).body.fires as Fire[];
  const settled = await waitFor(async () => {
    const f = await fires();
    return f.every((x) => x.runStatus === 'succeeded') ? f : undefined;
  }, 'every scheduled run to succeed');
  await sleep(1500);
  expect(await fires()).toHaveLength(settled.length);

  const ticks = settled.map((f) => Date.parse(f.tick)).sort((x, y) => x - y);
  expect(ticks.length).toBeGreaterThanOrEqual(4);
  // Consecutive seconds: none fired twice (the key forbids it), none skipped.
  for (let i = 1; i < ticks.length; i++) expect(ticks[i]! - ticks[i - 1]!).toBe(1000);
  expect(settled.every((f) => f.outcome === 'started')).toBe(true);

  const runs = (await a.api.request('GET', `/v1/runs?scheduleId=${id}&limit=200`)).body.runs as {
    id: string;
    scheduleId: string;
  }[];
  expect(runs).toHaveLength(settled.length);
  expect(runs.map((r) => r.id).sort()).toEqual(settled.map((f) => f.runId).sort());
  expect(runs.every((r) => r.scheduleId === id)).toBe(true);
}

describe.skipIf(!admin)('schedules across three servers sharing PostgreSQL', () => {
  it('N ticks give exactly N runs (the store fire lock)', async () => {
    const database = await createPostgresDatabase(admin!);
    const env = { PATCHBAY_DATABASE_URL: database.url };
    const servers = await Promise.all([0, 1, 2].map(() => startServer({ env })));
    try {
      await everyTickOnce(servers);
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
      await database.drop();
    }
  });
});

describe.skipIf(!admin || !redisUrl)('schedules across three servers with BullMQ', () => {
  it('N ticks give exactly N runs (BullMQ job schedulers)', async () => {
    const database = await createPostgresDatabase(admin!);
    const prefix = `patchbay-e2e-${randomBytes(4).toString('hex')}`;
    const env = {
      PATCHBAY_DATABASE_URL: database.url,
      PATCHBAY_QUEUE_URL: redisUrl!,
      PATCHBAY_QUEUE_PREFIX: prefix,
    };
    const servers = await Promise.all([0, 1, 2].map(() => startServer({ env })));
    try {
      await everyTickOnce(servers);
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
      await database.drop();
      await deleteRedisKeys(redisUrl!, prefix);
    }
  });
});

describe('patchbay schedules (CLI)', () => {
  it('adds, lists, disables, enables and removes a schedule', async () => {
    const server = await startServer();
    const cli = (...args: string[]) => runCli(['--url', server.url, 'schedules', ...args]);
    const added = await cli(
      'add',
      '--cron',
      '0 3 * * *',
      '--tz',
      'Europe/Berlin',
      '--name',
      'nightly',
      '--max-failures',
      '5',
      '-e',
      'A=1',
      '--',
      'sh',
      '-c',
      'echo hi',
    );
    expect(added.code, added.stderr).toBe(0);
    const id = added.stdout.trim();
    expect(id).toMatch(/^sched_/);
    const shown = (await server.api.request('GET', `/v1/schedules/${id}`)).body;
    expect(shown).toMatchObject({
      name: 'nightly',
      cron: '0 3 * * *',
      timezone: 'Europe/Berlin',
      enabled: true,
      maxConsecutiveFailures: 5,
      run: { command: ['sh', '-c', 'echo hi'], env: { A: '[redacted]' } },
    });
    // 03:00 in Berlin is 01:00 or 02:00 UTC.
    expect(shown.nextRunAt).toMatch(/T0[12]:00:00.000Z$/);

    const list = await cli('list');
    expect(list.stdout).toContain(`${id}  nightly  "0 3 * * *" Europe/Berlin  next `);
    expect((await cli('disable', id)).stdout).toContain('disabled');
    expect((await cli('enable', id)).stdout).toContain('next ');
    const bad = await cli('add', '--cron', '0 3 * *', '--', 'true');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('SCHEDULE_INVALID');
    expect((await cli('rm', id)).code).toBe(0);
    expect((await cli('list')).stderr).toContain('no schedules yet');
    const gone = await cli('rm', id);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toContain('SCHEDULE_NOT_FOUND');
    await server.stop();
  });
});
