import type { ErrorCode } from '../contracts/index.js';
import type { Logger } from '../observability/index.js';
import type { Fetch } from './connectors/types.js';
import { normaliseText, type Similarity, type SimilarityScores } from './similarity.js';

/**
 * Similarity by embeddings: any OpenAI-compatible `POST <base>/embeddings` (OpenAI, a local
 * server, a gateway) or Google's `models/<model>:batchEmbedContents`. Vectors are cached per
 * text for the life of the process, so a sync embeds each text once. Failures are typed
 * (EmbeddingsError, with a stable code); `withOfflineFallback` turns them into the offline
 * method's scores plus a logged reason, so an item is never lost to a provider's bad day.
 */

export type EmbeddingsProvider = 'openai' | 'google';

/** Codes of the error catalog (docs/errors.md); logged with the fallback, never answered. */
export type EmbeddingsErrorCode = Extract<ErrorCode, `INBOX_EMBEDDINGS_${string}`>;

export class EmbeddingsError extends Error {
  constructor(
    readonly code: EmbeddingsErrorCode,
    message: string,
    /** Rate limited: no request before this time. */
    readonly retryAt?: number,
  ) {
    super(message);
    this.name = 'EmbeddingsError';
  }
}

export interface EmbeddingsOptions {
  provider?: EmbeddingsProvider;
  /** OpenAI-compatible: the base with `/v1` (`https://api.openai.com/v1`); Google: `https://generativelanguage.googleapis.com`. */
  baseUrl: string;
  model: string;
  apiKey?: string;
  fetch?: Fetch;
  timeoutMs?: number;
  /** Texts per request (OpenAI takes up to 2048, Google 100). */
  batchSize?: number;
  /** A 429 whose wait is at most this long is waited out and retried (default 5 s). */
  maxRetryWaitMs?: number;
  /** Retries of one request after 429s and 5xx (default 2). */
  maxRetries?: number;
  now?: () => number;
}

/** Milliseconds to wait from `retry-after-ms`, `Retry-After` (seconds or a date) or Google's RetryInfo. */
export function retryAfterMs(headers: Headers, body: unknown, now: number): number | undefined {
  const ms = Number(headers.get('retry-after-ms'));
  if (headers.has('retry-after-ms') && Number.isFinite(ms)) return Math.max(0, ms);
  const ra = headers.get('retry-after');
  if (ra) {
    const seconds = Number(ra);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
    const date = Date.parse(ra);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  const details = (body as { error?: { details?: Array<Record<string, unknown>> } })?.error
    ?.details;
  for (const d of details ?? []) {
    const delay = typeof d.retryDelay === 'string' ? /^([\d.]+)s$/.exec(d.retryDelay) : null;
    if (delay) return Number(delay[1]) * 1000;
  }
  return undefined;
}

function errorMessage(body: unknown): string {
  const e = (body as { error?: { message?: unknown } } | null)?.error;
  return typeof e?.message === 'string' ? e.message : '';
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function isVector(v: unknown): v is number[] {
  return Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number');
}

export function createEmbeddingsSimilarity(options: EmbeddingsOptions): Similarity & {
  /** Vectors for texts (as given, not normalised); batches, retries, caches. */
  embed(texts: readonly string[]): Promise<number[][]>;
} {
  const provider = options.provider ?? 'openai';
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const base = options.baseUrl.replace(/\/+$/, '');
  const batchSize = options.batchSize ?? (provider === 'google' ? 100 : 256);
  const cache = new Map<string, number[]>();

  function request(texts: readonly string[]): { url: string; init: RequestInit } {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (provider === 'google') {
      if (options.apiKey) headers['x-goog-api-key'] = options.apiKey;
      const model = options.model.startsWith('models/') ? options.model : `models/${options.model}`;
      return {
        url: `${base}/v1beta/${model}:batchEmbedContents`,
        init: {
          method: 'POST',
          headers,
          body: JSON.stringify({
            requests: texts.map((text) => ({ model, content: { parts: [{ text }] } })),
          }),
        },
      };
    }
    if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
    return {
      url: `${base}/embeddings`,
      init: {
        method: 'POST',
        headers,
        body: JSON.stringify({ model: options.model, input: texts, encoding_format: 'float' }),
      },
    };
  }

  function vectorsOf(body: unknown, count: number): number[][] {
    const out: Array<number[] | undefined> = new Array<number[] | undefined>(count);
    if (provider === 'google') {
      const list = (body as { embeddings?: Array<{ values?: unknown }> })?.embeddings;
      list?.forEach((e, i) => {
        if (isVector(e.values)) out[i] = e.values;
      });
    } else {
      const list = (body as { data?: Array<{ index?: unknown; embedding?: unknown }> })?.data;
      for (const d of list ?? []) {
        if (typeof d.index === 'number' && isVector(d.embedding)) out[d.index] = d.embedding;
      }
    }
    if (out.some((v) => !v) || out.length !== count) {
      throw new EmbeddingsError(
        'INBOX_EMBEDDINGS_BAD_RESPONSE',
        `the embeddings endpoint left a text without a vector (asked ${count})`,
      );
    }
    return out as number[][];
  }

  async function embedBatch(texts: readonly string[]): Promise<number[][]> {
    const { url, init } = request(texts);
    const maxRetries = options.maxRetries ?? 2;
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await doFetch(url, {
          ...init,
          signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
        });
      } catch (err) {
        if (attempt < maxRetries) continue;
        throw new EmbeddingsError(
          'INBOX_EMBEDDINGS_UNAVAILABLE',
          `the embeddings endpoint did not answer: ${(err as Error).message}`,
        );
      }
      const body: unknown = await response.json().catch(() => null);
      if (response.ok) return vectorsOf(body, texts.length);
      const detail = errorMessage(body);
      const said = `HTTP ${response.status}${detail ? `: ${detail}` : ''}`;
      if (response.status === 429) {
        const wait = retryAfterMs(response.headers, body, now()) ?? 1000;
        if (attempt < maxRetries && wait <= (options.maxRetryWaitMs ?? 5000)) {
          await sleep(wait);
          continue;
        }
        throw new EmbeddingsError(
          'INBOX_EMBEDDINGS_RATE_LIMITED',
          `rate limited (${said})`,
          now() + wait,
        );
      }
      if (response.status === 401 || response.status === 403) {
        throw new EmbeddingsError('INBOX_EMBEDDINGS_UNAUTHORIZED', `refused the key (${said})`);
      }
      if (response.status >= 500 && attempt < maxRetries) {
        await sleep(200 * 2 ** attempt);
        continue;
      }
      throw new EmbeddingsError(
        response.status >= 500 ? 'INBOX_EMBEDDINGS_UNAVAILABLE' : 'INBOX_EMBEDDINGS_BAD_RESPONSE',
        `the embeddings endpoint answered ${said}`,
      );
    }
  }

  async function embed(texts: readonly string[]): Promise<number[][]> {
    const missing = [...new Set(texts.filter((t) => !cache.has(t)))];
    for (let i = 0; i < missing.length; i += batchSize) {
      const batch = missing.slice(i, i + batchSize);
      const vectors = await embedBatch(batch);
      batch.forEach((t, k) => cache.set(t, vectors[k]!));
    }
    return texts.map((t) => cache.get(t)!);
  }

  return {
    name: `${provider}:${options.model.replace(/^models\//, '')}`,
    embed,
    async scores(query, candidates) {
      if (candidates.length === 0) return [];
      const [q, ...rest] = await embed([normaliseText(query), ...candidates.map(normaliseText)]);
      return rest.map((c) => denseCosine(q!, c));
    },
  };
}

