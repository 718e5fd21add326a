// Calibration on the fixture corpus (synced by the real connectors from the fakes) and the
// corpus through the real inbox: the committed thresholds are what a fresh calibration gives,
// and dedupe and ranking keep their quality figures (bench/inbox.ts reports the same).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXED_NOW } from '../../test/fixtures/inbox/corpus/corpus.js';
import type { CorpusLabels } from '../../test/fixtures/inbox/corpus/corpus.js';
import {
  dedupeAndRank,
  duplicatePairs,
  HORIZONS,
  resolver,
  shiftItems,
  syncCorpus,
  type DedupeAndRankResult,
} from '../../test/fixtures/inbox/quality.js';
import { CALIBRATED } from './calibrated.js';
import { calibrateOnCorpus, labelClusters } from './calibration.js';
import type { SourceItem } from './connectors/types.js';
import { createLexicalSimilarity, thresholdsFromScores } from './similarity.js';

describe('thresholdsFromScores', () => {
  it('picks the lowest merge score that keeps the precision and the highest suggest score that keeps the recall', () => {
    const scored = [
      { score: 0.9, duplicate: true },
      { score: 0.8, duplicate: true },
      { score: 0.7, duplicate: false },
      { score: 0.6, duplicate: true },
      { score: 0.5, duplicate: true },
      { score: 0.4, duplicate: false },
      { score: 0.3, duplicate: true },
    ];
    const t = thresholdsFromScores(scored, { mergePrecision: 0.95, suggestRecall: 0.8 });
    expect(t.merge).toBe(0.8); // 0.7 would let a wrong pair merge
    expect(t.suggest).toBe(0.5); // 4 of the 5 duplicates
    // Never a merge when the top score is wrong; suggest never above merge.
    const wrongFirst = thresholdsFromScores([
      { score: 0.9, duplicate: false },
      { score: 0.5, duplicate: true },
    ]);
    expect(wrongFirst.merge).toBeGreaterThan(0.9);
    expect(wrongFirst.suggest).toBe(0.5);
  });
});

describe('the inbox corpus: calibration and quality', () => {
  let items: SourceItem[];
  let labels: CorpusLabels;
  let result: DedupeAndRankResult;

  beforeAll(async () => {
    const now = Date.now();
    const synced = await syncCorpus(now);
    labels = synced.labels;
    items = synced.items;
    result = await dedupeAndRank(shiftItems(items, FIXED_NOW - now), new Date(FIXED_NOW));
  }, 120_000);
  afterAll(() => undefined);

  it('the committed thresholds of the offline method are a fresh calibration’s, and meet the targets', async () => {
    const lexical = createLexicalSimilarity();
    const c = await calibrateOnCorpus(lexical, items, duplicatePairs(labels, items));
    expect(CALIBRATED[lexical.name], 'run npx tsx scripts/inbox-calibrate.ts --write').toEqual({
      merge: c.merge,
      suggest: c.suggest,
      pairs: c.pairs,
    });
    expect(c.mergePrecision).toBeGreaterThanOrEqual(0.95);
    expect(c.suggestRecall).toBeGreaterThanOrEqual(0.8);
    expect(c.positives).toBeGreaterThan(20);
    expect(c.suggest).toBeLessThanOrEqual(c.merge);
  }, 60_000);

  it('merges only true duplicates, finds the suggested ones, and keeps look-alikes apart', () => {
    const resolve = resolver(items);
    const cluster = labelClusters(duplicatePairs(labels, items));
    const taskOf = new Map<string, number>();
    result.tasks.forEach((refs, i) => refs.forEach((r) => taskOf.set(r, i)));
    for (const refs of result.tasks) {
      for (const r of refs.slice(1)) {
        expect(cluster.get(r), `${refs[0]} ~ ${r}`).toBe(cluster.get(refs[0]!));
      }
    }
    for (const p of labels.duplicates.filter((d) => d.merge === 'auto')) {
      expect(taskOf.get(resolve(p.a)), `${p.a.id} ~ ${p.b.id}`).toBe(taskOf.get(resolve(p.b)));
    }
    for (const p of labels.distinct) {
      expect(taskOf.get(resolve(p.a)), `${p.a.id} ~ ${p.b.id}`).not.toBe(taskOf.get(resolve(p.b)));
    }
    const linked = labelClusters(
      result.suggested.map(([a, b]) => [String(taskOf.get(a)), String(taskOf.get(b))] as const),
    );
    const suggestedLabels = labels.duplicates.filter((d) => d.merge === 'suggested');
    const found = suggestedLabels.filter((p) => {
      const a = String(taskOf.get(resolve(p.a)));
      const b = String(taskOf.get(resolve(p.b)));
      return a === b || (linked.has(a) && linked.get(a) === linked.get(b));
    });
    expect(found.length / suggestedLabels.length).toBeGreaterThanOrEqual(0.8);
  });

  it('ranks the expected top three of today, this week and this month', () => {
    const resolve = resolver(items);
    const hits = Object.fromEntries(
      HORIZONS.map((h) => {
        const top = new Set(result.ranked[h].flat());
        return [h, labels.topThree[h].filter((t) => top.has(resolve(t.item))).length];
      }),
    );
    expect(hits.today).toBe(3);
    expect(hits.week).toBe(3);
    expect(hits.month).toBe(3);
  });
});
