import type { Kysely, Selectable } from 'kysely';
import type { Database, WorkersTable } from './schema.js';

export type WorkerRole = 'server' | 'api' | 'worker';
export type WorkerState = 'active' | 'draining' | 'stopped';

/** A Patchbay process in the registry: what it takes, what it holds, when it last spoke. */
export interface WorkerRecord {
  id: string;
  role: WorkerRole;
  hostname: string;
  pid: number;
  version: string;
  queues: string[];
  concurrency: number;
  state: WorkerState;
  running: string[];
  startedAt: string;
  heartbeatAt: string;
  stoppedAt: string | null;
}

export interface WorkerRepository {
  /** Adds the process, or replaces its row (a restart under the same id). */
  register(worker: WorkerRecord): Promise<void>;
  /** Renews the heartbeat with the runs held now; false when the row is gone (purged). */
  heartbeat(
    id: string,
    patch: { state: WorkerState; running: string[]; at: string },
  ): Promise<boolean>;
  markStopped(id: string, at: string): Promise<void>;
  get(id: string): Promise<WorkerRecord | undefined>;
  /** Processes whose last heartbeat is at or after `since`, or that never stopped; newest first. */
  list(since: string): Promise<WorkerRecord[]>;
  /** Forgets processes silent since before `cutoff`; returns how many. */
  purge(cutoff: string): Promise<number>;
}

function fromRow(row: Selectable<WorkersTable>): WorkerRecord {
  return {
    id: row.id,
    role: row.role as WorkerRole,
    hostname: row.hostname,
    pid: Number(row.pid),
    version: row.version,
    queues: JSON.parse(row.queues) as string[],
    concurrency: Number(row.concurrency),
    state: row.state as WorkerState,
    running: JSON.parse(row.running) as string[],
    startedAt: row.started_at,
    heartbeatAt: row.heartbeat_at,
    stoppedAt: row.stopped_at,
  };
}

export function createWorkerRepository(db: Kysely<Database>): WorkerRepository {
  return {
    async register(w) {
      const row = {
        id: w.id,
        role: w.role,
        hostname: w.hostname,
        pid: w.pid,
        version: w.version,
        queues: JSON.stringify(w.queues),
        concurrency: w.concurrency,
        state: w.state,
        running: JSON.stringify(w.running),
        started_at: w.startedAt,
        heartbeat_at: w.heartbeatAt,
        stopped_at: w.stoppedAt,
      };
      await db
        .insertInto('workers')
        .values(row)
        .onConflict((oc) => oc.column('id').doUpdateSet(row))
        .execute();
    },
    async heartbeat(id, { state, running, at }) {
      const result = await db
        .updateTable('workers')
        .set({ state, running: JSON.stringify(running), heartbeat_at: at })
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async markStopped(id, at) {
      await db
        .updateTable('workers')
        .set({ state: 'stopped', running: '[]', heartbeat_at: at, stopped_at: at })
        .where('id', '=', id)
        .execute();
    },
    async get(id) {
      const row = await db
        .selectFrom('workers')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    async list(since) {
      const rows = await db
        .selectFrom('workers')
        .selectAll()
        .where((eb) => eb.or([eb('heartbeat_at', '>=', since), eb('state', '!=', 'stopped')]))
        .orderBy('started_at', 'desc')
        .execute();
      return rows.map(fromRow);
    },
    async purge(cutoff) {
      const result = await db
        .deleteFrom('workers')
        .where('heartbeat_at', '<', cutoff)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
