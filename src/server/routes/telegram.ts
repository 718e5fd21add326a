import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ErrorBody } from '../../contracts/index.js';
import type { ServerDeps } from '../deps.js';

/** Telegram updates: authenticated by the bot's secret token, not a bearer token (app.ts). */
export const TELEGRAM_WEBHOOK_PATH = /^\/v1\/webhooks\/telegram\/[^/?#]+(?:[?#]|$)/;

const BotParams = z.object({ bot: z.string().min(1).max(64) });

export function telegramRoutes(deps: ServerDeps): FastifyPluginAsyncZod {
  const { telegram } = deps.engine;
  return async (app) => {
    app.post(
      '/v1/webhooks/telegram/:bot',
      {
        schema: {
          tags: ['webhooks'],
          summary: "A Telegram bot's webhook (setWebhook with secret_token; no bearer token)",
          description:
            'Checks `X-Telegram-Bot-Api-Secret-Token` against the bot’s `webhookSecret` (PATCHBAY_TELEGRAM_BOTS). Text messages from allow-listed chats start or continue a conversation; the answer is sent back with sendMessage. Every update Telegram sends is answered 200 quickly, also those ignored, so that Telegram does not resend it.',
          params: BotParams,
          security: [],
          response: {
            200: z.object({ ok: z.literal(true), action: z.string() }),
            401: ErrorBody,
            404: ErrorBody,
          },
        },
      },
      async (request) => {
        const { bot } = request.params;
        telegram.assertSecret(bot, request.headers['x-telegram-bot-api-secret-token']);
        const outcome = await telegram.handleUpdate(bot, request.body);
        return { ok: true as const, action: outcome.action };
      },
    );
  };
}
