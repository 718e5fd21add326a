// The fixture corpus through the four connectors and their fakes: every item arrives once, and
// the labels (duplicate pairs, top three) name items the connectors really produce.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ItemRef } from '../../../test/fixtures/inbox/corpus/corpus.js';
import { startCorpusFakes, type CorpusFakes } from '../../../test/fixtures/inbox/corpus-fakes.js';
import { doubles, syncAll } from '../../../test/fixtures/inbox/sync-helpers.js';
import { CONNECTOR_KINDS, type SourceItem } from './index.js';

function resolve(items: readonly SourceItem[], ref: ItemRef): SourceItem | undefined {
  return items.find((i) => {
    if (i.kind !== ref.kind) return false;
    if (ref.kind === 'jira' || ref.kind === 'github') return i.identifiers.issueKey === ref.id;
    return i.ref === ref.id;
  });
}

function shareIdentifier(a: SourceItem, b: SourceItem): boolean {
  if (a.identifiers.threadId && a.identifiers.threadId === b.identifiers.threadId) return true;
  if (a.identifiers.issueKey && a.identifiers.issueKey === b.identifiers.issueKey) return true;
  return (a.identifiers.urls ?? []).some((u) => (b.identifiers.urls ?? []).includes(u));
}

describe('the inbox corpus through the connectors', () => {
  let fakes: CorpusFakes;
  const items: SourceItem[] = [];

  beforeAll(async () => {
    fakes = await startCorpusFakes();
    for (const kind of CONNECTOR_KINDS) {
      const drained = await syncAll(fakes.connectors[kind], fakes.credentials[kind], null);
      items.push(...drained.items);
    }
  });
  afterAll(() => fakes.close());

  it('has at least 120 items, each synced exactly once', () => {
    const counts = Object.fromEntries(
      CONNECTOR_KINDS.map((k) => [k, items.filter((i) => i.kind === k).length]),
    );
    expect(counts).toEqual({ gmail: 55, jira: 30, github: 28, drive: 12 });
    expect(items.length).toBeGreaterThanOrEqual(120);
    expect(doubles(items)).toEqual([]);
  });

  it('labels name real items; automatic merges share an identifier, suggested ones do not', () => {
    const { labels } = fakes.corpus;
    for (const pair of [...labels.duplicates, ...labels.distinct]) {
      const a = resolve(items, pair.a);
      const b = resolve(items, pair.b);
      expect(a, JSON.stringify(pair.a)).toBeDefined();
      expect(b, JSON.stringify(pair.b)).toBeDefined();
      const expected = 'merge' in pair && pair.merge === 'auto';
      expect(shareIdentifier(a!, b!), `${pair.a.id} ~ ${pair.b.id}`).toBe(expected);
    }
    for (const top of Object.values(labels.topThree)) {
      expect(top).toHaveLength(3);
      for (const { item } of top) expect(resolve(items, item), item.id).toBeDefined();
    }
  });
});
