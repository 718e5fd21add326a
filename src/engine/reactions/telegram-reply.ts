import type { RunRecord } from '../../store/index.js';
import type { EngineResources } from '../systems/resources.js';
import { TelegramApiError } from '../telegram/bot-api.js';
import { splitMessage } from '../telegram/split.js';
import type { Telegram } from '../telegram/updates.js';
import { ReactionGaveUp, type Reaction } from './types.js';

/** What the chat is told when a run ends: its answer, or why there is none. */
export function answerText(record: RunRecord): string {
  if (record.status === 'succeeded') return record.resultText?.trim() || '(done, with no answer)';
  const why = record.errorCode ? `: ${record.errorCode}: ${record.errorMessage ?? ''}` : '';
  const answer = record.resultText?.trim() ? `\n\n${record.resultText.trim()}` : '';
  return `The run ${record.status}${why}`.trim() + answer;
}

/**
 * Sends a run's answer back to the Telegram chat that asked (`replyTo`), in parts of at most
 * 4,096 characters, the first replying to the message. Each part sent is recorded, so a try
 * after a crash or a failure sends only the rest. Flood control (429 retry_after) is waited
 * out by the client; a refusal that will not change (the bot blocked, the chat gone) gives up.
 */
export function telegramReplyReaction(
  res: Pick<EngineResources, 'store'>,
  telegram: Telegram,
): Reaction {
  const { store } = res;
  return {
    name: 'telegram-reply',
    appliesTo: (record) => record.replyTo?.channel === 'telegram',
    maxAttempts: 6,
    backoffMs: 2000,
    async perform({ record, signal, log }) {
      const target = record.replyTo!;
      let api;
      try {
        api = telegram.api(target.bot);
      } catch {
        throw new ReactionGaveUp(`no Telegram bot ${target.bot} is configured any more`);
      }
      const parts = splitMessage(answerText(record));
      const sent = await store.telegram.sentParts(record.id);
      for (const [i, text] of parts.entries()) {
        if (sent.has(i)) continue;
        // Telegram refuses an empty message; a part of blank lines carries nothing anyway.
        if (text.trim() === '') {
          await store.telegram.recordSent(record.id, i, 'blank');
          continue;
        }
        try {
          const messageId = await api.sendMessage(target.chatId, text, {
            replyTo: i === 0 ? target.messageId : null,
            signal,
          });
          await store.telegram.recordSent(record.id, i, String(messageId));
        } catch (err) {
          if (err instanceof TelegramApiError && err.permanent)
            throw new ReactionGaveUp(err.message);
          throw err;
        }
      }
      log.info({ parts: parts.length, chatId: target.chatId }, 'answer sent to Telegram');
    },
  };
}
