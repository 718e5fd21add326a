import type { SourceItem } from './connectors/types.js';
import { identifierConflict, lookupIdentifiers, ownIdentifiers } from './identifiers.js';
import { itemText, thresholdsFromScores, type Similarity, type Thresholds } from './similarity.js';

/**
 * Calibrating a similarity method on a labelled corpus (the fixture corpus, or a user's own).
 *
 * Only the pairs that reach the similarity stage count: two items that share an identifier are
 * merged by it whatever they read like, and two whose identifiers conflict are never merged.
 * Every other pair of the corpus is scored the way dedupe scores it — one item against all the
 * others at once, so the lexical method's IDF comes from a whole inbox, not from two texts —
 * and is a positive when the labels put both items in one task (duplicates are transitive:
 * a reply of a thread that duplicates an issue duplicates the issue too).
 */

/** The outcome: thresholds plus what they achieve on the pairs they were chosen from. */
export interface Calibration extends Thresholds {
  readonly embedder: string;
  readonly positives: number;
  readonly negatives: number;
  /** Precision of the pairs at or above `merge` (1 when none is). */
  readonly mergePrecision: number;
  /** Share of the positives at or above `merge`. */
  readonly mergeRecall: number;
  /** Share of the positives at or above `suggest`. */
  readonly suggestRecall: number;
  /** Share of the negatives at or above `suggest` (what the user is asked about needlessly). */
  readonly suggestFalseRate: number;
}

/** Groups item refs into the tasks the labels say they are (union-find over the pairs). */
export function labelClusters(
  pairs: ReadonlyArray<readonly [string, string]>,
): Map<string, string> {
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let root = x;
    while ((parent.get(root) ?? root) !== root) root = parent.get(root)!;
    parent.set(x, root);
    return root;
  };
  for (const [a, b] of pairs) {
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent.set(ra, rb);
  }
  return new Map([...parent.keys()].map((k) => [k, find(k)]));
}

/** Whether identifiers alone decide the pair (shared: merged; conflicting: vetoed). */
export function decidedByIdentifiers(a: SourceItem, b: SourceItem): boolean {
  if (identifierConflict(a, b)) return true;
  const own = new Set(ownIdentifiers(b.kind, b.identifiers));
  if (lookupIdentifiers(a).some((id) => own.has(id))) return true;
  const ownA = new Set(ownIdentifiers(a.kind, a.identifiers));
  return lookupIdentifiers(b).some((id) => ownA.has(id));
}

/**
 * Scores every pair of `items` that identifiers leave undecided and picks the thresholds:
 * `duplicates` are labelled pairs of item refs (`SourceItem.ref`).
 */
export async function calibrateOnCorpus(
  similarity: Similarity,
  items: readonly SourceItem[],
  duplicates: ReadonlyArray<readonly [string, string]>,
  targets: { mergePrecision?: number; suggestRecall?: number } = {},
): Promise<Calibration> {
  const cluster = labelClusters(duplicates);
  const same = (a: string, b: string): boolean =>
    cluster.has(a) && cluster.get(a) === cluster.get(b);
  const texts = items.map(itemText);
  const scored: Array<{ score: number; duplicate: boolean }> = [];
  for (let i = 0; i < items.length; i++) {
    const js: number[] = [];
    for (let j = i + 1; j < items.length; j++) {
      if (!decidedByIdentifiers(items[i]!, items[j]!)) js.push(j);
    }
    if (js.length === 0) continue;
    // Scored against the whole corpus (the IDF of an inbox), then the undecided pairs kept.
    const others = texts.filter((_, k) => k !== i);
    const scores = await similarity.scores(texts[i]!, others);
    for (const j of js) {
      scored.push({
        score: scores[j - 1] ?? 0,
        duplicate: same(items[i]!.ref, items[j]!.ref),
      });
    }
  }
  const t = thresholdsFromScores(scored, targets);
  const positives = scored.filter((s) => s.duplicate);
  const negatives = scored.filter((s) => !s.duplicate);
  const atMerge = scored.filter((s) => s.score >= t.merge);
  const share = (xs: typeof scored, min: number): number =>
    xs.length === 0 ? 0 : round4(xs.filter((s) => s.score >= min).length / xs.length);
  return {
    embedder: similarity.name,
    ...t,
    positives: positives.length,
    negatives: negatives.length,
    mergePrecision:
      atMerge.length === 0 ? 1 : round4(atMerge.filter((s) => s.duplicate).length / atMerge.length),
    mergeRecall: share(positives, t.merge),
    suggestRecall: share(positives, t.suggest),
    suggestFalseRate: share(negatives, t.suggest),
  };
}

const round4 = (x: number): number => Math.round(x * 10_000) / 10_000;
