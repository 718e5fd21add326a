import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * What a run's GitHub delivery knows and has done, kept per run so that a retried try goes on
 * from where the last one stopped: where the run came from (an issue, a comment, a review
 * comment), the branch pushed and the commit on it, the pull request, the status comment.
 */
export interface DeliveryState {
  /** `owner/name`. */
  repository?: string;
  /** The issue or pull request the run was asked from, and who asked. */
  trigger?: {
    kind: 'issue' | 'comment' | 'review' | 'review_comment';
    number: number;
    /** A review comment to answer in its thread. */
    reviewCommentId?: number;
    sender?: string;
    url?: string;
  };
  /** The comment Patchbay keeps up to date on the issue or pull request. */
  statusCommentId?: number;
  /** The branch on GitHub, and the commit last pushed to it. */
  remoteBranch?: string;
  pushedCommit?: string;
  /** The local branch pushed (a merge branch when the remote one had moved). */
  pushedFrom?: string;
  pullRequest?: { number: number; url: string; nodeId: string; draft: boolean };
  /** The configured labels were put on the pull request. */
  labelled?: boolean;
  /** The reply posted in the review thread. */
  replyCommentId?: number;
  /** The repository_dispatch sent (`deliver: actions`). */
  dispatchedAt?: string;
}

export interface DeliveryRepository {
  get(runId: string): Promise<DeliveryState | undefined>;
  /** Merges `patch` into the stored state (creating it). */
  update(runId: string, patch: DeliveryState): Promise<DeliveryState>;
}

export function createDeliveryRepository(db: Kysely<Database>): DeliveryRepository {
  async function get(runId: string): Promise<DeliveryState | undefined> {
    const row = await db
      .selectFrom('run_deliveries')
      .select('state')
      .where('run_id', '=', runId)
      .executeTakeFirst();
    return row ? (JSON.parse(row.state) as DeliveryState) : undefined;
  }
  return {
    get,
    async update(runId, patch) {
      return db.transaction().execute(async (tx) => {
        const row = await tx
          .selectFrom('run_deliveries')
          .select('state')
          .where('run_id', '=', runId)
          .executeTakeFirst();
        const state = { ...(row ? (JSON.parse(row.state) as DeliveryState) : {}), ...patch };
        const values = { state: JSON.stringify(state), updated_at: new Date().toISOString() };
        if (row) {
          await tx.updateTable('run_deliveries').set(values).where('run_id', '=', runId).execute();
        } else {
          await tx
            .insertInto('run_deliveries')
            .values({ run_id: runId, ...values })
            .execute();
        }
        return state;
      });
    },
  };
}

export interface WebhookDeliveryRepository {
  /** Records a delivery id; false when it was seen before (a redelivery). */
  remember(id: string, source: string, event: string): Promise<boolean>;
}

export function createWebhookDeliveryRepository(db: Kysely<Database>): WebhookDeliveryRepository {
  return {
    async remember(id, source, event) {
      const inserted = await db
        .insertInto('webhook_deliveries')
        .values({ id: `${source}:${id}`, source, event, received_at: new Date().toISOString() })
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .executeTakeFirst();
      return inserted !== undefined;
    },
  };
}
