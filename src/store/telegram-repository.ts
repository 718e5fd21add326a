import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/** What Telegram chats need kept: a chat's conversation, updates seen, answer parts sent. */
export interface TelegramRepository {
  /** The conversation the chat is in (null after `/new`, undefined when never seen). */
  chatConversation(bot: string, chatId: string): Promise<string | null | undefined>;
  setChatConversation(bot: string, chatId: string, conversationId: string | null): Promise<void>;
  /** True for exactly one caller per (bot, update_id): Telegram resends unanswered updates. */
  claimUpdate(bot: string, updateId: string): Promise<boolean>;
  /** Parts of a run's answer already sent, by part index. */
  sentParts(runId: string): Promise<Set<number>>;
  recordSent(runId: string, part: number, messageId: string): Promise<void>;
}

export function createTelegramRepository(db: Kysely<Database>): TelegramRepository {
  return {
    async chatConversation(bot, chatId) {
      const row = await db
        .selectFrom('telegram_chats')
        .select('conversation_id')
        .where('bot', '=', bot)
        .where('chat_id', '=', chatId)
        .executeTakeFirst();
      return row ? row.conversation_id : undefined;
    },
    async setChatConversation(bot, chatId, conversationId) {
      const at = new Date().toISOString();
      await db
        .insertInto('telegram_chats')
        .values({ bot, chat_id: chatId, conversation_id: conversationId, updated_at: at })
        .onConflict((oc) =>
          oc
            .columns(['bot', 'chat_id'])
            .doUpdateSet({ conversation_id: conversationId, updated_at: at }),
        )
        .execute();
    },
    async claimUpdate(bot, updateId) {
      const result = await db
        .insertInto('telegram_updates')
        .values({ bot, update_id: updateId, received_at: new Date().toISOString() })
        .onConflict((oc) => oc.columns(['bot', 'update_id']).doNothing())
        .executeTakeFirst();
      return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
    },
    async sentParts(runId) {
      const rows = await db
        .selectFrom('telegram_sent')
        .select('part')
        .where('run_id', '=', runId)
        .execute();
      return new Set(rows.map((r) => Number(r.part)));
    },
    async recordSent(runId, part, messageId) {
      await db
        .insertInto('telegram_sent')
        .values({ run_id: runId, part, message_id: messageId, sent_at: new Date().toISOString() })
        .onConflict((oc) => oc.columns(['run_id', 'part']).doNothing())
        .execute();
    },
  };
}