export function denseCosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * (b[i] ?? 0);
    na += a[i]! * a[i]!;
    nb += (b[i] ?? 0) * (b[i] ?? 0);
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/**
 * `primary` while it works; the offline `fallback` (with its own thresholds) when it fails,
 * with a logged warning that carries the error's code. A rate limit keeps the primary unused
 * until it ends, so no request is sent while blocked.
 */
export function withOfflineFallback(
  primary: Similarity,
  fallback: Similarity,
  log: Logger,
  now: () => number = Date.now,
): Similarity {
  let blockedUntil = 0;
  async function compare(query: string, candidates: readonly string[]): Promise<SimilarityScores> {
    if (now() >= blockedUntil) {
      try {
        return { embedder: primary.name, scores: await primary.scores(query, candidates) };
      } catch (err) {
        const code = err instanceof EmbeddingsError ? err.code : 'INBOX_EMBEDDINGS_UNAVAILABLE';
        if (err instanceof EmbeddingsError && err.retryAt) blockedUntil = err.retryAt;
        log.warn(
          {
            code,
            embedder: primary.name,
            fallback: fallback.name,
            reason: (err as Error).message,
            ...(blockedUntil > now() ? { blockedUntil: new Date(blockedUntil).toISOString() } : {}),
          },
          'embeddings failed; the offline similarity is used for this comparison',
        );
      }
    }
    return { embedder: fallback.name, scores: await fallback.scores(query, candidates) };
  }
  return {
    name: primary.name,
    compare,
    scores: async (query, candidates) => (await compare(query, candidates)).scores,
  };
}

/** The similarity of an inbox: embeddings with the offline fallback when configured, else offline. */
export function createSimilarity(options: {
  embeddings?: EmbeddingsOptions;
  offline: Similarity;
  log: Logger;
}): Similarity {
  if (!options.embeddings) return options.offline;
  return withOfflineFallback(
    createEmbeddingsSimilarity(options.embeddings),
    options.offline,
    options.log,
  );
}
