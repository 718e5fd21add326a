/**
 * The inbox's LLM pass against SQLite and PostgreSQL, through the real LLM client to the
 * scripted OpenAI server (its wire format): summaries and labels stored apart from the
 * source's labels, the ranking identical with and without them, a bad answer dropped with
 * INBOX_LLM_BAD_OUTPUT, a 401 ending the pass without touching tasks, every call in the
 * llm_calls ledger, and the failed tasks asked again by the next pass.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeDialects } from '../../test/helpers/services.js';
import { chatErrors, chatStream } from '../../test/fixtures/llm-servers/openai.js';
import {
  startScriptedServer,
  type ScriptedServer,
} from '../../test/fixtures/llm-servers/server.js';
import { loadConfig } from '../config/index.js';
import { createLlmClient } from '../llm/index.js';
import { createLogger } from '../observability/index.js';
import { openStore, type Store } from '../store/index.js';
import type { SourceItem } from './connectors/types.js';
import { createInbox, LLM_PASS_PURPOSE, type Inbox } from './index.js';
import { basisOf, parseAnswer } from './llm-pass.js';

const NOW = new Date('2026-12-07T12:00:00.000Z');
const at = (hours: number): string => new Date(NOW.getTime() + hours * 3_600_000).toISOString();

function item(ref: string, fields: Partial<SourceItem> = {}): SourceItem {
  return {
    kind: 'jira',
    ref,
    title: `item ${ref}`,
    snippet: '',
    people: [],
    labels: ['source-label'],
    identifiers: { issueKey: ref },
    mentions: [],
    createdAt: at(-48),
    updatedAt: at(-1),
    ...fields,
  };
}

const ITEMS: SourceItem[] = [
  item('PAY-1', {
    title: 'Checkout fails for EUR cards',
    snippet: 'Customers in Germany cannot pay',
    priority: 'highest',
    dueAt: at(20),
    updatedAt: at(-1),
  }),
  item('PAY-2', {
    title: 'Refund webhook retries forever',
    snippet: 'The retry loop never stops',
    priority: 'medium',
    updatedAt: at(-2),
  }),
  item('OPS-3', {
    title: 'Rotate the staging database password',
    snippet: 'Quarterly rotation',
    priority: 'low',
    dueAt: at(24 * 20),
    updatedAt: at(-3),
  }),
];

const answer = (summary: string, labels: string[]) =>
  chatStream({
    model: 'gpt-5-mini',
    text: JSON.stringify({ summary, labels }),
    usage: { prompt: 120, completion: 30 },
  });

/** What the ranking is: each lane's tasks in order, with their scores. */
async function ranking(inbox: Inbox) {
  const lanes: Record<string, Array<[string, number, string]>> = {};
  for (const lane of ['today', 'week', 'month'] as const) {
    lanes[lane] = (await inbox.list({ horizon: lane, limit: 50 })).map((t) => [
      t.sourceRef,
      t.score,
      t.horizon,
    ]);
  }
  return lanes;
}

