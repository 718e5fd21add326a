import { describe, expect, it } from 'vitest';
import { allGatesPassed, pullRequestBody, runBranchName } from './pull-request-body.js';

describe('the pull request', () => {
  it('branch is patchbay/<a few words of the first line>-<run id>', () => {
    expect(runBranchName('Fix the flaky test in CI!\n\nmore', 'run_01ABC')).toBe(
      'patchbay/fix-the-flaky-test-in-run_01abc',
    );
    expect(runBranchName('', 'run_01ABC')).toBe('patchbay/run_01abc');
  });

  it('is ready only when every gate passed (no gates: passed)', () => {
    expect(allGatesPassed(undefined)).toBe(true);
    expect(allGatesPassed([{ gate: 'test', status: 'passed' }])).toBe(true);
    expect(allGatesPassed([{ gate: 'test', status: 'failed' }])).toBe(false);
  });

  it('body says what was asked, the answer, the gates, usage and cost, and links the run', () => {
    const body = pullRequestBody({
      runId: 'run_1',
      asked: 'fix it',
      answer: 'Fixed the off-by-one.',
      gates: [
        { gate: 'build', status: 'passed', durationMs: 1200 },
        { gate: 'test', status: 'failed', durationMs: 3400 },
      ],
      usage: { input: 10, output: 5 },
      costUsd: 0.0123,
      runUrl: 'https://p.example/v1/runs/run_1',
    });
    expect(body).toContain('> fix it');
    expect(body).toContain('Fixed the off-by-one.');
    expect(body).toContain('| build | ✅ passed | 1.2 s |');
    expect(body).toContain('| test | ❌ failed | 3.4 s |');
    expect(body).toContain('$0.0123');
    expect(body).toContain('[`run_1`](https://p.example/v1/runs/run_1)');
  });
});
