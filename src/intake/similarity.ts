import type { Fetch } from './connectors/types.js';

/**
 * How alike two tasks read, 0..1. The offline method needs no model: TF-IDF over word
 * unigrams and character 4-grams (which survive inflection and typos: "deploy"/"deployment"),
 * cosine of the weighted vectors, with IDF taken from the texts compared. An OpenAI-compatible
 * `/v1/embeddings` endpoint may replace it (PATCHBAY_INBOX_EMBEDDINGS_URL). Each method has
 * its own calibrated thresholds, stored under its `name`.
 */
export interface Similarity {
  /** Stable: thresholds are stored per name (`lexical-tfidf-v1`, `openai:<model>`). */
  readonly name: string;
  /** The similarity of `query` to each candidate, in order. */
  scores(query: string, candidates: readonly string[]): Promise<number[]>;
}

const STOP = new Set(
  'a an and are as at be by for from has have i in is it of on or re fw fwd the this to we with you your our please can could would will'.split(
    ' ',
  ),
);

/** Lower case, no reply/forward prefixes, no punctuation, single spaces. */
export function normaliseText(text: string): string {
  return text
    .toLowerCase()
    .replace(/^(\s*(re|fw|fwd|aw)\s*:\s*)+/g, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** Features of a text: `w:<word>` for each word, `c:<4-gram>` inside each word. */
export function features(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (f: string): void => {
    counts.set(f, (counts.get(f) ?? 0) + 1);
  };
  for (const word of normaliseText(text).split(' ')) {
    if (!word || STOP.has(word)) continue;
    add(`w:${word}`);
    const padded = ` ${word} `;
    for (let i = 0; i + 4 <= padded.length; i++) add(`c:${padded.slice(i, i + 4)}`);
  }
  return counts;
}

function cosine(a: Map<string, number>, b: Map<string, number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (const [k, v] of a) {
    na += v * v;
    const w = b.get(k);
    if (w !== undefined) dot += v * w;
  }
  for (const v of b.values()) nb += v * v;
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** TF-IDF cosine over word and character 4-gram features; deterministic, offline. */
export function createLexicalSimilarity(): Similarity {
  return {
    name: 'lexical-tfidf-v1',
    scores(query, candidates) {
      const docs = [query, ...candidates].map(features);
      const df = new Map<string, number>();
      for (const doc of docs) for (const k of doc.keys()) df.set(k, (df.get(k) ?? 0) + 1);
      const n = docs.length;
      // Smoothed IDF, sublinear TF: a word said five times is not five times the evidence.
      const weigh = (doc: Map<string, number>): Map<string, number> =>
        new Map(
          [...doc].map(([k, tf]) => [
            k,
            (1 + Math.log(tf)) * (Math.log((1 + n) / (1 + (df.get(k) ?? 0))) + 1),
          ]),
        );
      const [q, ...rest] = docs.map(weigh);
      return Promise.resolve(rest.map((c) => cosine(q!, c)));
    },
  };
}

function denseCosine(a: readonly number[], b: readonly number[]): number {
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
 * Any OpenAI-compatible `POST <baseUrl>/embeddings` (OpenAI, a local server, a gateway).
 * Vectors are kept per text for the life of the process, so a sync embeds each text once.
 */
export function createEmbeddingsSimilarity(options: {
  baseUrl: string;
  model: string;
  apiKey?: string;
  fetch?: Fetch;
  timeoutMs?: number;
}): Similarity {
  const doFetch = options.fetch ?? fetch;
  const cache = new Map<string, number[]>();
  async function embed(texts: readonly string[]): Promise<number[][]> {
    const missing = [...new Set(texts.filter((t) => !cache.has(t)))];
    if (missing.length > 0) {
      const response = await doFetch(`${options.baseUrl.replace(/\/+$/, '')}/embeddings`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
        },
        body: JSON.stringify({ model: options.model, input: missing }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
      });
      if (!response.ok) {
        throw new Error(`embeddings endpoint answered HTTP ${response.status}`);
      }
      const body = (await response.json()) as {
        data?: Array<{ index: number; embedding: number[] }>;
      };
      for (const d of body.data ?? []) {
        const text = missing[d.index];
        if (text !== undefined) cache.set(text, d.embedding);
      }
    }
    return texts.map((t) => {
      const v = cache.get(t);
      if (!v) throw new Error('the embeddings endpoint left a text without a vector');
      return v;
    });
  }
  return {
    name: `openai:${options.model}`,
    async scores(query, candidates) {
      if (candidates.length === 0) return [];
      const [q, ...rest] = await embed([normaliseText(query), ...candidates.map(normaliseText)]);
      return rest.map((c) => denseCosine(q!, c));
    },
  };
}

/** A labelled pair of task texts: the same work or not. */
export interface LabelledPair {
  readonly a: string;
  readonly b: string;
  readonly duplicate: boolean;
}

export interface Thresholds {
  /** At or above: merged automatically. */
  readonly merge: number;
  /** At or above (and below `merge`): suggested as a duplicate for the user to decide. */
  readonly suggest: number;
  readonly pairs: number;
}

/**
 * Thresholds from labelled pairs: `merge` is the lowest score whose automatic merges keep a
 * precision of at least `mergePrecision` (default 0.95) — when none does, above every score
 * seen; `suggest` the highest score that still finds `suggestRecall` (default 0.8) of the true
 * duplicates, never above `merge`.
 */
export async function calibrateThresholds(
  similarity: Similarity,
  pairs: readonly LabelledPair[],
  targets: { mergePrecision?: number; suggestRecall?: number } = {},
): Promise<Thresholds> {
  const mergePrecision = targets.mergePrecision ?? 0.95;
  const suggestRecall = targets.suggestRecall ?? 0.8;
  const scored: Array<{ score: number; duplicate: boolean }> = [];
  for (const p of pairs) {
    const [score] = await similarity.scores(p.a, [p.b]);
    scored.push({ score: score ?? 0, duplicate: p.duplicate });
  }
  const positives = scored.filter((s) => s.duplicate).length;
  const candidates = [...new Set(scored.map((s) => s.score))].sort((x, y) => x - y);
  let merge = Math.min(1, (candidates.at(-1) ?? 0) + 1e-6);
  for (const t of candidates) {
    const above = scored.filter((s) => s.score >= t);
    const precision = above.filter((s) => s.duplicate).length / above.length;
    // The lowest threshold that keeps the precision, at every threshold above it too.
    const holdsAbove = candidates
      .filter((u) => u >= t)
      .every((u) => {
        const at = scored.filter((s) => s.score >= u);
        return at.filter((s) => s.duplicate).length / at.length >= mergePrecision;
      });
    if (precision >= mergePrecision && holdsAbove) {
      merge = t;
      break;
    }
  }
  let suggest = 0;
  for (const t of [...candidates].reverse()) {
    const found = scored.filter((s) => s.duplicate && s.score >= t).length;
    if (positives > 0 && found / positives >= suggestRecall) {
      suggest = t;
      break;
    }
  }
  return { merge, suggest: Math.min(suggest, merge), pairs: pairs.length };
}
