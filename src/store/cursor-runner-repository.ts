import type { Kysely, Selectable } from 'kysely';
import { ulid } from './ids.js';
import type {
  CursorRunnerConversationsTable,
  CursorRunnerRequestsTable,
  CursorRunnerTasksTable,
  Database,
} from './schema.js';
import { plainSecretBox, type SecretBox } from './secret-box.js';

/** A cursor-runner request: its current run, and what follows that run's end. */
export interface CursorRunnerRequestRecord {
  id: string;
  requestId: string;
  runId: string;
  params: Record<string, unknown>;
  iterations: number;
  callbackUrl: string | null;
  callbackSecret: string | null;
  taskId: number | null;
  status: 'running' | 'done';
  outcome: { status: number; body: Record<string, unknown> } | null;
  startedAt: string;
  finishedAt: string | null;
}

/** A cursor-runner conversation row (its messages come from the Patchbay conversations). */
export interface CursorRunnerConversationRecord {
  id: string;
  kind: 'conversation' | 'agent';
  queueType: string | null;
  agentId: string | null;
  title: string | null;
  status: string | null;
  metadata: Record<string, unknown> | null;
  /** An `agent` conversation's stored messages (objects as the client sent them). */
  messages: Record<string, unknown>[];
  createdAt: string;
  lastAccessedAt: string;
}

