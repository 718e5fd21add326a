import type { Kysely, Selectable } from 'kysely';
import type { Database, JobsTable } from './schema.js';

export type JobState = 'waiting' | 'active' | 'completed' | 'failed';

/** A job of the embedded queue, as stored. */
export interface JobRecord {
  id: string;
  queue: string;
  name: string;
  data: unknown;
  state: JobState;
  /** Lower runs first. */
  priority: number;
  /** Insertion order within a priority (a ULID). */
  seq: string;
  /** Not before this time: delays and retry backoff. */
  runAt: string;
  attemptsMade: number;
  maxAttempts: number;
  backoffMs: number;
  leaseOwner: string | null;
  leaseUntil: string | null;
  lastError: string | null;
  createdAt: string;
  finishedAt: string | null;
}

export interface JobCounts {
  waiting: number;
  delayed: number;
  active: number;
  completed: number;
  failed: number;
}

/**
 * The atomic steps of the embedded queue. Every change of state is a compare-and-set on the
 * current state (and, for a held job, on the lease owner), so concurrent workers on one store,
 * in one process or many, never both win the same job.
 */
export interface JobRepository {
  /** Adds a job; false (and nothing changed) when a job with this id exists. */
  insert(job: JobRecord): Promise<boolean>;
  get(id: string): Promise<JobRecord | undefined>;
  /** Deletes a job that no worker holds yet; false otherwise. */
  removeWaiting(id: string): Promise<boolean>;
  /** Takes the next ready job of `queue` (priority, then insertion order) for `owner`. */
  claim(queue: string, owner: string, now: string, leaseUntil: string): Promise<JobRecord | null>;
  /** Extends a held lease; false when the job is no longer held by `owner`. */
  heartbeat(id: string, owner: string, leaseUntil: string): Promise<boolean>;
  complete(id: string, owner: string, now: string): Promise<boolean>;
  /**
   * Ends an attempt that did not complete: back to `waiting` at `runAt`, or `failed` for good.
   * `owner` null releases whatever lease the job has (an expired one).
   */
  release(
    id: string,
    owner: string | null,
    outcome: {
      state: 'waiting' | 'failed';
      runAt: string;
      lastError: string;
      now: string;
      /** The attempt did not really happen (a worker handing its job back on shutdown). */
      refundAttempt?: boolean;
    },
  ): Promise<boolean>;
  /** Deletes completed jobs that finished before `cutoff`; returns how many. */
  deleteCompletedBefore(cutoff: string): Promise<number>;
  /** Active jobs whose lease ran out before `now`: their worker is gone. */
  listExpired(now: string): Promise<JobRecord[]>;
  counts(queue: string, now: string): Promise<JobCounts>;
}

function fromRow(row: Selectable<JobsTable>): JobRecord {
  return {
    id: row.id,
    queue: row.queue,
    name: row.name,
    data: JSON.parse(row.data) as unknown,
    state: row.state as JobState,
    priority: Number(row.priority),
    seq: row.seq,
    runAt: row.run_at,
    attemptsMade: Number(row.attempts_made),
    maxAttempts: Number(row.max_attempts),
    backoffMs: Number(row.backoff_ms),
    leaseOwner: row.lease_owner,
    leaseUntil: row.lease_until,
    lastError: row.last_error,
    createdAt: row.created_at,
    finishedAt: row.finished_at,
  };
}

/** How many ready candidates one claim looks at before giving up to the next poll. */
const CLAIM_CANDIDATES = 8;

export function createJobRepository(db: Kysely<Database>): JobRepository {
  return {
    async insert(job) {
      const result = await db
        .insertInto('jobs')
        .values({
          id: job.id,
          queue: job.queue,
          name: job.name,
          data: JSON.stringify(job.data ?? null),
          state: job.state,
          priority: job.priority,
          seq: job.seq,
          run_at: job.runAt,
          attempts_made: job.attemptsMade,
          max_attempts: job.maxAttempts,
          backoff_ms: job.backoffMs,
          lease_owner: null,
          lease_until: null,
          last_error: null,
          created_at: job.createdAt,
          finished_at: null,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
    },
    async get(id) {
      const row = await db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    async removeWaiting(id) {
      const result = await db
        .deleteFrom('jobs')
        .where('id', '=', id)
        .where('state', '=', 'waiting')
        .executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
    async claim(queue, owner, now, leaseUntil) {
      const candidates = await db
        .selectFrom('jobs')
        .select('id')
        .where('queue', '=', queue)
        .where('state', '=', 'waiting')
        .where('run_at', '<=', now)
        .orderBy('priority', 'asc')
        .orderBy('seq', 'asc')
        .limit(CLAIM_CANDIDATES)
        .execute();
      for (const { id } of candidates) {
        const row = await db
          .updateTable('jobs')
          .set((eb) => ({
            state: 'active',
            lease_owner: owner,
            lease_until: leaseUntil,
            attempts_made: eb('attempts_made', '+', 1),
          }))
          .where('id', '=', id)
          .where('state', '=', 'waiting')
          .returningAll()
          .executeTakeFirst();
        if (row) return fromRow(row);
      }
      return null;
    },
    async heartbeat(id, owner, leaseUntil) {
      const result = await db
        .updateTable('jobs')
        .set({ lease_until: leaseUntil })
        .where('id', '=', id)
        .where('state', '=', 'active')
        .where('lease_owner', '=', owner)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async complete(id, owner, now) {
      const result = await db
        .updateTable('jobs')
        .set({ state: 'completed', lease_owner: null, lease_until: null, finished_at: now })
        .where('id', '=', id)
        .where('state', '=', 'active')
        .where('lease_owner', '=', owner)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async release(id, owner, outcome) {
      let q = db
        .updateTable('jobs')
        .set((eb) => ({
          state: outcome.state,
          run_at: outcome.runAt,
          last_error: outcome.lastError,
          lease_owner: null,
          lease_until: null,
          finished_at: outcome.state === 'failed' ? outcome.now : null,
          ...(outcome.refundAttempt ? { attempts_made: eb('attempts_made', '-', 1) } : {}),
        }))
        .where('id', '=', id)
        .where('state', '=', 'active');
      q =
        owner === null
          ? q.where('lease_until', '<', outcome.now)
          : q.where('lease_owner', '=', owner);
      const result = await q.executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async deleteCompletedBefore(cutoff) {
      const result = await db
        .deleteFrom('jobs')
        .where('state', '=', 'completed')
        .where('finished_at', '<', cutoff)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async listExpired(now) {
      const rows = await db
        .selectFrom('jobs')
        .selectAll()
        .where('state', '=', 'active')
        .where('lease_until', '<', now)
        .execute();
      return rows.map(fromRow);
    },
    async counts(queue, now) {
      const rows = await db
        .selectFrom('jobs')
        .select(['state', (eb) => eb.fn.countAll<number | string>().as('n')])
        .select((eb) => eb.case().when('run_at', '>', now).then(1).else(0).end().as('later'))
        .where('queue', '=', queue)
        .groupBy(['state', 'later'])
        .execute();
      const counts: JobCounts = { waiting: 0, delayed: 0, active: 0, completed: 0, failed: 0 };
      for (const row of rows) {
        const n = Number(row.n);
        if (row.state === 'waiting') {
          if (Number(row.later) === 1) counts.delayed += n;
          else counts.waiting += n;
        } else if (row.state in counts) {
          counts[row.state as keyof JobCounts] += n;
        }
      }
      return counts;
    },
  };
}
