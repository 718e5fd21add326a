import type { Logger } from '../../observability/index.js';

/**
 * A small client of the Telegram Bot API (https://core.telegram.org/bots/api): methods are
 * POSTed as JSON to `<base>/bot<token>/<method>`; every answer is `{ok: true, result}` or
 * `{ok: false, error_code, description, parameters?: {retry_after}}`. A 429 is waited out
 * (`retry_after` seconds) and tried again. The token lives only in the URL, which is never
 * logged or put in an error.
 */

/** Longest flood-control wait honoured in place; a longer one fails the try (retried later). */
const MAX_RETRY_AFTER_S = 60;
const MAX_TRIES = 5;
const TIMEOUT_MS = 15_000;

export class TelegramApiError extends Error {
  override readonly name = 'TelegramApiError';
  constructor(
    readonly method: string,
    /** Telegram's error_code (an HTTP status), 0 when no answer came. */
    readonly errorCode: number,
    description: string,
    readonly retryAfterS?: number,
  ) {
    super(`Telegram ${method}: ${errorCode ? `${errorCode} ` : ''}${description}`);
  }

  /** A refusal that will not change on its own (bad request, blocked, chat gone). */
  get permanent(): boolean {
    return this.errorCode >= 400 && this.errorCode < 500 && this.errorCode !== 429;
  }
}

interface ApiAnswer {
  ok?: boolean;
  result?: unknown;
  error_code?: number;
  description?: string;
  parameters?: { retry_after?: number };
}

export interface BotApi {
  call<T>(method: string, params: Record<string, unknown>, signal?: AbortSignal): Promise<T>;
  /** Sends plain text; returns the new message's id. */
  sendMessage(
    chatId: string,
    text: string,
    options?: { replyTo?: number | null; signal?: AbortSignal },
  ): Promise<number>;
}

function wait(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export function createBotApi(options: { baseUrl: string; token: string; log: Logger }): BotApi {
  const base = `${options.baseUrl.replace(/\/+$/, '')}/bot${options.token}/`;

  async function once(method: string, params: Record<string, unknown>, signal?: AbortSignal) {
    const timeout = AbortSignal.timeout(TIMEOUT_MS);
    let res: Response;
    try {
      res = await fetch(base + method, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(params),
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (err) {
      // fetch's own message only: its cause may quote the URL (and so the token).
      const why = timeout.aborted ? `no answer within ${TIMEOUT_MS} ms` : (err as Error).message;
      throw new TelegramApiError(method, 0, why);
    }
    const answer = (await res.json().catch(() => ({}))) as ApiAnswer;
    if (answer.ok === true) return answer.result;
    throw new TelegramApiError(
      method,
      answer.error_code ?? res.status,
      answer.description ?? `HTTP ${res.status}`,
      answer.parameters?.retry_after,
    );
  }

  async function call<T>(method: string, params: Record<string, unknown>, signal?: AbortSignal) {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await once(method, params, signal)) as T;
      } catch (err) {
        const e = err as TelegramApiError;
        const after = e.retryAfterS;
        if (
          e.errorCode !== 429 ||
          after === undefined ||
          after > MAX_RETRY_AFTER_S ||
          attempt >= MAX_TRIES ||
          signal?.aborted
        ) {
          throw err;
        }
        options.log.info({ method, retryAfterS: after }, 'Telegram flood control: waiting');
        await wait(after * 1000, signal);
      }
    }
  }

  return {
    call,
    async sendMessage(chatId, text, { replyTo, signal } = {}) {
      const message = await call<{ message_id: number }>(
        'sendMessage',
        {
          chat_id: chatId,
          text,
          ...(replyTo
            ? { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } }
            : {}),
        },
        signal,
      );
      return message.message_id;
    },
  };
}