export interface CursorRunnerTaskRecord {
  id: number;
  prompt: string;
  order: number;
  status: number;
  uuid: string | null;
  runId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface CursorRunnerRepository {
  insertRequest(
    r: Omit<CursorRunnerRequestRecord, 'id' | 'status' | 'outcome' | 'finishedAt'>,
  ): Promise<CursorRunnerRequestRecord>;
  getRequest(id: string): Promise<CursorRunnerRequestRecord | undefined>;
  /** The request whose current run is `runId`. */
  requestOfRun(runId: string): Promise<CursorRunnerRequestRecord | undefined>;
  /** Moves a running request from run `from` to its next turn's run; false when it was not at `from`. */
  advanceRequest(id: string, from: string, to: string): Promise<boolean>;
  /** Ends a running request at run `at` with its answer; false when it was not running there. */
  finishRequest(
    id: string,
    at: string,
    outcome: NonNullable<CursorRunnerRequestRecord['outcome']>,
  ): Promise<boolean>;
  insertConversation(c: CursorRunnerConversationRecord): Promise<void>;
  getConversation(id: string): Promise<CursorRunnerConversationRecord | undefined>;
  listConversations(kind: 'conversation' | 'agent'): Promise<CursorRunnerConversationRecord[]>;
  updateConversation(
    id: string,
    patch: Partial<
      Pick<CursorRunnerConversationRecord, 'messages' | 'metadata' | 'lastAccessedAt'>
    >,
  ): Promise<void>;
  /** The Patchbay conversation used in `workspace`; links are never replaced. */
  getLink(conversationId: string, workspace: string): Promise<string | undefined>;
  /** Inserts the link unless one exists; returns the one that is stored. */
  link(conversationId: string, workspace: string, patchbayId: string): Promise<string>;
  listLinks(conversationId: string): Promise<string[]>;
  /** The cursor-runner conversation a Patchbay conversation belongs to. */
  conversationOf(patchbayId: string): Promise<string | undefined>;
  getLast(queueType: string): Promise<string | undefined>;
  setLast(queueType: string, conversationId: string): Promise<void>;
  listTasks(status?: number): Promise<CursorRunnerTaskRecord[]>;
  getTask(id: number): Promise<CursorRunnerTaskRecord | undefined>;
  insertTask(
    task: Pick<CursorRunnerTaskRecord, 'prompt' | 'order' | 'status'>,
  ): Promise<CursorRunnerTaskRecord>;
  updateTask(
    id: number,
    patch: Partial<Pick<CursorRunnerTaskRecord, 'prompt' | 'order' | 'status' | 'runId'>>,
    /** Only when its status is this one now (compare-and-set). */
    expectStatus?: number,
  ): Promise<CursorRunnerTaskRecord | undefined>;
  deleteTask(id: number): Promise<boolean>;
}

function json<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

function conversationFromRow(
  row: Selectable<CursorRunnerConversationsTable>,
): CursorRunnerConversationRecord {
  return {
    id: row.id,
    kind: row.kind as CursorRunnerConversationRecord['kind'],
    queueType: row.queue_type,
    agentId: row.agent_id,
    title: row.title,
    status: row.status,
    metadata: json(row.metadata, null),
    messages: json(row.messages, []),
    createdAt: row.created_at,
    lastAccessedAt: row.last_accessed_at,
  };
}

function taskFromRow(row: Selectable<CursorRunnerTasksTable>): CursorRunnerTaskRecord {
  return {
    id: Number(row.id),
    prompt: row.prompt,
    order: Number(row.sort_order),
    status: Number(row.status),
    uuid: row.uuid,
    runId: row.run_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Ids are max + 1, taken again when two inserts race for the same one. */
const INSERT_TRIES = 5;

function requestFromRow(
  row: Selectable<CursorRunnerRequestsTable>,
  secrets: SecretBox,
): CursorRunnerRequestRecord {
  return {
    id: row.id,
    requestId: row.request_id,
    runId: row.run_id,
    params: json(row.params, {}),
    iterations: Number(row.iterations),
    callbackUrl: row.callback_url,
    callbackSecret: row.callback_secret === null ? null : secrets.open(row.callback_secret),
    taskId: row.task_id === null ? null : Number(row.task_id),
    status: row.status as CursorRunnerRequestRecord['status'],
    outcome: json(row.outcome, null),
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

export function createCursorRunnerRepository(
  db: Kysely<Database>,
  secrets: SecretBox = plainSecretBox,
): CursorRunnerRepository {
  return {
    async insertRequest(r) {
      const id = `crq_${ulid()}`;
      await db
        .insertInto('cursor_runner_requests')
        .values({
          id,
          request_id: r.requestId,
          run_id: r.runId,
          params: JSON.stringify(r.params),
          iterations: r.iterations,
          callback_url: r.callbackUrl,
          callback_secret: r.callbackSecret === null ? null : secrets.seal(r.callbackSecret),
          task_id: r.taskId,
          status: 'running',
          outcome: null,
          started_at: r.startedAt,
          finished_at: null,
        })
        .execute();
      return (await this.getRequest(id))!;
    },
    async getRequest(id) {
      const row = await db
        .selectFrom('cursor_runner_requests')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? requestFromRow(row, secrets) : undefined;
    },
    async requestOfRun(runId) {
      const row = await db
        .selectFrom('cursor_runner_requests')
        .selectAll()
        .where('run_id', '=', runId)
        .executeTakeFirst();
      return row ? requestFromRow(row, secrets) : undefined;
    },
    async advanceRequest(id, from, to) {
      const result = await db
        .updateTable('cursor_runner_requests')
        .set((eb) => ({ run_id: to, iterations: eb('iterations', '+', 1) }))
        .where('id', '=', id)
        .where('run_id', '=', from)
        .where('status', '=', 'running')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async finishRequest(id, at, outcome) {
      const result = await db
        .updateTable('cursor_runner_requests')
        .set({
          status: 'done',
          outcome: JSON.stringify(outcome),
          finished_at: new Date().toISOString(),
        })
        .where('id', '=', id)
        .where('run_id', '=', at)
        .where('status', '=', 'running')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
    async insertConversation(c) {
      await db
        .insertInto('cursor_runner_conversations')
        .values({
          id: c.id,
          kind: c.kind,
          queue_type: c.queueType,
          agent_id: c.agentId,
          title: c.title,
          status: c.status,
          metadata: c.metadata ? JSON.stringify(c.metadata) : null,
          messages: c.kind === 'agent' ? JSON.stringify(c.messages) : null,
          created_at: c.createdAt,
          last_accessed_at: c.lastAccessedAt,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    },
    async getConversation(id) {
      const row = await db
        .selectFrom('cursor_runner_conversations')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? conversationFromRow(row) : undefined;
    },
    async listConversations(kind) {
      const rows = await db
        .selectFrom('cursor_runner_conversations')
        .selectAll()
        .where('kind', '=', kind)
        .orderBy('created_at', 'desc')
        .execute();
      return rows.map(conversationFromRow);
    },
    async updateConversation(id, patch) {
      await db
        .updateTable('cursor_runner_conversations')
        .set({
          ...(patch.messages !== undefined ? { messages: JSON.stringify(patch.messages) } : {}),
          ...(patch.metadata !== undefined
            ? { metadata: patch.metadata ? JSON.stringify(patch.metadata) : null }
            : {}),
          ...(patch.lastAccessedAt !== undefined ? { last_accessed_at: patch.lastAccessedAt } : {}),
        })
        .where('id', '=', id)
        .execute();
    },
    async getLink(conversationId, workspace) {
      const row = await db
        .selectFrom('cursor_runner_links')
        .select('patchbay_conversation_id')
        .where('conversation_id', '=', conversationId)
        .where('workspace', '=', workspace)
        .executeTakeFirst();
      return row?.patchbay_conversation_id;
    },
    async link(conversationId, workspace, patchbayId) {
      await db
        .insertInto('cursor_runner_links')
        .values({
          conversation_id: conversationId,
          workspace,
          patchbay_conversation_id: patchbayId,
          created_at: new Date().toISOString(),
        })
        .onConflict((oc) => oc.columns(['conversation_id', 'workspace']).doNothing())
        .execute();
      return (await this.getLink(conversationId, workspace))!;
    },
    async listLinks(conversationId) {
      const rows = await db
        .selectFrom('cursor_runner_links')
        .select('patchbay_conversation_id')
        .where('conversation_id', '=', conversationId)
        .orderBy('created_at')
        .execute();
      return rows.map((r) => r.patchbay_conversation_id);
    },
    async conversationOf(patchbayId) {
      const row = await db
        .selectFrom('cursor_runner_links')
        .select('conversation_id')
        .where('patchbay_conversation_id', '=', patchbayId)
        .executeTakeFirst();
      return row?.conversation_id;
    },
    async getLast(queueType) {
      const row = await db
        .selectFrom('cursor_runner_last_conversations')
        .select('conversation_id')
        .where('queue_type', '=', queueType)
        .executeTakeFirst();
      return row?.conversation_id;
    },
    async setLast(queueType, conversationId) {
      await db
        .insertInto('cursor_runner_last_conversations')
        .values({ queue_type: queueType, conversation_id: conversationId })
        .onConflict((oc) =>
          oc.column('queue_type').doUpdateSet({ conversation_id: conversationId }),
        )
        .execute();
    },
    async listTasks(status) {
      let q = db.selectFrom('cursor_runner_tasks').selectAll();
      if (status !== undefined) q = q.where('status', '=', status);
      const rows = await q.orderBy('sort_order').orderBy('id').execute();
      return rows.map(taskFromRow);
    },
    async getTask(id) {
      const row = await db
        .selectFrom('cursor_runner_tasks')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? taskFromRow(row) : undefined;
    },
    async insertTask(task) {
      const at = new Date().toISOString();
      for (let tries = 1; ; tries++) {
        const max = await db
          .selectFrom('cursor_runner_tasks')
          .select((eb) => eb.fn.max('id').as('max'))
          .executeTakeFirst();
        const id = Number(max?.max ?? 0) + 1;
        try {
          await db
            .insertInto('cursor_runner_tasks')
            .values({
              id,
              prompt: task.prompt,
              sort_order: task.order,
              status: task.status,
              uuid: null,
              run_id: null,
              created_at: at,
              updated_at: at,
            })
            .execute();
          return (await this.getTask(id))!;
        } catch (err) {
          if (tries >= INSERT_TRIES) throw err;
        }
      }
    },
    async updateTask(id, patch, expectStatus) {
      let q = db
        .updateTable('cursor_runner_tasks')
        .set({
          ...(patch.prompt !== undefined ? { prompt: patch.prompt } : {}),
          ...(patch.order !== undefined ? { sort_order: patch.order } : {}),
          ...(patch.status !== undefined ? { status: patch.status } : {}),
          ...(patch.runId !== undefined ? { run_id: patch.runId } : {}),
          updated_at: new Date().toISOString(),
        })
        .where('id', '=', id);
      if (expectStatus !== undefined) q = q.where('status', '=', expectStatus);
      const result = await q.executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return undefined;
      return this.getTask(id);
    },
    async deleteTask(id) {
      const result = await db
        .deleteFrom('cursor_runner_tasks')
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}
