import { describe, expect, it } from 'vitest';
import { fixPrompt, trimFailureOutput } from './gate-report.js';

describe('trimFailureOutput', () => {
  it('keeps the failure lines from anywhere and the last lines, without ANSI or progress redraws', () => {
    const noise = Array.from({ length: 200 }, (_, i) => `line ${i}`);
    const output = [
      '\u001b[31m\u2717 adds two numbers\u001b[0m',
      'AssertionError: expected 3 to be 4',
      ...noise.slice(0, 100),
      'progress 10%\rprogress 50%\rprogress 100%',
      ...noise.slice(100),
      'Tests: 1 failed, 9 passed',
    ].join('\n');
    const trimmed = trimFailureOutput(output);
    expect(trimmed).not.toContain('\u001b[');
    expect(trimmed.split('\n').slice(0, 3)).toEqual([
      '\u2717 adds two numbers',
      'AssertionError: expected 3 to be 4',
      '[…]',
    ]);
    expect(trimmed).toContain('Tests: 1 failed, 9 passed');
    expect(trimmed).toContain('line 199');
    expect(trimmed).not.toContain('line 50\n');
    expect(trimmed).not.toContain('progress 10%');
  });

  it('short output is kept whole; huge output is cut to its end', () => {
    expect(trimFailureOutput('a\nb\n')).toBe('a\nb');
    const huge = trimFailureOutput('x'.repeat(50_000));
    expect(huge.length).toBeLessThanOrEqual(6003);
    expect(huge.startsWith('[…]')).toBe(true);
  });
});

describe('fixPrompt', () => {
  it('names each failing gate, its command and how it ended, with its trimmed output', () => {
    const gate = (g: 'lint' | 'test', status: 'failed' | 'timed_out', exitCode: number | null) => ({
      gate: g,
      command: `npm run ${g}`,
      status,
      exitCode,
      durationMs: 5,
      logArtifact: null,
      round: 0,
    });
    const prompt = fixPrompt(
      [
        { result: gate('lint', 'failed', 1), output: 'src/a.ts:1 error no-unused-vars\n' },
        { result: gate('test', 'timed_out', null), output: 'waiting…\n' },
      ],
      1,
      2,
    );
    expect(prompt).toMatch(
      /^Patchbay ran the repository's checks after your changes, and 2 failed \(fix round 1 of 2\)/,
    );
    expect(prompt).toContain('## lint: `npm run lint` failed (exit 1)');
    expect(prompt).toContain('src/a.ts:1 error no-unused-vars');
    expect(prompt).toContain('## test: `npm run test` did not finish in time');
  });
});