describe.each(storeDialects)('inbox LLM pass ($name)', (dialect) => {
  let store: Store;
  let llmServer: ScriptedServer;
  let cleanup: (() => Promise<void>) | undefined;
  let skip = false;
  let withPass: Inbox;
  let withoutPass: Inbox;
  const logged: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    const opened = await dialect.open();
    if (!opened) {
      skip = true;
      return;
    }
    cleanup = opened.cleanup;
    store = await openStore({ databaseUrl: opened.url });
    llmServer = await startScriptedServer('/v1');
    const config = loadConfig({
      env: {
        PATCHBAY_OPENAI_API_KEY: 'sk-inbox-llm-test',
        PATCHBAY_OPENAI_BASE_URL: llmServer.baseUrl,
        PATCHBAY_LLM_MAX_RETRIES: '0',
      },
      cwd: process.cwd(),
    });
    const log = createLogger({
      format: 'json',
      level: 'debug',
      destination: new Writable({
        write(chunk: Buffer, _enc, done) {
          logged.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
          done();
        },
      }),
    });
    const llm = createLlmClient({ config, ledger: store.llmCalls, log });
    withPass = createInbox({ store, log, now: () => NOW, llm: { llm, maxPerSync: 20 } });
    withoutPass = createInbox({ store, log, now: () => NOW });
  });
  afterAll(async () => {
    await llmServer?.close();
    await store?.close();
    await cleanup?.();
  });

  it('summarises and labels, apart from the source, and never changes the ranking', async ({
    skip: s,
  }) => {
    if (skip) return s();
    await withoutPass.applySync('jira', {
      items: ITEMS,
      removedRefs: [],
      cursor: 'c',
      more: false,
    });
    const off = await ranking(withoutPass);
    expect(Object.values(off).flat()).toHaveLength(3);

    // Answered in the order asked: most recently changed first (PAY-1, PAY-2, OPS-3). The
    // second answer is fenced and has a duplicate label (tolerated, de-duplicated).
    llmServer.enqueue(
      answer('EUR card payments fail at checkout for German customers.', ['payments', 'bug']),
      chatStream({
        model: 'gpt-5-mini',
        text: '```json\n{"summary": "Stop the endless refund webhook retries.", "labels": ["Webhooks", "webhooks"]}\n```',
        usage: { prompt: 120, completion: 30 },
      }),
      answer('Rotate the staging database password (quarterly).', ['ops']),
    );
    const report = await withPass.llmPass!.run();
    expect(report).toEqual({ asked: 3, stored: 3, dropped: 0, failed: null });
    const asked = llmServer.requests.map((r) => JSON.stringify(r.body));
    expect(asked[0]).toContain('Checkout fails for EUR cards');
    expect(asked[2]).toContain('Rotate the staging database password');

    const tasks = await withPass.list({ limit: 50 });
    const byRef = new Map(tasks.map((t) => [t.sourceRef, t]));
    expect(byRef.get('PAY-1')).toMatchObject({
      aiSummary: 'EUR card payments fail at checkout for German customers.',
      aiLabels: ['payments', 'bug'],
      aiModel: 'openai:gpt-5-mini',
      labels: ['source-label'],
    });
    expect(byRef.get('PAY-2')?.aiLabels).toEqual(['webhooks']);
    const detail = await withPass.get(byRef.get('OPS-3')!.id);
    expect(detail).toMatchObject({
      aiSummary: expect.stringContaining('Rotate'),
      aiLabels: ['ops'],
    });

    // Rescored with the suggestions stored: the same order, scores and horizons as without.
    await withPass.rescore();
    expect(await ranking(withPass)).toEqual(off);
    await withoutPass.rescore();
    expect(await ranking(withoutPass)).toEqual(off);

    // A sync that changes nothing the model read keeps the suggestions (no call); a sync of a
    // changed item keeps the old suggestion until the next pass, then asks again.
    await withPass.applySync('jira', { items: ITEMS, removedRefs: [], cursor: 'c', more: false });
    expect(await withPass.llmPass!.run()).toMatchObject({ asked: 0 });
    expect(llmServer.requests).toHaveLength(3);

    const ledger = await store.llmCalls.list({ limit: 50 });
    const ours = ledger.filter((c) => c.purpose === LLM_PASS_PURPOSE);
    expect(ours).toHaveLength(3);
    expect(ours.every((c) => c.outcome === 'succeeded' && c.inputTokens === 120)).toBe(true);
  });

  it('drops a bad answer with a code, stops at a 401, and asks again next time', async ({
    skip: s,
  }) => {
    if (skip) return s();
    llmServer.reset();
    const changed = ITEMS.map((i) => ({
      ...i,
      snippet: `${i.snippet} (updated)`,
      updatedAt: at(0),
    }));
    await withPass.applySync('jira', { items: changed, removedRefs: [], cursor: 'c', more: false });
    const before = await withPass.list({ limit: 50 });
    // Changed text: the old suggestions stay until a new one is stored.
    expect(before.every((t) => t.aiSummary !== null)).toBe(true);

    llmServer.enqueue(
      chatStream({
        model: 'gpt-5-mini',
        text: 'Sure! This task is about payments.',
        usage: { prompt: 100, completion: 10 },
      }),
      answer('x'.repeat(201), ['too-long']),
      chatErrors.auth('sk-inbox-llm-test'),
    );
    const report = await withPass.llmPass!.run();
    expect(report).toEqual({ asked: 3, stored: 0, dropped: 2, failed: 'LLM_AUTH_FAILED' });
    const dropped = logged.filter((l) => l.code === 'INBOX_LLM_BAD_OUTPUT');
    expect(dropped.length).toBeGreaterThanOrEqual(2);
    expect(String(dropped.at(-1)!.reason)).toContain('summary');
    expect(logged.some((l) => l.code === 'LLM_AUTH_FAILED')).toBe(true);
    // Nothing changed on the tasks: same suggestions, same ranking.
    expect(await withPass.list({ limit: 50 })).toEqual(before);

    // Every call is in the ledger, the refused one too.
    const calls = (await store.llmCalls.list({ limit: 50 })).filter(
      (c) => c.purpose === LLM_PASS_PURPOSE,
    );
    expect(calls).toHaveLength(6);
    expect(calls.some((c) => c.outcome === 'LLM_AUTH_FAILED')).toBe(true);

    // The next pass asks about all three again and stores what the model now answers.
    llmServer.enqueue(
      answer('EUR checkout still failing, see update.', ['payments']),
      answer('Refund retries: fix the loop.', []),
      answer('Rotate the staging password.', ['ops', 'security']),
    );
    expect(await withPass.llmPass!.run()).toEqual({
      asked: 3,
      stored: 3,
      dropped: 0,
      failed: null,
    });
    const after = await store.tasks.list();
    expect(after.every((t) => t.ai?.basis === basisOf(t))).toBe(true);
    expect(after.find((t) => t.sourceRef === 'PAY-2')?.ai?.labels).toEqual([]);
  });
});

describe('parseAnswer', () => {
  it('takes the JSON asked for and refuses anything else with a reason', () => {
    expect(parseAnswer('{"summary":"Do it.","labels":["A"]}')).toEqual({
      ok: true,
      value: { summary: 'Do it.', labels: ['a'] },
    });
    expect(parseAnswer('{"summary":"x","labels":["a","b","c","d"]}')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('labels'),
    });
    expect(parseAnswer('{"summary":"","labels":[]}')).toMatchObject({ ok: false });
    expect(parseAnswer('{"summary":"x","labels":[],"score":9}')).toMatchObject({ ok: false });
    expect(parseAnswer('nope')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('JSON'),
    });
  });
});
