import { describe, expect, it } from 'vitest';
import { proposalBody, speedupText } from './proposal-pr.js';

describe('speedupText', () => {
  it('says the speedup one way only', () => {
    expect(speedupText(1740, 1000)).toBe('1.74× faster, −42.5 % time');
    expect(speedupText(1000, 1250)).toBe('1.25× slower, +25.0 % time');
    expect(speedupText(0, 1)).toBe('no measured change');
  });
});

describe('proposalBody', () => {
  it('carries medians, n, the bound, the noise floor, how to reproduce, the machine and the attempts', () => {
    const body = proposalBody(
      {
        id: 'prop_1',
        rule: 'regex-in-loop' as never,
        file: 'src/a.ts',
        line: 12,
        summary: 'hoist the regex out of the loop',
        explanation: 'The regex was compiled on every iteration.',
        diff: '',
        files: ['src/a.ts'],
        risk: 'low' as never,
        metrics: [
          {
            benchmark: 'parse',
            baseMedianNs: 1740,
            candidateMedianNs: 1000,
            baseSamples: 30,
            candidateSamples: 30,
            pValue: 0.0001,
            lowerBoundSpeedup: 0.38,
            threshold: 0.05,
          },
        ],
        speedup: 0.425,
        confidence: 'proven',
        evidence: {
          noiseFloor: 0.021,
          samples: 30,
          alpha: 0.01,
          node: 'v20.20.2',
          commit: 'abc123',
        },
        timeline: [
          {
            rule: 'regex-in-loop' as never,
            file: 'src/a.ts',
            line: 12,
            candidateId: 'c1',
            outcome: 'accepted',
            reason: 'proven',
          },
        ],
        optimizationId: 'run_OPT',
        runId: 'run_PROP',
        repoId: 'repo_1',
        createdAt: '2026-12-07T00:00:00.000Z',
      },
      { runUrl: null, machine: 'linux x64, 2 × cpu' },
    );
    expect(body).toContain('**1.74× faster, −42.5 % time** on `parse`');
    expect(body).toContain('| parse | 1.74 µs | 1.00 µs | 30 / 30 |');
    expect(body).toContain('38.0 % less time (bar 5.0 %)');
    expect(body).toContain('Noise floor of the repository');
    expect(body).toContain('2.1 %');
    expect(body).toContain('git checkout abc123');
    expect(body).toContain('Machine: linux x64, 2 × cpu');
    expect(body).toContain('| regex-in-loop | src/a.ts:12 | accepted | proven |');
  });
});
