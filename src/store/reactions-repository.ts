import type { Kysely, Selectable } from 'kysely';
import { newReactionAttemptId, newReactionId } from './ids.js';
import type { Database, ReactionAttemptsTable, ReactionsTable } from './schema.js';

export type ReactionStatus = 'pending' | 'running' | 'succeeded' | 'failed';
export type ReactionOutcome = 'succeeded' | 'retrying' | 'failed';

/** Something to do because a run reached a state: one per (run, reaction name). */
export interface ReactionRecord {
  id: string;
  runId: string;
  name: string;
  status: ReactionStatus;
  /** Tries so far (claims): the one running counts. */
  attempts: number;
  leaseOwner: string | null;
  /** Running: until when its claim holds. Pending: not tried before this time (a retry). */
  leaseUntil: string | null;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export interface ReactionAttempt {
  id: string;
  reactionId: string;
  attempt: number;
  outcome: ReactionOutcome;
  error: string | null;
  /** The process that tried it. */
  owner: string;
  startedAt: string;
  finishedAt: string;
}

export function newReaction(runId: string, name: string, at = new Date().toISOString()) {
  return {
    id: newReactionId(),
    runId,
    name,
    status: 'pending',
    attempts: 0,
    leaseOwner: null,
    leaseUntil: null,
    lastError: null,
    createdAt: at,
    updatedAt: at,
    finishedAt: null,
  } satisfies ReactionRecord;
}

/**
 * The outbox of reactions. Rows are written with the run's transition (insertReactions in the
 * same transaction); a process then claims one (compare-and-set with a lease, so one process
 * tries it at a time however many look), and settles the try it made.
 */
export interface ReactionRepository {
  get(id: string): Promise<ReactionRecord | undefined>;
  /** Adds reactions outside a run's transition; an existing (run, name) is kept. */
  insert(reactions: ReactionRecord[]): Promise<void>;
  listForRun(runId: string): Promise<ReactionRecord[]>;
  listAttempts(reactionId: string): Promise<ReactionAttempt[]>;
  /**
   * Takes a reaction to try for `owner` until `leaseUntil`: one that is pending, or running
   * under a lease that ran out (its process is gone). Counts the try; undefined when another
   * process holds it or it is settled.
   */
  claim(
    id: string,
    owner: string,
    now: string,
    leaseUntil: string,
  ): Promise<ReactionRecord | undefined>;
  /** Extends a held lease; false when `owner` no longer holds it. */
  renew(id: string, owner: string, leaseUntil: string): Promise<boolean>;
  /**
   * Records the try `owner` made and settles the reaction: `succeeded`, `failed` for good, or
   * `retrying` (pending again). False, and nothing recorded, when `owner` lost the lease.
   */
  settle(
    id: string,
    owner: string,
    attempt: {
      attempt: number;
      outcome: ReactionOutcome;
      error: string | null;
      startedAt: string;
      /** For `retrying`: not tried again before this time. */
      retryAt?: string;
    },
  ): Promise<boolean>;
  /** Reactions not settled (pending or running), created at or after `since`, oldest first. */
  listOpen(since: string, limit: number): Promise<ReactionRecord[]>;
}

/** Writes reactions with `db` (a run's transition passes its transaction). */
export async function insertReactions(
  db: Kysely<Database>,
  reactions: readonly ReactionRecord[],
): Promise<void> {
  for (const r of reactions) {
    await db
      .insertInto('reactions')
      .values({
        id: r.id,
        run_id: r.runId,
        name: r.name,
        status: r.status,
        attempts: r.attempts,
        lease_owner: r.leaseOwner,
        lease_until: r.leaseUntil,
        last_error: r.lastError,
        created_at: r.createdAt,
        updated_at: r.updatedAt,
        finished_at: r.finishedAt,
      })
      .onConflict((oc) => oc.columns(['run_id', 'name']).doNothing())
      .execute();
  }
}

function fromRow(row: Selectable<ReactionsTable>): ReactionRecord {
  return {
    id: row.id,
    runId: row.run_id,
    name: row.name,
    status: row.status as ReactionStatus,
    attempts: Number(row.attempts),
    leaseOwner: row.lease_owner,
    leaseUntil: row.lease_until,
    lastError: row.last_error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
  };
}

function attemptFromRow(row: Selectable<ReactionAttemptsTable>): ReactionAttempt {
  return {
    id: row.id,
    reactionId: row.reaction_id,
    attempt: Number(row.attempt),
    outcome: row.outcome as ReactionOutcome,
    error: row.error,
    owner: row.owner,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

export function createReactionRepository(db: Kysely<Database>): ReactionRepository {
  const get = async (id: string) => {
    const row = await db
      .selectFrom('reactions')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? fromRow(row) : undefined;
  };
  return {
    get,
    insert: (reactions) => insertReactions(db, reactions),
    async listForRun(runId) {
      const rows = await db
        .selectFrom('reactions')
        .selectAll()
        .where('run_id', '=', runId)
        .orderBy('id', 'asc')
        .execute();
      return rows.map(fromRow);
    },
    async listAttempts(reactionId) {
      const rows = await db
        .selectFrom('reaction_attempts')
        .selectAll()
        .where('reaction_id', '=', reactionId)
        .orderBy('id', 'asc')
        .execute();
      return rows.map(attemptFromRow);
    },
    async claim(id, owner, now, leaseUntil) {
      const before = await get(id);
      if (!before) return undefined;
      const result = await db
        .updateTable('reactions')
        .set((eb) => ({
          status: 'running',
          attempts: eb('attempts', '+', 1),
          lease_owner: owner,
          lease_until: leaseUntil,
          updated_at: now,
        }))
        .where('id', '=', id)
        // Pending and due (a retry waits for its time in lease_until), or running under a
        // lease that ran out.
        .where((eb) =>
          eb.or([
            eb.and([
              eb('status', '=', 'pending'),
              eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]),
            ]),
            eb.and([eb('status', '=', 'running'), eb('lease_until', '<', now)]),
          ]),
        )
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) !== 1) return undefined;
      if (before.status === 'running') {
        // Taken over from a process that died trying it: its try is recorded as lost.
        await db
          .insertInto('reaction_attempts')
          .values({
            id: newReactionAttemptId(),
            reaction_id: id,
            attempt: before.attempts,
            outcome: 'retrying',
            error: 'the process trying it stopped before it finished (its lease ran out)',
            owner: before.leaseOwner ?? 'unknown',
            started_at: before.updatedAt,
            finished_at: now,
          })
          .execute();
      }
      return get(id);
    },
    async renew(id, owner, leaseUntil) {
      const result = await db
        .updateTable('reactions')
        .set({ lease_until: leaseUntil })
        .where('id', '=', id)
        .where('status', '=', 'running')
        .where('lease_owner', '=', owner)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async settle(id, owner, attempt) {
      const at = new Date().toISOString();
      const status: ReactionStatus = attempt.outcome === 'retrying' ? 'pending' : attempt.outcome;
      return db.transaction().execute(async (trx) => {
        const result = await trx
          .updateTable('reactions')
          .set({
            status,
            lease_owner: null,
            // A pending reaction's lease_until is the time of its next try.
            lease_until: status === 'pending' ? (attempt.retryAt ?? null) : null,
            last_error: attempt.error,
            updated_at: at,
            finished_at: status === 'pending' ? null : at,
          })
          .where('id', '=', id)
          .where('status', '=', 'running')
          .where('lease_owner', '=', owner)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) !== 1) return false;
        await trx
          .insertInto('reaction_attempts')
          .values({
            id: newReactionAttemptId(),
            reaction_id: id,
            attempt: attempt.attempt,
            outcome: attempt.outcome,
            error: attempt.error,
            owner,
            started_at: attempt.startedAt,
            finished_at: at,
          })
          .execute();
        return true;
      });
    },
    async listOpen(since, limit) {
      const rows = await db
        .selectFrom('reactions')
        .selectAll()
        .where('status', 'in', ['pending', 'running'])
        .where('created_at', '>=', since)
        .orderBy('created_at', 'asc')
        .limit(limit)
        .execute();
      return rows.map(fromRow);
    },
  };
}
