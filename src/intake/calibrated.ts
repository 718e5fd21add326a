import type { Thresholds } from './similarity.js';

/**
 * De-duplication thresholds calibrated on the fixture corpus (125 items, labelled
 * duplicate pairs), per similarity method. Written by `npx tsx scripts/inbox-calibrate.ts
 * --write`; src/intake/calibration.test.ts fails when the offline method's entry no longer
 * matches a fresh calibration. A deployment's own calibration (inbox_thresholds) wins over it.
 */
export const CALIBRATED: Readonly<Record<string, Thresholds>> = {
  'lexical-tfidf-v1': { merge: 0.6499, suggest: 0.1454, pairs: 4813 },
};
