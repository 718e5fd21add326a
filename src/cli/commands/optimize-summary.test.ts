import { describe, expect, it } from 'vitest';
import type { Opportunity } from '../../contracts/index.js';
import type { Attempt, OptimizeResult } from '../../optimizer/index.js';
import { resultJson, whyNoProposal } from './optimize-summary.js';

const opportunity: Opportunity = {
  rule: 'prefer-set-has',
  file: 'src/keywords.js',
  line: 3,
  column: 1,
  endLine: 3,
  endColumn: 20,
  rationale: '',
  risk: 'low',
  expectedEffect: '',
  template: 'prefer-set-has',
  score: 1,
  hot: true,
};

const result = (attempts: Partial<Attempt>[], opportunities = [opportunity]): OptimizeResult =>
  ({
    opportunities,
    attempts: attempts.map((a) => ({ opportunity, candidateId: null, reason: '', ...a })),
    proposals: [],
  }) as unknown as OptimizeResult;

const measured = { benchmarks: [{}] } as unknown as Attempt['validation'];

describe('why the optimizer proposed nothing', () => {
  it('names a guard refusal, and says nothing of noise when nothing was benchmarked', () => {
    const why = whyNoProposal(
      result([{ outcome: 'rejected', reason: 'GUARD_FAILED: the array is mutated' }]),
    );
    expect(why).toBe('1 rejected before any benchmark ran (reasons below)');
    expect(why).not.toContain('noise');
  });

  it('speaks of noise only for the candidates a benchmark measured', () => {
    const why = whyNoProposal(
      result([
        { outcome: 'rejected', reason: 'tests failed' },
        { outcome: 'rejected', reason: 'below the bar', validation: measured },
      ]),
    );
    expect(why).toBe(
      '1 rejected before any benchmark ran (reasons below); 1 measured without a speedup beyond the noise',
    );
  });

  it('tells an empty scan and flag-only findings apart', () => {
    expect(whyNoProposal(result([], []))).toBe('the scan found nothing its rules rewrite');
    expect(whyNoProposal(result([]))).toContain(
      'none of the 1 opportunities has a rewrite template',
    );
  });

  it('points at --include-safe-refactors when only safe refactors came out', () => {
    expect(whyNoProposal(result([{ outcome: 'safe-refactor' }]))).toContain(
      '--include-safe-refactors',
    );
  });
});

describe('the --json result', () => {
  it('lists every candidate not proposed with its reason, and what the baseline reported', () => {
    const r = {
      ...result([
        { outcome: 'rejected', candidateId: 'cand_1', reason: 'test failed with the patch: x' },
        { outcome: 'safe-refactor', candidateId: 'cand_2', reason: 'no benchmark' },
        { outcome: 'accepted', candidateId: 'cand_3', reason: 'faster' },
      ]),
      baseline: {
        flakyTests: true,
        steps: [
          { kind: 'lint', ok: false },
          { kind: 'test', ok: true },
        ],
      },
    } as unknown as OptimizeResult;
    const json = resultJson(r);
    expect(json.rejected).toEqual([
      {
        rule: 'prefer-set-has',
        file: 'src/keywords.js',
        line: 3,
        candidateId: 'cand_1',
        outcome: 'rejected',
        reason: 'test failed with the patch: x',
      },
      {
        rule: 'prefer-set-has',
        file: 'src/keywords.js',
        line: 3,
        candidateId: 'cand_2',
        outcome: 'safe-refactor',
        reason: 'no benchmark',
      },
    ]);
    expect(json.baseline).toEqual({ flakyTests: true, lintFailed: true });
    expect(json.proposals).toEqual([]);
  });
});
