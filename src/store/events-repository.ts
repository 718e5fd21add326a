import type { Insertable, Kysely } from 'kysely';
import type { RunEvent, RunEventType } from '../contracts/index.js';
import type { Database, RunEventsTable } from './schema.js';

export interface EventRepository {
  /** Appends a batch in one transaction and advances each run's `last_seq`. */
  append(events: RunEvent[]): Promise<void>;
  list(runId: string, after: number, limit: number): Promise<RunEvent[]>;
  maxSeq(runId: string): Promise<number>;
}

/** An event as a `run_events` row. */
export function eventRow(e: RunEvent): Insertable<RunEventsTable> {
  return {
    run_id: e.runId,
    seq: e.seq,
    type: e.type,
    ts: e.ts,
    data: JSON.stringify(e.data),
    raw: e.raw ?? null,
  };
}

export function createEventRepository(db: Kysely<Database>): EventRepository {
  return {
    async append(events) {
      if (events.length === 0) return;
      const lastSeqByRun = new Map<string, number>();
      for (const e of events) {
        lastSeqByRun.set(e.runId, Math.max(lastSeqByRun.get(e.runId) ?? 0, e.seq));
      }
      await db.transaction().execute(async (trx) => {
        // Chunked so one statement stays under SQLite's bound-parameter limit.
        for (let i = 0; i < events.length; i += 500) {
          await trx
            .insertInto('run_events')
            .values(events.slice(i, i + 500).map(eventRow))
            .execute();
        }
        for (const [runId, seq] of lastSeqByRun) {
          await trx
            .updateTable('runs')
            .set({ last_seq: seq })
            .where('id', '=', runId)
            .where('last_seq', '<', seq)
            .execute();
        }
      });
    },
    async list(runId, after, limit) {
      const rows = await db
        .selectFrom('run_events')
        .selectAll()
        .where('run_id', '=', runId)
        .where('seq', '>', after)
        .orderBy('seq', 'asc')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        runId: r.run_id,
        seq: Number(r.seq),
        type: r.type as RunEventType,
        ts: r.ts,
        data: JSON.parse(r.data) as Record<string, unknown>,
        raw: r.raw,
      }));
    },
    async maxSeq(runId) {
      const row = await db
        .selectFrom('run_events')
        .select((eb) => eb.fn.max('seq').as('max'))
        .where('run_id', '=', runId)
        .executeTakeFirst();
      return row?.max == null ? 0 : Number(row.max);
    },
  };
}
