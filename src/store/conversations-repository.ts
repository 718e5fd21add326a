import type { Kysely, Selectable, Updateable } from 'kysely';
import type { Conversation, ConversationMessage, RunStatus } from '../contracts/index.js';
import type { ConversationMessagesTable, ConversationsTable, Database } from './schema.js';

export type ConversationPatch = Partial<
  Pick<Conversation, 'workspaceRunId' | 'sessionId' | 'summary'>
>;

export interface NewMessage {
  role: ConversationMessage['role'];
  content: string;
  runId: string | null;
  runStatus: RunStatus | null;
}

export interface ConversationRepository {
  insert(conversation: Conversation): Promise<void>;
  get(id: string): Promise<Conversation | undefined>;
  /** Newest first; `before` is the id the previous page ended with. */
  list(options: { limit: number; before?: string }): Promise<Conversation[]>;
  update(id: string, patch: ConversationPatch): Promise<void>;
  /**
   * Sets the workspace run only if none is set yet; false when another run got there first.
   */
  claimWorkspace(id: string, runId: string): Promise<boolean>;
  /** Appends a message with the next seq (atomic per conversation); returns it. */
  appendMessage(id: string, message: NewMessage): Promise<ConversationMessage>;
  listMessages(id: string): Promise<ConversationMessage[]>;
}

function fromRow(row: Selectable<ConversationsTable>): Conversation {
  return {
    id: row.id,
    agent: row.agent as Conversation['agent'],
    title: row.title,
    model: row.model,
    repoId: row.repo_id,
    ref: row.ref,
    workdir: row.workdir,
    workspaceRunId: row.workspace_run_id,
    sessionId: row.session_id,
    summary: row.summary,
    messageCount: Number(row.message_count),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function messageFromRow(row: Selectable<ConversationMessagesTable>): ConversationMessage {
  return {
    seq: Number(row.seq),
    role: row.role as ConversationMessage['role'],
    content: row.content,
    runId: row.run_id,
    runStatus: row.run_status as RunStatus | null,
    createdAt: row.created_at,
  };
}

export function createConversationRepository(db: Kysely<Database>): ConversationRepository {
  return {
    async insert(c) {
      await db
        .insertInto('conversations')
        .values({
          id: c.id,
          agent: c.agent,
          title: c.title,
          model: c.model,
          repo_id: c.repoId,
          ref: c.ref,
          workdir: c.workdir,
          workspace_run_id: c.workspaceRunId,
          session_id: c.sessionId,
          summary: c.summary,
          message_count: c.messageCount,
          created_at: c.createdAt,
          updated_at: c.updatedAt,
        })
        .execute();
    },
    async get(id) {
      const row = await db
        .selectFrom('conversations')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row ? fromRow(row) : undefined;
    },
    async list({ limit, before }) {
      let q = db.selectFrom('conversations').selectAll().orderBy('id', 'desc').limit(limit);
      if (before) q = q.where('id', '<', before);
      return (await q.execute()).map(fromRow);
    },
    async update(id, patch) {
      const row: Updateable<ConversationsTable> = {
        updated_at: new Date().toISOString(),
      };
      if (patch.workspaceRunId !== undefined) row.workspace_run_id = patch.workspaceRunId;
      if (patch.sessionId !== undefined) row.session_id = patch.sessionId;
      if (patch.summary !== undefined) row.summary = patch.summary;
      await db.updateTable('conversations').set(row).where('id', '=', id).execute();
    },
    async claimWorkspace(id, runId) {
      const result = await db
        .updateTable('conversations')
        .set({ workspace_run_id: runId, updated_at: new Date().toISOString() })
        .where('id', '=', id)
        .where('workspace_run_id', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    appendMessage(id, message) {
      return db.transaction().execute(async (tx) => {
        const createdAt = new Date().toISOString();
        // The counter row is the lock: concurrent appends get consecutive seqs.
        const counted = await tx
          .updateTable('conversations')
          .set((eb) => ({ message_count: eb('message_count', '+', 1), updated_at: createdAt }))
          .where('id', '=', id)
          .returning('message_count')
          .executeTakeFirstOrThrow();
        const row = {
          conversation_id: id,
          seq: Number(counted.message_count),
          role: message.role,
          content: message.content,
          run_id: message.runId,
          run_status: message.runStatus,
          created_at: createdAt,
        };
        await tx.insertInto('conversation_messages').values(row).execute();
        return messageFromRow(row);
      });
    },
    async listMessages(id) {
      const rows = await db
        .selectFrom('conversation_messages')
        .selectAll()
        .where('conversation_id', '=', id)
        .orderBy('seq', 'asc')
        .execute();
      return rows.map(messageFromRow);
    },
  };
}
