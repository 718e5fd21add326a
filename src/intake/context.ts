import type { Logger } from '../observability/index.js';
import type { Store } from '../store/index.js';
import { CALIBRATED } from './calibrated.js';
import type { Similarity, Thresholds } from './similarity.js';

/** What the intake parts share: the store, the similarity method, a logger and the clock. */
export interface InboxContext {
  readonly store: Pick<Store, 'tasks' | 'connectors'>;
  readonly similarity: Similarity;
  readonly log: Logger;
  now(): Date;
}

/** Conservative thresholds for a method calibrated nowhere (an embeddings model never measured). */
export const UNCALIBRATED: Thresholds = { merge: 0.92, suggest: 0.75, pairs: 0 };

/**
 * The thresholds of a similarity method: those this deployment calibrated (stored by
 * `scripts/inbox-calibrate.ts --store`, table inbox_thresholds), else those committed with the
 * code from the fixture corpus (calibrated.ts), else conservative ones.
 */
export async function thresholdsOf(ctx: InboxContext, embedder: string): Promise<Thresholds> {
  return (await ctx.store.tasks.threshold(embedder)) ?? CALIBRATED[embedder] ?? UNCALIBRATED;
}
