import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPostgresDatabase,
  requirePostgres,
  type TestDatabase,
} from '../../test/helpers/services.js';
import type { RunEvent } from '../contracts/index.js';
import { openDatabase } from './db.js';
import { migrateDown, migrateToLatest, migrations, migrationStatus } from './migrator.js';
import { testRunRecord } from '../../test/helpers/records.js';
import type { RunRecord } from './records.js';
import { openStore, type Store } from './store.js';

// What only a real server shows: several pools on one database, concurrent migrations and
// writers, the catalog after up/down. The shared store contract (store*.int.test.ts) also runs
// every repository on PostgreSQL. Unreachable server: skipped loudly, or failed under CI=true.
const adminUrl = await requirePostgres();

function runRecord(overrides: Partial<RunRecord> = {}): RunRecord {
  return testRunRecord({ maxOutputBytes: 3 * 1024 ** 4 }, overrides);
}

function event(runId: string, seq: number): RunEvent {
  return {
    runId,
    seq,
    type: 'output',
    ts: new Date().toISOString(),
    data: { stream: 'stdout', text: `line ${seq}` },
    raw: null,
  };
}

async function tables(store: Store): Promise<string[]> {
  const result = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = 'public' and table_name not like 'patchbay_migrations%'
    order by table_name`.execute(store.handle.db);
  return result.rows.map((r) => r.table_name);
}

describe('openDatabase (postgres URL)', () => {
  it('never reports the password in its location', async () => {
    // No connection is made until the first query.
    const handle = await openDatabase('postgres://patchbay:s3cret@127.0.0.1:5432/x');
    try {
      expect(handle.dialect).toBe('postgres');
      expect(handle.location).not.toContain('s3cret');
      expect(handle.location).toContain('127.0.0.1:5432/x');
    } finally {
      await handle.db.destroy();
    }
  });
});

describe.skipIf(!adminUrl)('PostgreSQL store', () => {
  let database: TestDatabase;
  let a: Store;
  let b: Store;

  beforeAll(async () => {
    database = await createPostgresDatabase(adminUrl!);
    // Two servers starting at once on an empty database: the migration lock must serialise
    // them, and each migration must run exactly once.
    [a, b] = await Promise.all([
      openStore({ databaseUrl: database.url }),
      openStore({ databaseUrl: database.url }),
    ]);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await database?.drop();
  });

  it('applies every migration once, even when two stores open together', async () => {
    const status = await migrationStatus(a.handle.db as never);
    expect(status.map((m) => m.name)).toEqual(Object.keys(migrations));
    expect(status.every((m) => m.executedAt !== null)).toBe(true);
    const applied = await sql<{ n: string }>`select count(*) as n from patchbay_migrations`.execute(
      a.handle.db,
    );
    expect(Number(applied.rows[0]!.n)).toBe(Object.keys(migrations).length);
    expect(await tables(a)).toEqual(expect.arrayContaining(['runs', 'run_events']));
  });

  it('round-trips a run and its events between two connection pools', async () => {
    const run = runRecord({ env: { K: 'v' }, command: ['echo', 'ü ✓'] });
    await a.runs.insert(run);
    expect(await b.runs.get(run.id)).toEqual(run); // bigint columns come back as numbers
    await a.events.append([event(run.id, 1), event(run.id, 2)]);
    await b.events.append([event(run.id, 3)]);
    expect((await b.events.list(run.id, 0, 10)).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(await a.events.maxSeq(run.id)).toBe(3);
    expect((await a.runs.get(run.id))!.lastSeq).toBe(3);
  });

  it('lets exactly one writer win a status transition across pools', async () => {
    const run = runRecord({ status: 'running' });
    await a.runs.insert(run);
    const attempts = Array.from({ length: 10 }, (_, i) =>
      (i % 2 === 0 ? a : b).runs.transition(run.id, ['running'], {
        status: i % 3 === 0 ? 'cancelled' : 'succeeded',
        exitCode: i,
      }),
    );
    const won = await Promise.all(attempts);
    expect(won.filter(Boolean)).toHaveLength(1);
    const winner = won.indexOf(true);
    expect(await b.runs.get(run.id)).toMatchObject({
      status: winner % 3 === 0 ? 'cancelled' : 'succeeded',
      exitCode: winner,
    });
  });

  it('refuses the same seq from two writers at once, keeping one', async () => {
    const run = runRecord();
    await a.runs.insert(run);
    const results = await Promise.allSettled([
      a.events.append([event(run.id, 1), event(run.id, 2)]),
      b.events.append([event(run.id, 1)]),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const seqs = (await a.events.list(run.id, 0, 10)).map((e) => e.seq);
    expect(seqs).toEqual(results[0]!.status === 'fulfilled' ? [1, 2] : [1]);
    expect((await a.runs.get(run.id))!.lastSeq).toBe(seqs.length);
  });

  it('migrates all the way down (tables gone) and up again', async () => {
    await b.close();
    const db = a.handle.db as never;
    const names = Object.keys(migrations);
    for (const name of [...names].reverse()) expect(await migrateDown(db)).toEqual([name]);
    expect(await tables(a)).toEqual([]);
    expect((await migrationStatus(db)).every((m) => m.executedAt === null)).toBe(true);
    expect(await migrateToLatest(db)).toEqual(names);
    expect(await tables(a)).toEqual(expect.arrayContaining(['runs', 'run_events']));
    const run = runRecord();
    await a.runs.insert(run);
    await a.events.append([event(run.id, 1)]);
    expect(await a.events.maxSeq(run.id)).toBe(1);
    b = await openStore({ databaseUrl: database.url });
    expect(await b.runs.get(run.id)).toEqual({ ...run, lastSeq: 1 });
  });
});
