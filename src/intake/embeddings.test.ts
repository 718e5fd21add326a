// Embeddings against a local server speaking OpenAI's and Google's wire formats (the fake is
// checked against the AI SDK's own OpenAI and Google clients), their errors and 429s, and the
// fallback to the offline method with a logged, coded reason.
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { createOpenAI } from '@ai-sdk/openai';
import { embedMany } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startFakeEmbeddings,
  type FakeEmbeddings,
} from '../../test/fixtures/inbox/fake-embeddings.js';
import { dedupeAndRank, silentLogger, syncCorpus } from '../../test/fixtures/inbox/quality.js';
import {
  createEmbeddingsSimilarity,
  EmbeddingsError,
  retryAfterMs,
  withOfflineFallback,
} from './embeddings.js';
import { compareTexts, createLexicalSimilarity, normaliseText } from './similarity.js';

let fake: FakeEmbeddings;
beforeAll(async () => {
  fake = await startFakeEmbeddings();
});
afterAll(() => fake.close());

const TEXTS = [
  'Checkout hangs on 3DS redirect timeout',
  'Customers report checkout hanging on 3DS',
  'Bump pino from 9.3.2 to 9.5.0',
];

describe('the fake speaks the real wire formats (checked with the AI SDK clients)', () => {
  it('OpenAI /v1/embeddings: the SDK parses its vectors and its errors', async () => {
    const openai = createOpenAI({ baseURL: `${fake.url}/v1`, apiKey: fake.apiKey });
    const { embeddings } = await embedMany({
      model: openai.embedding('text-embedding-3-small'),
      values: TEXTS,
      maxRetries: 0,
    });
    expect(embeddings).toHaveLength(3);
    embeddings.forEach((v, i) => expect(v).toEqual(fake.vector(TEXTS[i]!)));
    fake.rateLimitNext(1, { retryAfterS: 7 });
    const limited = await embedMany({
      model: openai.embedding('text-embedding-3-small'),
      values: TEXTS,
      maxRetries: 0,
    }).catch((e: unknown) => e);
    expect(limited).toMatchObject({ statusCode: 429, responseHeaders: { 'retry-after': '7' } });
    expect(String((limited as Error).message)).toMatch(/Rate limit reached/);
    const wrongKey = createOpenAI({ baseURL: `${fake.url}/v1`, apiKey: 'sk-wrong' });
    await expect(
      embedMany({ model: wrongKey.embedding('m'), values: ['x'], maxRetries: 0 }),
    ).rejects.toMatchObject({
      statusCode: 401,
      message: expect.stringMatching(/Incorrect API key/),
    });
  });

  it('Google batchEmbedContents: the SDK parses its vectors and its errors', async () => {
    const google = createGoogleGenerativeAI({ baseURL: `${fake.url}/v1beta`, apiKey: fake.apiKey });
    const { embeddings } = await embedMany({
      model: google.embedding('gemini-embedding-001'),
      values: TEXTS,
      maxRetries: 0,
    });
    embeddings.forEach((v, i) => expect(v).toEqual(fake.vector(TEXTS[i]!)));
    fake.rateLimitNext(1, { retryAfterS: 3 });
    await expect(
      embedMany({ model: google.embedding('gemini-embedding-001'), values: TEXTS, maxRetries: 0 }),
    ).rejects.toMatchObject({ statusCode: 429, message: expect.stringMatching(/exhausted/) });
  });
});

