import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { TelegramBot } from '../../config/index.js';
import {
  isPatchbayError,
  PatchbayError,
  type Conversation,
  type CreateConversationRequest,
  type ParsedCreateRunRequest,
  type Run,
} from '../../contracts/index.js';
import type { Logger } from '../../observability/index.js';
import type { Store } from '../../store/index.js';
import { createKeyedLock } from '../keyed-lock.js';
import type { RunOrigin } from '../schedules.js';
import { createBotApi, type BotApi } from './bot-api.js';

/** The part of a Telegram Update read here (https://core.telegram.org/bots/api#update). */
const Update = z.object({
  update_id: z.number().int(),
  message: z
    .object({
      message_id: z.number().int(),
      chat: z.object({ id: z.number().int() }),
      text: z.string().optional(),
    })
    .optional(),
});

export interface TelegramOptions {
  store: Store;
  log: Logger;
  bots: Record<string, TelegramBot>;
  apiUrl: string;
  createRun(request: ParsedCreateRunRequest, origin: RunOrigin): Promise<Run>;
  createConversation(request: CreateConversationRequest): Promise<Conversation>;
}

/** What one update did (for the log and the tests; Telegram itself only needs a 200). */
export type UpdateOutcome =
  | { action: 'ignored'; reason: string }
  | { action: 'refused'; chatId: string }
  | { action: 'new' }
  | { action: 'help' }
  | { action: 'run'; runId: string; conversationId: string }
  | { action: 'failed'; code: string };

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

const HELP =
  'Send a message and I will work on it; follow-ups continue the same conversation. /new starts a new one (`/new <text>` starts it with that text).';

/**
 * Telegram updates for the configured bots: only allow-listed chats; a message starts or
 * continues the chat's conversation (agent and repository from the bot's settings) with a run
 * whose answer is sent back by the `telegram-reply` reaction. `/new` starts a new one.
 */
export function createTelegram(options: TelegramOptions) {
  const { store } = options;
  const log = options.log.child({ component: 'telegram' });
  const apis = new Map<string, BotApi>();
  const withChatLock = createKeyedLock();

  /** @throws PatchbayError TELEGRAM_BOT_NOT_FOUND */
  function bot(name: string): TelegramBot {
    const b = Object.hasOwn(options.bots, name) ? options.bots[name] : undefined;
    if (!b) throw new PatchbayError('TELEGRAM_BOT_NOT_FOUND', `no Telegram bot ${name}`);
    return b;
  }

  function api(name: string): BotApi {
    let a = apis.get(name);
    if (!a) {
      a = createBotApi({ baseUrl: options.apiUrl, token: bot(name).token, log });
      apis.set(name, a);
    }
    return a;
  }

  /** A short notice to a chat, not waited for: the update is answered first. */
  function notify(name: string, chatId: string, text: string, replyTo?: number): void {
    void api(name)
      .sendMessage(chatId, text, { replyTo: replyTo ?? null })
      .catch((err: unknown) =>
        log.warn({ bot: name, chatId, err: (err as Error).message }, 'could not notify a chat'),
      );
  }

  async function startRun(name: string, chatId: string, messageId: number, prompt: string) {
    const b = bot(name);
    let conversationId = await store.telegram.chatConversation(name, chatId);
    if (conversationId && !(await store.conversations.get(conversationId))) conversationId = null;
    if (!conversationId) {
      const c = await options.createConversation({
        agent: b.agent,
        title: `Telegram ${name} ${chatId}: ${prompt.slice(0, 80)}`,
        ...(b.model ? { model: b.model } : {}),
        ...(b.repo ? { repo: b.repo } : {}),
      });
      conversationId = c.id;
      await store.telegram.setChatConversation(name, chatId, conversationId);
    }
    const run = await options.createRun(
      { prompt, conversationId },
      { replyTo: { channel: 'telegram', bot: name, chatId, messageId } },
    );
    return { runId: run.id, conversationId };
  }

  return {
    bot,
    api,
    /**
     * Checks `X-Telegram-Bot-Api-Secret-Token` against the bot's webhookSecret in constant
     * time (both hashed first, so lengths match).
     * @throws PatchbayError TELEGRAM_BOT_NOT_FOUND, TELEGRAM_SECRET_INVALID
     */
    assertSecret(name: string, given: string | string[] | undefined): void {
      const expected = bot(name).webhookSecret;
      const value = Array.isArray(given) ? given[0] : given;
      const ok = value !== undefined && timingSafeEqual(digest(value), digest(expected));
      if (!ok) throw new PatchbayError('TELEGRAM_SECRET_INVALID');
    },
    async handleUpdate(name: string, body: unknown): Promise<UpdateOutcome> {
      const b = bot(name);
      const parsed = Update.safeParse(body);
      if (!parsed.success) return { action: 'ignored', reason: 'not an update' };
      const message = parsed.data.message;
      if (!message?.text) return { action: 'ignored', reason: 'not a text message' };
      if (!(await store.telegram.claimUpdate(name, String(parsed.data.update_id)))) {
        return { action: 'ignored', reason: 'already handled' };
      }
      const chatId = String(message.chat.id);
      const rlog = log.child({ bot: name, chatId, updateId: parsed.data.update_id });
      if (!b.allowedChatIds.includes(chatId)) {
        rlog.warn('message from a chat not on the allow-list: refused');
        notify(
          name,
          chatId,
          `This chat (id ${chatId}) may not use this bot. Its operator can add the id to allowedChatIds.`,
        );
        return { action: 'refused', chatId };
      }
      const text = message.text.trim();
      const command = /^\/([a-z_]+)(?:@\w+)?(?:\s+([\s\S]*))?$/i.exec(text);
      let prompt = text;
      if (command) {
        const [, word, rest] = command;
        const verb = word!.toLowerCase();
        if (verb === 'start' || verb === 'help') {
          notify(name, chatId, HELP);
          return { action: 'help' };
        }
        if (verb === 'new') {
          await store.telegram.setChatConversation(name, chatId, null);
          if (!rest?.trim()) {
            notify(name, chatId, 'New conversation: your next message starts it.');
            return { action: 'new' };
          }
          prompt = rest.trim();
        }
      }
      try {
        // One chat's messages one at a time: two first messages must not make two conversations.
        const started = await withChatLock(`${name}\u0000${chatId}`, () =>
          startRun(name, chatId, message.message_id, prompt),
        );
        rlog.info(started, 'telegram message started a run');
        return { action: 'run', ...started };
      } catch (err) {
        if (!isPatchbayError(err)) throw err;
        rlog.warn({ code: err.code }, 'telegram message refused');
        notify(name, chatId, `Not started: ${err.code}: ${err.message}`, message.message_id);
        return { action: 'failed', code: err.code };
      }
    },
  };
}

export type Telegram = ReturnType<typeof createTelegram>;
