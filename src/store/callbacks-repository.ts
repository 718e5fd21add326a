import type { Kysely } from 'kysely';
import { newDeliveryId } from './ids.js';
import type { Database } from './schema.js';

export type DeliveryOutcome = 'delivered' | 'retrying' | 'failed';

export interface CallbackDelivery {
  id: string;
  runId: string;
  url: string;
  attempt: number;
  outcome: DeliveryOutcome;
  httpStatus: number | null;
  error: string | null;
  createdAt: string;
}

export interface CallbackRepository {
  record(delivery: Omit<CallbackDelivery, 'id' | 'createdAt'>): Promise<void>;
  listForRun(runId: string): Promise<CallbackDelivery[]>;
}

export function createCallbackRepository(db: Kysely<Database>): CallbackRepository {
  return {
    async record(d) {
      await db
        .insertInto('callback_deliveries')
        .values({
          id: newDeliveryId(),
          run_id: d.runId,
          url: d.url,
          attempt: d.attempt,
          outcome: d.outcome,
          http_status: d.httpStatus,
          error: d.error,
          created_at: new Date().toISOString(),
        })
        .execute();
    },
    async listForRun(runId) {
      const rows = await db
        .selectFrom('callback_deliveries')
        .selectAll()
        .where('run_id', '=', runId)
        .orderBy('id', 'asc')
        .execute();
      return rows.map((r) => ({
        id: r.id,
        runId: r.run_id,
        url: r.url,
        attempt: r.attempt,
        outcome: r.outcome as DeliveryOutcome,
        httpStatus: r.http_status,
        error: r.error,
        createdAt: r.created_at,
      }));
    },
  };
}
