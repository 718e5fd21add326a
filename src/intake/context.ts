import type { Logger } from '../observability/index.js';
import type { Store } from '../store/index.js';
import type { Similarity, Thresholds } from './similarity.js';

/** What the intake parts share: the store, the similarity method, a logger and the clock. */
export interface InboxContext {
  readonly store: Pick<Store, 'tasks' | 'connectors'>;
  readonly similarity: Similarity;
  readonly log: Logger;
  now(): Date;
}

/**
 * Thresholds used before a method is calibrated (calibrateThresholds stores its own): those
 * the built-in labelled pairs gave the lexical method, conservative for anything else.
 */
export const DEFAULT_THRESHOLDS: Readonly<Record<string, Thresholds>> = {
  'lexical-tfidf-v1': { merge: 0.6, suggest: 0.3, pairs: 0 },
};
const FALLBACK: Thresholds = { merge: 0.92, suggest: 0.75, pairs: 0 };

export async function thresholdsOf(ctx: InboxContext): Promise<Thresholds> {
  return (
    (await ctx.store.tasks.threshold(ctx.similarity.name)) ??
    DEFAULT_THRESHOLDS[ctx.similarity.name] ??
    FALLBACK
  );
}