describe('createEmbeddingsSimilarity', () => {
  it('OpenAI-compatible: batches, caches each text, and scores by cosine', async () => {
    const sim = createEmbeddingsSimilarity({
      baseUrl: `${fake.url}/v1`,
      model: 'text-embedding-3-small',
      apiKey: fake.apiKey,
      batchSize: 2,
    });
    expect(sim.name).toBe('openai:text-embedding-3-small');
    const before = fake.batches.length;
    const scores = await sim.scores(TEXTS[0]!, TEXTS.slice(1));
    expect(fake.batches.length - before).toBe(2); // 3 texts, 2 per request
    expect(scores[0]).toBeGreaterThan(scores[1]!);
    expect(fake.batches.at(-2)).toEqual([normaliseText(TEXTS[0]!), normaliseText(TEXTS[1]!)]);
    await sim.scores(TEXTS[1]!, [TEXTS[2]!]);
    expect(fake.batches.length - before).toBe(2); // cached
  });

  it('Google: batchEmbedContents with the key in x-goog-api-key', async () => {
    const sim = createEmbeddingsSimilarity({
      provider: 'google',
      baseUrl: fake.url,
      model: 'gemini-embedding-001',
      apiKey: fake.apiKey,
    });
    expect(sim.name).toBe('google:gemini-embedding-001');
    const [v] = await sim.embed(['hello world']);
    expect(v).toEqual(fake.vector('hello world'));
  });

  it('waits out a short 429 (retry-after-ms) and retries; a long one is a coded error with its end', async () => {
    const sim = createEmbeddingsSimilarity({
      baseUrl: `${fake.url}/v1`,
      model: 'm',
      apiKey: fake.apiKey,
    });
    fake.rateLimitNext(1, { retryAfterMs: 50 });
    const t0 = Date.now();
    expect(await sim.embed(['short wait'])).toEqual([fake.vector('short wait')]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    fake.rateLimitNext(1, { retryAfterS: 120 });
    const err = await sim.embed(['long wait']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmbeddingsError);
    expect(err).toMatchObject({ code: 'INBOX_EMBEDDINGS_RATE_LIMITED' });
    expect((err as EmbeddingsError).retryAt! - Date.now()).toBeGreaterThan(100_000);
  });

  it('maps refusals and server errors to codes', async () => {
    const wrong = createEmbeddingsSimilarity({
      baseUrl: `${fake.url}/v1`,
      model: 'm',
      apiKey: 'no',
    });
    await expect(wrong.embed(['a'])).rejects.toMatchObject({
      code: 'INBOX_EMBEDDINGS_UNAUTHORIZED',
    });
    const sim = createEmbeddingsSimilarity({
      baseUrl: `${fake.url}/v1`,
      model: 'm',
      apiKey: fake.apiKey,
      maxRetries: 1,
    });
    fake.failNext(2, 503);
    await expect(sim.embed(['b'])).rejects.toMatchObject({ code: 'INBOX_EMBEDDINGS_UNAVAILABLE' });
    fake.failNext(1, 503); // one 5xx is retried
    expect(await sim.embed(['c'])).toEqual([fake.vector('c')]);
    const nowhere = createEmbeddingsSimilarity({
      baseUrl: 'http://127.0.0.1:9/v1',
      model: 'm',
      maxRetries: 0,
    });
    await expect(nowhere.embed(['d'])).rejects.toMatchObject({
      code: 'INBOX_EMBEDDINGS_UNAVAILABLE',
    });
  });

  it('reads Retry-After as seconds or a date, and Google’s RetryInfo', () => {
    const now = Date.parse('2026-12-07T12:00:00Z');
    expect(retryAfterMs(new Headers({ 'retry-after': '3' }), null, now)).toBe(3000);
    expect(
      retryAfterMs(new Headers({ 'retry-after': 'Mon, 07 Dec 2026 12:00:10 GMT' }), null, now),
    ).toBe(10_000);
    expect(
      retryAfterMs(
        new Headers(),
        {
          error: {
            details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1.5s' }],
          },
        },
        now,
      ),
    ).toBe(1500);
    expect(retryAfterMs(new Headers(), null, now)).toBeUndefined();
  });
});

describe('withOfflineFallback', () => {
  it('answers with the offline method and logs the coded reason; sends nothing while rate limited', async () => {
    const lines: string[] = [];
    const primary = createEmbeddingsSimilarity({
      baseUrl: `${fake.url}/v1`,
      model: 'fallback-test',
      apiKey: fake.apiKey,
    });
    const offline = createLexicalSimilarity();
    const sim = withOfflineFallback(primary, offline, silentLogger(lines));
    const ok = await compareTexts(sim, 'alpha beta', ['alpha beta gamma']);
    expect(ok.embedder).toBe('openai:fallback-test');

    fake.rateLimitNext(1, { retryAfterS: 60 });
    const limited = await compareTexts(sim, 'one text', ['another text']);
    expect(limited.embedder).toBe('lexical-tfidf-v1');
    expect(limited.scores).toEqual(await offline.scores('one text', ['another text']));
    const warn = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.code);
    expect(warn).toMatchObject({
      code: 'INBOX_EMBEDDINGS_RATE_LIMITED',
      embedder: 'openai:fallback-test',
      fallback: 'lexical-tfidf-v1',
    });
    expect(warn!.blockedUntil).toBeTypeOf('string');
    const sent = fake.requests.length;
    const again = await compareTexts(sim, 'a third text', ['and a fourth']);
    expect(again.embedder).toBe('lexical-tfidf-v1');
    expect(fake.requests.length).toBe(sent); // blocked: not asked
  });
});

describe('the corpus through the inbox with embeddings', () => {
  it('uses the provider while it answers, and loses no item when it fails', async () => {
    const { items } = await syncCorpus(Date.now());
    const now = new Date();
    const embeddings = (maxRetries: number): ReturnType<typeof createEmbeddingsSimilarity> =>
      createEmbeddingsSimilarity({
        baseUrl: `${fake.url}/v1`,
        model: 'corpus-test',
        apiKey: fake.apiKey,
        maxRetries,
      });
    const workingLog: string[] = [];
    const asked = fake.batches.length;
    const working = await dedupeAndRank(
      items,
      now,
      withOfflineFallback(embeddings(2), createLexicalSimilarity(), silentLogger(workingLog)),
    );
    expect(working.tasks.flat().sort()).toEqual(items.map((i) => i.ref).sort());
    expect(fake.batches.length).toBeGreaterThan(asked);
    expect(
      workingLog.filter((l) => l.includes('INBOX_EMBEDDINGS_')).map((l) => l.slice(0, 400)),
    ).toEqual([]);

    const lines: string[] = [];
    fake.failNext(100_000, 500);
    try {
      const failing = await dedupeAndRank(
        items,
        now,
        withOfflineFallback(embeddings(0), createLexicalSimilarity(), silentLogger(lines)),
      );
      expect(failing.tasks.flat().sort()).toEqual(items.map((i) => i.ref).sort());
      // Suggestions now come from the offline method, with its calibrated thresholds.
      expect(Object.keys(failing.embedders)).toEqual(['lexical-tfidf-v1']);
      expect(failing.merges.identifier).toBe(working.merges.identifier);
      expect(lines.some((l) => l.includes('"code":"INBOX_EMBEDDINGS_UNAVAILABLE"'))).toBe(true);
    } finally {
      fake.failNext(0, 500);
    }
  }, 120_000);
});
