import type { Kysely, Selectable, Updateable } from 'kysely';
import type { TriggerDelivery, TriggerRunRequest } from '../contracts/index.js';
import { openEnv, plainSecretBox, sealEnv, type SecretBox } from './secret-box.js';
import type { Database, TriggerDeliveriesTable, TriggersTable } from './schema.js';

/** A trigger as stored, with its signing secret (opened). */
export interface TriggerRecord {
  id: string;
  name: string | null;
  secret: string;
  run: TriggerRunRequest;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}

export type TriggerPatch = Partial<Pick<TriggerRecord, 'name' | 'secret' | 'run' | 'enabled'>>;

export interface TriggerRepository {
  insert(trigger: TriggerRecord): Promise<void>;
  get(id: string): Promise<TriggerRecord | undefined>;
  /** Every trigger, oldest first. */
  list(): Promise<TriggerRecord[]>;
  /** False when there is no such trigger. */
  update(id: string, patch: TriggerPatch): Promise<boolean>;
  /** Deletes the trigger and its deliveries; false when there was none. */
  delete(id: string): Promise<boolean>;
  /**
   * The replay guard: records that delivery `webhookId` of the trigger is being handled. True
   * for exactly one caller per (trigger, webhook-id), whichever process; a delivery that was
   * refused (no run), or left `pending` before `staleBefore` (its process died while making
   * the run), may be claimed again by a resend.
   */
  claimDelivery(
    triggerId: string,
    webhookId: string,
    receivedAt: string,
    staleBefore: string,
  ): Promise<boolean>;
  /** What a claimed delivery did. */
  settleDelivery(
    triggerId: string,
    webhookId: string,
    result: { runId: string } | { errorCode: string; errorMessage: string },
  ): Promise<void>;
  /** The latest deliveries, newest first. */
  listDeliveries(triggerId: string, limit: number): Promise<TriggerDelivery[]>;
}

function sealRun(box: SecretBox, run: TriggerRunRequest): TriggerRunRequest {
  return run.env ? { ...run, env: sealEnv(box, run.env) } : run;
}
function openRun(box: SecretBox, run: TriggerRunRequest): TriggerRunRequest {
  return run.env ? { ...run, env: openEnv(box, run.env) } : run;
}

function deliveryOf(row: Selectable<TriggerDeliveriesTable>): TriggerDelivery {
  return {
    webhookId: row.webhook_id,
    receivedAt: row.received_at,
    outcome: row.outcome as TriggerDelivery['outcome'],
    runId: row.run_id,
    error:
      row.error_code !== null
        ? { code: row.error_code, message: row.error_message ?? row.error_code }
        : null,
  };
}

export function createTriggerRepository(
  db: Kysely<Database>,
  box: SecretBox = plainSecretBox,
): TriggerRepository {
  const fromRow = (row: Selectable<TriggersTable>): TriggerRecord => ({
    id: row.id,
    name: row.name,
    secret: box.open(row.secret),
    run: openRun(box, JSON.parse(row.run_request) as TriggerRunRequest),
    enabled: Number(row.enabled) === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
  return {
    async insert(t) {
      await db
        .insertInto('triggers')
        .values({
          id: t.id,
          name: t.name,
          secret: box.seal(t.secret),
          run_request: JSON.stringify(sealRun(box, t.run)),
          enabled: t.enabled ? 1 : 0,
          created_at: t.createdAt,
          updated_at: t.updatedAt,
        })
        .execute();
    },
    async get(id) {
      const row = await db
        .selectFrom('triggers')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    async list() {
      const rows = await db.selectFrom('triggers').selectAll().orderBy('id', 'asc').execute();
      return rows.map(fromRow);
    },
    async update(id, patch) {
      const row: Updateable<TriggersTable> = { updated_at: new Date().toISOString() };
      if (patch.name !== undefined) row.name = patch.name;
      if (patch.secret !== undefined) row.secret = box.seal(patch.secret);
      if (patch.run !== undefined) row.run_request = JSON.stringify(sealRun(box, patch.run));
      if (patch.enabled !== undefined) row.enabled = patch.enabled ? 1 : 0;
      const result = await db
        .updateTable('triggers')
        .set(row)
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    delete(id) {
      return db.transaction().execute(async (tx) => {
        await tx.deleteFrom('trigger_deliveries').where('trigger_id', '=', id).execute();
        const result = await tx.deleteFrom('triggers').where('id', '=', id).executeTakeFirst();
        return Number(result.numDeletedRows) === 1;
      });
    },
    async claimDelivery(triggerId, webhookId, receivedAt, staleBefore) {
      const result = await db
        .insertInto('trigger_deliveries')
        .values({
          trigger_id: triggerId,
          webhook_id: webhookId,
          received_at: receivedAt,
          outcome: 'pending',
          run_id: null,
          error_code: null,
          error_message: null,
        })
        .onConflict((oc) =>
          oc
            .columns(['trigger_id', 'webhook_id'])
            .doUpdateSet({
              outcome: 'pending',
              received_at: receivedAt,
              error_code: null,
              error_message: null,
            })
            .where((eb) =>
              eb.or([
                eb('trigger_deliveries.outcome', '=', 'refused'),
                eb.and([
                  eb('trigger_deliveries.outcome', '=', 'pending'),
                  eb('trigger_deliveries.received_at', '<', staleBefore),
                ]),
              ]),
            ),
        )
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
    },
    async settleDelivery(triggerId, webhookId, result) {
      await db
        .updateTable('trigger_deliveries')
        .set(
          'runId' in result
            ? { outcome: 'started', run_id: result.runId }
            : {
                outcome: 'refused',
                error_code: result.errorCode,
                error_message: result.errorMessage,
              },
        )
        .where('trigger_id', '=', triggerId)
        .where('webhook_id', '=', webhookId)
        .execute();
    },
    async listDeliveries(triggerId, limit) {
      const rows = await db
        .selectFrom('trigger_deliveries')
        .selectAll()
        .where('trigger_id', '=', triggerId)
        .orderBy('received_at', 'desc')
        .limit(limit)
        .execute();
      return rows.map(deliveryOf);
    },
  };
}
