/**
 * A local Telegram Bot API for the tests, written from the published reference
 * (https://core.telegram.org/bots/api#making-requests): methods are POSTed to
 * `/bot<token>/<method>` with a JSON body; every answer is `{ok: true, result}` or
 * `{ok: false, error_code, description, parameters?: {retry_after}}`. It knows getMe and
 * sendMessage (text of 1–4096 characters), refuses a wrong token (401) and unknown methods
 * (404), and answers scripted errors (e.g. a 429 with retry_after) to the next calls.
 */
import { createServer, type Server } from 'node:http';

export interface SentMessage {
  chatId: string;
  text: string;
  replyTo: number | null;
  messageId: number;
  at: number;
}

export interface ApiError {
  error_code: number;
  description: string;
  parameters?: { retry_after?: number };
}

export async function startFakeTelegram(token: string) {
  const sent: SentMessage[] = [];
  /** Every call, answered or refused, with when it came. */
  const calls: { method: string; at: number; status: number }[] = [];
  /** Answers for the next sendMessage calls, in order: an error, or null for the normal answer. */
  const failNext: (ApiError | null)[] = [];
  let nextId = 100;

  const server: Server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8').on('data', (c: string) => (raw += c));
    req.on('end', () => {
      const answer = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      };
      const match = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? '');
      const method = match?.[2] ?? '?';
      const refuse = (e: ApiError) => {
        calls.push({ method, at: Date.now(), status: e.error_code });
        answer(e.error_code, { ok: false, ...e });
      };
      if (!match || req.method !== 'POST')
        return refuse({ error_code: 404, description: 'Not Found' });
      if (match[1] !== token) return refuse({ error_code: 401, description: 'Unauthorized' });
      let params: Record<string, unknown>;
      try {
        params = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      } catch {
        return refuse({ error_code: 400, description: "Bad Request: can't parse JSON" });
      }
      const scripted = method === 'sendMessage' ? failNext.shift() : undefined;
      if (scripted) return refuse(scripted);
      const bot = {
        id: 424242,
        is_bot: true,
        first_name: 'Patchbay',
        username: 'patchbay_test_bot',
      };
      if (method === 'getMe') {
        calls.push({ method, at: Date.now(), status: 200 });
        return answer(200, { ok: true, result: bot });
      }
      if (method !== 'sendMessage') return refuse({ error_code: 404, description: 'Not Found' });
      const text = typeof params.text === 'string' ? params.text : '';
      if (text.trim() === '')
        return refuse({ error_code: 400, description: 'Bad Request: message text is empty' });
      if (text.length > 4096)
        return refuse({ error_code: 400, description: 'Bad Request: message is too long' });
      const chatId = String(params.chat_id);
      const reply = params.reply_parameters as { message_id?: number } | undefined;
      const message: SentMessage = {
        chatId,
        text,
        replyTo: reply?.message_id ?? null,
        messageId: nextId++,
        at: Date.now(),
      };
      sent.push(message);
      calls.push({ method, at: message.at, status: 200 });
      answer(200, {
        ok: true,
        result: {
          message_id: message.messageId,
          from: bot,
          chat: { id: Number(chatId), type: 'private' },
          date: Math.floor(message.at / 1000),
          text,
        },
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    sent,
    calls,
    failNext,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
