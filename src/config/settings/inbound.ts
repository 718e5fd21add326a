/**
 * What starts runs from outside: generic triggers (Standard Webhooks signed POSTs) and
 * Telegram bots.
 */
import { z } from 'zod';
import { ConversationAgent } from '../../contracts/index.js';
import { durationMs, setting } from './spec.js';

/** One Telegram bot: what `POST /v1/webhooks/telegram/<name>` answers for. */
export const TelegramBot = z
  .object({
    token: z
      .string()
      .regex(/^\d+:[A-Za-z0-9_-]+$/, 'a Bot API token from @BotFather, `<digits>:<letters>`'),
    webhookSecret: z
      .string()
      .regex(
        /^[A-Za-z0-9_-]{16,256}$/,
        '16 to 256 of A-Z, a-z, 0-9, _ and - (Telegram’s secret_token)',
      ),
    allowedChatIds: z
      .array(z.union([z.number().int(), z.string().regex(/^-?\d+$/)]).transform(String))
      .min(1, 'at least one chat id: messages from other chats are refused'),
    repo: z.string().min(1).max(100).optional(),
    agent: ConversationAgent.default('claude'),
    model: z.string().min(1).max(200).optional(),
  })
  .strict();
export type TelegramBot = z.output<typeof TelegramBot>;

/** A bot's name is the last segment of its webhook path. */
const BOT_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export const inboundSettings = {
  triggerToleranceMs: setting({
    key: 'triggerToleranceMs',
    env: 'PATCHBAY_TRIGGER_TOLERANCE_MS',
    schema: durationMs.default(300_000),
    defaultText: '300000',
    description:
      "Replay window of trigger deliveries: a `webhook-timestamp` further than this from the server's clock (either way) is refused with TRIGGER_TIMESTAMP_EXPIRED.",
  }),
  telegramBots: setting({
    key: 'telegramBots',
    env: 'PATCHBAY_TELEGRAM_BOTS',
    schema: z
      .preprocess(
        (v) => {
          if (typeof v !== 'string') return v;
          try {
            return JSON.parse(v) as unknown;
          } catch {
            return v; // refused below as "expected object"
          }
        },
        z.record(z.string(), TelegramBot).superRefine((bots, ctx) => {
          for (const name of Object.keys(bots)) {
            if (!BOT_NAME.test(name)) {
              ctx.addIssue({
                code: 'custom',
                message: `"${name}": bot names are 1 to 64 of A-Z, a-z, 0-9, _ and -`,
              });
            }
          }
        }),
      )
      .default({}),
    defaultText: '{} (no bot)',
    description:
      'Telegram bots, as JSON keyed by bot name: `{"<name>": {"token", "webhookSecret", "allowedChatIds": [..], "repo"?, "agent"?, "model"?}}`. Each answers at `POST /v1/webhooks/telegram/<name>`; see docs/telegram.md.',
    secret: true,
    secretsOf: (value) =>
      Object.values(value as Record<string, TelegramBot>).flatMap((b) => [
        b.token,
        b.webhookSecret,
      ]),
  }),
  telegramApiUrl: setting({
    key: 'telegramApiUrl',
    env: 'PATCHBAY_TELEGRAM_API_URL',
    schema: z.string().url().default('https://api.telegram.org'),
    defaultText: 'https://api.telegram.org',
    description: 'Base URL of the Telegram Bot API (a local Bot API server, or a fake in tests).',
  }),
};
