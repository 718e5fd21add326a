import type { Kysely } from 'kysely';
import type { ActionsOutcome } from '../contracts/index.js';
import type { Database } from './schema.js';
import { plainSecretBox, type SecretBox } from './secret-box.js';

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
  /**
   * The key the dispatch handed to the GitHub Action to sign its report with (`whsec_…`,
   * sealed at rest); never shown by the API.
   */
  actionsSecret?: string;
  /** What the GitHub Action reported when it ended (`POST /v1/webhooks/actions/:runId`). */
  actions?: ActionsOutcome;
}

export interface DeliveryRepository {
  get(runId: string): Promise<DeliveryState | undefined>;
  /** Merges `patch` into the stored state (creating it). */
  update(runId: string, patch: DeliveryState): Promise<DeliveryState>;
}

export function createDeliveryRepository(
  db: Kysely<Database>,
  box: SecretBox = plainSecretBox,
): DeliveryRepository {
  // The Action's signing key is sealed like runs' env values; the rest is plain JSON.
  const parse = (text: string): DeliveryState => {
    const state = JSON.parse(text) as DeliveryState;
    return state.actionsSecret ? { ...state, actionsSecret: box.open(state.actionsSecret) } : state;
  };
  const serialise = (state: DeliveryState): string =>
    JSON.stringify(
      state.actionsSecret ? { ...state, actionsSecret: box.seal(state.actionsSecret) } : state,
    );
  async function get(runId: string): Promise<DeliveryState | undefined> {
    const row = await db
      .selectFrom('run_deliveries')
      .select('state')
      .where('run_id', '=', runId)
      .executeTakeFirst();
    return row ? parse(row.state) : undefined;
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
        const state = { ...(row ? parse(row.state) : {}), ...patch };
        const values = { state: serialise(state), updated_at: new Date().toISOString() };
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

/** An acknowledged delivery not yet handled. */
export interface PendingWebhook {
  /** The sender's delivery id (X-GitHub-Delivery). */
  id: string;
  event: string;
  payload: Record<string, unknown>;
  attempts: number;
}

export interface WebhookDeliveryRepository {
  /**
   * Records a delivery id, with the payload to handle; false when it was seen before (a
   * redelivery).
   */
  remember(id: string, source: string, event: string, payload?: unknown): Promise<boolean>;
  /**
   * Takes an unhandled delivery for handling until `until` (compare-and-set: one process at a
   * time, another after the lease runs out). Returns its try number, or null when it is handled
   * or held.
   */
  claim(id: string, source: string, until: string): Promise<number | null>;
  /** Handled (or given up, with `error`): not tried again; the payload is dropped. */
  settle(id: string, source: string, error?: string): Promise<void>;
  /** A try failed: it will be tried again (lease released). */
  release(id: string, source: string, error: string): Promise<void>;
  /** Unhandled, unheld deliveries received before `receivedBefore`, oldest first. */
  listPending(source: string, receivedBefore: string, limit: number): Promise<PendingWebhook[]>;
  /**
   * Forgets handled deliveries (of every source) received before `receivedBefore`: a
   * redelivery that old is no longer refused. Unhandled ones are kept for their retries.
   * Returns how many were deleted.
   */
  prune(receivedBefore: string): Promise<number>;
}

export function createWebhookDeliveryRepository(db: Kysely<Database>): WebhookDeliveryRepository {
  const key = (source: string, id: string): string => `${source}:${id}`;
  return {
    async remember(id, source, event, payload) {
      const inserted = await db
        .insertInto('webhook_deliveries')
        .values({
          id: key(source, id),
          source,
          event,
          received_at: new Date().toISOString(),
          payload: payload === undefined ? null : JSON.stringify(payload),
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .executeTakeFirst();
      return inserted !== undefined;
    },
    async claim(id, source, until) {
      const now = new Date().toISOString();
      const row = await db
        .updateTable('webhook_deliveries')
        .set((eb) => ({ claimed_until: until, attempts: eb('attempts', '+', 1) }))
        .where('id', '=', key(source, id))
        .where('handled_at', 'is', null)
        .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)]))
        .returning('attempts')
        .executeTakeFirst();
      return row ? Number(row.attempts) : null;
    },
    async settle(id, source, error) {
      await db
        .updateTable('webhook_deliveries')
        .set({
          handled_at: new Date().toISOString(),
          claimed_until: null,
          payload: null,
          last_error: error ?? null,
        })
        .where('id', '=', key(source, id))
        .execute();
    },
    async release(id, source, error) {
      await db
        .updateTable('webhook_deliveries')
        .set({ claimed_until: null, last_error: error })
        .where('id', '=', key(source, id))
        .execute();
    },
    async listPending(source, receivedBefore, limit) {
      const now = new Date().toISOString();
      const rows = await db
        .selectFrom('webhook_deliveries')
        .select(['id', 'event', 'payload', 'attempts'])
        .where('source', '=', source)
        .where('handled_at', 'is', null)
        .where('payload', 'is not', null)
        .where('received_at', '<', receivedBefore)
        .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)]))
        .orderBy('received_at')
        .limit(limit)
        .execute();
      return rows.map((r) => ({
        id: r.id.slice(source.length + 1),
        event: r.event,
        payload: JSON.parse(r.payload!) as Record<string, unknown>,
        attempts: Number(r.attempts),
      }));
    },
    async prune(receivedBefore) {
      const result = await db
        .deleteFrom('webhook_deliveries')
        .where('handled_at', 'is not', null)
        .where('received_at', '<', receivedBefore)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
