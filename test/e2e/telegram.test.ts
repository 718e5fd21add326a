/**
 * Telegram end to end: a real `patchbay serve` (with API tokens, which the webhook does not
 * use), a local fake Bot API (fake-telegram.ts, from Telegram's published reference) and a
 * Claude stand-in that echoes its prompt and session. Updates are POSTed as Telegram posts
 * them: JSON with the secret token header.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeTelegram } from './fake-telegram.js';
import {
  cleanupAll,
  gitIn,
  ROOT,
  sleep,
  startServer,
  tempDir,
  waitFor,
  type Json,
  type ServerHandle,
} from './helpers.js';

const TOKEN = 'e2e-telegram-api-token';
const BOT_TOKEN = '123456789:AAE-fake_bot_token_for_tests';
const SECRET = 'telegram-secret-token_0123456789';
const CHAT = 4242;
const OTHER_CHAT = 9999;

let server: ServerHandle;
let telegram: Awaited<ReturnType<typeof startFakeTelegram>>;
let updateId = 1000;
let messageId = 1;
let repoId: string;

beforeAll(async () => {
  telegram = await startFakeTelegram(BOT_TOKEN);
  // The bot works in a registered repository: register it first, then start with the bot.
  const dataDir = tempDir();
  const repoPath = join(dataDir, 'workspaces', 'app');
  mkdirSync(repoPath, { recursive: true });
  writeFileSync(join(repoPath, 'README.md'), '# app\n');
  gitIn(repoPath, 'init', '-q', '-b', 'main');
  gitIn(repoPath, 'add', '.');
  gitIn(repoPath, 'commit', '-q', '-m', 'initial');
  const first = await startServer({ dataDir });
  const repo = await first.api.request('POST', '/v1/repos', { path: repoPath });
  expect(repo.status, repo.text).toBe(201);
  repoId = repo.body.id;
  await first.stop();
  server = await startServer({
    dataDir,
    token: TOKEN,
    env: {
      PATCHBAY_API_TOKENS: TOKEN,
      PATCHBAY_LOG_LEVEL: 'debug',
      PATCHBAY_AGENT_CLAUDE_BIN: join(ROOT, 'test/fixtures/telegram/echo-claude.mjs'),
      PATCHBAY_TELEGRAM_API_URL: telegram.url,
      PATCHBAY_TELEGRAM_BOTS: JSON.stringify({
        main: {
          token: BOT_TOKEN,
          webhookSecret: SECRET,
          allowedChatIds: [CHAT],
          agent: 'claude',
          repo: repoId,
        },
      }),
    },
  });
});
afterAll(async () => {
  await cleanupAll();
  await telegram.close();
});

/** POSTs an Update the way Telegram does (no bearer token). */
async function post(update: Json, options: { secret?: string | null; bot?: string } = {}) {
  const secret = options.secret === undefined ? SECRET : options.secret;
  const res = await fetch(`${server.url}/v1/webhooks/telegram/${options.bot ?? 'main'}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(secret === null ? {} : { 'x-telegram-bot-api-secret-token': secret }),
    },
    body: JSON.stringify(update),
  });
  return { status: res.status, body: (await res.json()) as Json };
}

function textUpdate(text: string, chat = CHAT) {
  const id = messageId++;
  return {
    messageId: id,
    update: {
      update_id: updateId++,
      message: {
        message_id: id,
        from: { id: chat, is_bot: false, first_name: 'Ada' },
        chat: { id: chat, type: 'private', first_name: 'Ada' },
        date: Math.floor(Date.now() / 1000),
        text,
      },
    },
  };
}

/** Sends a message and waits for the answer(s) replying to it. */
async function ask(text: string) {
  const { update, messageId: asked } = textUpdate(text);
  const res = await post(update);
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ ok: true, action: 'run' });
  const first = await waitFor(
    () => telegram.sent.find((m) => m.replyTo === asked),
    `the answer to "${text}"`,
    30_000,
  );
  return { asked, first };
}

async function latestRun(): Promise<Json> {
  const res = await server.api.request('GET', '/v1/runs?limit=1');
  return res.body.runs[0];
}

describe('Telegram', () => {
  it('refuses a wrong or missing secret token and an unknown bot', async () => {
    const { update } = textUpdate('hello');
    const wrong = await post(update, { secret: 'not-the-secret-token-at-all' });
    expect([wrong.status, wrong.body.error.code]).toEqual([401, 'TELEGRAM_SECRET_INVALID']);
    const missing = await post(update, { secret: null });
    expect([missing.status, missing.body.error.code]).toEqual([401, 'TELEGRAM_SECRET_INVALID']);
    const unknown = await post(update, { bot: 'other' });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'TELEGRAM_BOT_NOT_FOUND']);
  });

  it('refuses a chat not on the allow-list: a notice, no run', async () => {
    const before = await latestRun();
    const { update } = textUpdate('let me in', OTHER_CHAT);
    const res = await post(update);
    expect(res.body).toEqual({ ok: true, action: 'refused' });
    const notice = await waitFor(
      () => telegram.sent.find((m) => m.chatId === String(OTHER_CHAT)),
      'the refusal notice',
    );
    expect(notice.text).toContain(`id ${OTHER_CHAT}`);
    expect((await latestRun())?.id).toBe(before?.id);
  });

  it('starts a conversation, continues it, answers each message, and /new starts another', async () => {
    const one = await ask('hello');
    expect(one.first.chatId).toBe(String(CHAT));
    expect(one.first.text).toMatch(/^echo: hello \[session [0-9a-f-]+, resumed no\]$/);
    const run1 = await latestRun();
    expect(run1.conversationId).toMatch(/^conv_/);
    expect(run1.repoId).toBe(repoId);
    expect(run1.branch).toMatch(/^patchbay\//);
    const session = /session ([0-9a-f-]+)/.exec(one.first.text)![1];

    const two = await ask('and again');
    expect(two.first.text).toBe(`echo: and again [session ${session}, resumed ${session}]`);
    const run2 = await latestRun();
    expect(run2.conversationId).toBe(run1.conversationId);
    expect(run2.workdir).toBe(run1.workdir);

    // A redelivered update (same update_id) starts nothing.
    const { update } = textUpdate('once');
    expect((await post(update)).body.action).toBe('run');
    expect((await post(update)).body).toEqual({ ok: true, action: 'ignored' });
    await waitFor(() => telegram.sent.some((m) => m.text.startsWith('echo: once')), 'answer');

    const reset = await post(textUpdate('/new').update);
    expect(reset.body.action).toBe('new');
    const three = await ask('fresh start');
    expect(three.first.text).toMatch(/^echo: fresh start \[session [0-9a-f-]+, resumed no\]$/);
    const run3 = await latestRun();
    expect(run3.conversationId).not.toBe(run1.conversationId);

    const conversation = await server.api.request(
      'GET',
      `/v1/conversations/${run1.conversationId}`,
    );
    expect(conversation.body.messages.map((m: Json) => m.role)).toEqual([
      'user',
      'assistant',
      'user',
      'assistant',
      'user',
      'assistant',
    ]);
  });

  it('puts first messages sent at once into one conversation', async () => {
    expect((await post(textUpdate('/new').update)).body.action).toBe('new');
    const burst = Array.from({ length: 6 }, (_, i) => textUpdate(`one of six, ${i}`));
    const answers = await Promise.all(burst.map((m) => post(m.update)));
    expect(answers.map((r) => r.body.action)).toEqual(Array(6).fill('run'));
    await waitFor(
      () => burst.every((m) => telegram.sent.some((s) => s.replyTo === m.messageId)),
      'six answers',
      60_000,
    );
    const runs = (await server.api.request('GET', '/v1/runs?limit=6')).body.runs as Json[];
    expect(new Set(runs.map((r) => r.conversationId)).size).toBe(1);
  });

  it('splits an answer over 4,096 characters into several messages, losing nothing', async () => {
    const { asked, first } = await ask('long 9000');
    const parts = await waitFor(() => {
      const mine = telegram.sent.filter(
        (m) => m.messageId >= first.messageId && m.chatId === String(CHAT),
      );
      return mine.length >= 3 ? mine.slice(0, 3) : null;
    }, 'three parts');
    expect(parts[0]!.replyTo).toBe(asked);
    for (const p of parts) expect(p.text.length).toBeLessThanOrEqual(4096);
    for (const p of parts.slice(0, -1)) expect(p.text.endsWith('\n')).toBe(true);
    const run = await latestRun();
    expect(run.resultText.length).toBe(9000);
    expect(parts.map((p) => p.text).join('')).toBe(run.resultText);
  });

  it('waits out flood control (429 retry_after) and then answers', async () => {
    telegram.failNext.push({
      error_code: 429,
      description: 'Too Many Requests: retry after 2',
      parameters: { retry_after: 2 },
    });
    const { first } = await ask('after a flood');
    const refused = telegram.calls.find((c) => c.status === 429)!;
    expect(first.text).toMatch(/^echo: after a flood/);
    expect(first.at - refused.at).toBeGreaterThanOrEqual(1900);
    const reactions = await server.api.request(
      'GET',
      `/v1/runs/${(await latestRun()).id}/reactions`,
    );
    expect(reactions.body.reactions).toMatchObject([
      { name: 'telegram-reply', status: 'succeeded' },
    ]);
  });

  it('retries a reply cut short by a 5xx, sending only the parts still missing', async () => {
    // The first part goes through, the second meets a server error: the reaction fails this
    // try and the next one (after its backoff) sends parts 2 and 3, not part 1 again.
    telegram.failNext.push(null, { error_code: 502, description: 'Bad Gateway' });
    const { asked, first } = await ask('long 9000');
    const parts = await waitFor(
      () => {
        const mine = telegram.sent.filter((m) => m.messageId >= first.messageId);
        return mine.length >= 3 ? mine : null;
      },
      'the rest of the answer after a retry',
      30_000,
    );
    await sleep(500); // a duplicate part would come right after
    const again = telegram.sent.filter((m) => m.messageId >= first.messageId);
    expect(again).toHaveLength(3);
    expect(parts[0]!.replyTo).toBe(asked);
    const run = await latestRun();
    expect(again.map((p) => p.text).join('')).toBe(run.resultText);
    const reactions = await server.api.request('GET', `/v1/runs/${run.id}/reactions`);
    expect(reactions.body.reactions[0]).toMatchObject({
      name: 'telegram-reply',
      status: 'succeeded',
    });
    expect(reactions.body.reactions[0].attempts.length).toBeGreaterThanOrEqual(2);
  });

  it('never writes the bot token to its output', () => {
    expect(server.stdout() + server.stderr()).not.toContain(BOT_TOKEN.split(':')[1]);
    expect(server.stderr()).toContain('telegram');
  });
});
