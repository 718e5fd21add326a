/**
 * The store contract for optimization stages, their artifacts and proposals, against SQLite
 * and PostgreSQL.
 */
import { describe, expect, it } from 'vitest';
import { storeDialects } from '../../test/helpers/services.js';
import { runRecord, useDialectStore } from '../../test/helpers/store-contract.js';
import type { Store } from './store.js';

describe.each(storeDialects)('store contract ($name)', (dialect) => {
  let store: Store;
  let skip = false;

  useDialectStore(dialect, (opened) => {
    if (opened) store = opened;
    else skip = true;
  });

  it('keeps optimization stages, their artifacts and proposals', async ({ skip: skipTest }) => {
    if (skip) skipTest();
    const first = runRecord({ kind: 'optimize.detect', repoId: 'repo_opt' });
    first.parentId = first.id;
    const second = runRecord({ kind: 'optimize.baseline', repoId: 'repo_opt', parentId: first.id });
    const agent = runRecord({ repoId: 'repo_opt' });
    for (const r of [first, second, agent]) await store.runs.insert(r);
    expect(await store.runs.get(second.id)).toMatchObject({
      kind: 'optimize.baseline',
      parentId: first.id,
    });
    const ids = async (o: Parameters<Store['runs']['list']>[0]) =>
      (await store.runs.list(o)).map((r) => r.id);
    expect(await ids({ limit: 10, parentId: first.id })).toEqual([second.id, first.id]);
    expect(await ids({ limit: 10, repoId: 'repo_opt', kind: 'agent' })).toEqual([agent.id]);
    expect(await ids({ limit: 10, repoId: 'repo_opt', kind: 'optimize.detect' })).toEqual([
      first.id,
    ]);
    expect(await ids({ limit: 10, repoId: 'repo_opt' })).toHaveLength(3);

    const artifact = {
      id: `art_${first.id}`,
      runId: second.id,
      optimizationId: first.id,
      repoId: 'repo_opt',
      name: 'logs.txt',
      path: `art_${first.id}/logs.txt`,
      bytes: 5_000_000_000,
      sha256: 'a'.repeat(64),
      contentType: 'text/plain',
      createdAt: '2026-01-01T00:00:00.000Z',
    };
    await store.artifacts.insert(artifact);
    expect(await store.artifacts.get(artifact.id)).toEqual(artifact);
    expect(await store.artifacts.list({ optimizationId: first.id })).toEqual([artifact]);
    expect(await store.artifacts.list({ runId: first.id })).toEqual([]);
    expect(await store.artifacts.get('art_nope')).toBeUndefined();

    const proposal = {
      id: `prop_${first.id}`,
      optimizationId: first.id,
      runId: second.id,
      repoId: 'repo_opt',
      createdAt: '2026-01-01T00:00:00.000Z',
      rule: 'prefer-set-has' as const,
      file: 'src/a.js',
      line: 3,
      summary: 's',
      explanation: 'e',
      diff: 'diff --git a/src/a.js b/src/a.js\n',
      files: ['src/a.js'],
      risk: 'low' as const,
      metrics: [],
      speedup: 0.25,
      confidence: 'proven' as const,
      evidence: { noiseFloor: 0.01, samples: 20, alpha: 0.05, node: 'v20', commit: 'abc' },
      timeline: [],
    };
    await store.proposals.insert(proposal);
    // A retried stage stores it again: nothing changes.
    await store.proposals.insert({ ...proposal, summary: 'changed' });
    expect(await store.proposals.get(proposal.id)).toEqual(proposal);
    expect(await store.proposals.list({ repoId: 'repo_opt', limit: 10 })).toEqual([proposal]);
    expect(await store.proposals.list({ repoId: 'repo_other', limit: 10 })).toEqual([]);
    expect(await store.proposals.list({ before: proposal.id, limit: 10 })).toEqual([]);
  });
});
