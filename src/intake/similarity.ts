/**
 * How alike two tasks read, 0..1. The offline method needs no model: TF-IDF over word
 * unigrams and character 4-grams (which survive inflection and typos: "deploy"/"deployment"),
 * cosine of the weighted vectors, with IDF taken from the texts compared. Embeddings
 * (embeddings.ts) may replace it. Each method has its own calibrated thresholds, stored under
 * its `name` (calibration.ts, calibrated.ts).
 */
export interface Similarity {
  /** Stable: thresholds are stored per name (`lexical-tfidf-v1`, `openai:<model>`, `google:<model>`). */
  readonly name: string;
  /** The similarity of `query` to each candidate, in order. */
  scores(query: string, candidates: readonly string[]): Promise<number[]>;
  /** Like `scores`, naming the method that answered (one with a fallback may answer with it). */
  compare?(query: string, candidates: readonly string[]): Promise<SimilarityScores>;
}

export interface SimilarityScores {
  /** The method whose scores these are: its thresholds apply. */
  readonly embedder: string;
  readonly scores: number[];
}

/** Scores `candidates` against `query`, with the name of the method that answered. */
export async function compareTexts(
  similarity: Similarity,
  query: string,
  candidates: readonly string[],
): Promise<SimilarityScores> {
  if (similarity.compare) return similarity.compare(query, candidates);
  return { embedder: similarity.name, scores: await similarity.scores(query, candidates) };
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
  // Features per text, kept for the open tasks a sync compares again and again (bounded: the
  // oldest half goes when it is full).
  const cache = new Map<string, Map<string, number>>();
  const featuresOf = (text: string): Map<string, number> => {
    let f = cache.get(text);
    if (!f) {
      if (cache.size >= 10_000) {
        for (const k of [...cache.keys()].slice(0, 5_000)) cache.delete(k);
      }
      f = features(text);
      cache.set(text, f);
    }
    return f;
  };
  return {
    name: 'lexical-tfidf-v1',
    scores(query, candidates) {
      const docs = [query, ...candidates].map(featuresOf);
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
 * Thresholds from scored pairs: `merge` is the lowest score whose automatic merges keep a
 * precision of at least `mergePrecision` (default 0.95) at that score and every score above
 * it — when none does, above every score seen; `suggest` the highest score that still finds
 * `suggestRecall` (default 0.8) of the true duplicates, never above `merge`.
 */
export function thresholdsFromScores(
  scored: ReadonlyArray<{ score: number; duplicate: boolean }>,
  targets: { mergePrecision?: number; suggestRecall?: number } = {},
): Thresholds {
  const mergePrecision = targets.mergePrecision ?? 0.95;
  const suggestRecall = targets.suggestRecall ?? 0.8;
  const positives = scored.filter((s) => s.duplicate).length;
  // Highest score first: the precision of "everything at or above t" as t walks down.
  const sorted = [...scored].sort((x, y) => y.score - x.score);
  let merge = Math.min(1, (sorted[0]?.score ?? 0) + 1e-4);
  let above = 0;
  let correct = 0;
  let found = 0;
  let suggest: number | undefined;
  let precisionHeld = true;
  for (let i = 0; i < sorted.length; i++) {
    const s = sorted[i]!;
    above++;
    if (s.duplicate) {
      correct++;
      found++;
    }
    // Ties are one threshold: decide after the last pair of a score.
    if (sorted[i + 1]?.score === s.score) continue;
    if (correct / above < mergePrecision) precisionHeld = false;
    if (precisionHeld) merge = s.score;
    if (suggest === undefined && positives > 0 && found / positives >= suggestRecall) {
      suggest = s.score;
    }
  }
  return {
    merge: floor4(merge),
    suggest: floor4(Math.min(suggest ?? 0, merge)),
    pairs: scored.length,
  };
}

/**
 * Thresholds from labelled pairs, each scored on its own (for texts outside a corpus; the
 * corpus calibration, calibrateOnCorpus, scores each pair among all the others).
 */
export async function calibrateThresholds(
  similarity: Similarity,
  pairs: readonly LabelledPair[],
  targets: { mergePrecision?: number; suggestRecall?: number } = {},
): Promise<Thresholds> {
  const scored: Array<{ score: number; duplicate: boolean }> = [];
  for (const p of pairs) {
    const [score] = await similarity.scores(p.a, [p.b]);
    scored.push({ score: score ?? 0, duplicate: p.duplicate });
  }
  return thresholdsFromScores(scored, targets);
}

const floor4 = (x: number): number => Math.floor(x * 10_000) / 10_000;

/** The text dedupe compares: a task's (or an item's) title and snippet. */
export const itemText = (t: { title: string; snippet: string }): string =>
  `${t.title}\n${t.snippet}`;
