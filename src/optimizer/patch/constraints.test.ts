import { describe, expect, it } from 'vitest';
import type { Candidate } from '../../contracts/index.js';
import { checkConstraints, forbiddenReason, MAX_CHANGED_LINES } from './constraints.js';
import { unifiedDiff } from './diff.js';

function candidateFor(files: string[], changedPerFile = 2): Candidate {
  const diff = files
    .map((f) => {
      const before =
        Array.from({ length: changedPerFile / 2 }, (_, i) => `old ${i}`).join('\n') + '\n';
      const after =
        Array.from({ length: changedPerFile / 2 }, (_, i) => `new ${i}`).join('\n') + '\n';
      return unifiedDiff(f, before, after);
    })
    .join('');
  return {
    id: 'cand_test',
    rule: 'prefer-date-now',
    file: files[0]!,
    line: 1,
    diff,
    explanation: 'test',
    files,
    changedLines: files.length * changedPerFile,
  };
}

describe('checkConstraints', () => {
  it('accepts a small patch of source files', () => {
    expect(checkConstraints(candidateFor(['src/a.ts', 'lib/b.js']))).toBeNull();
  });

  it('rejects more than 5 files', () => {
    const files = ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => `src/${n}.ts`);
    expect(checkConstraints(candidateFor(files.slice(0, 5)))).toBeNull();
    expect(checkConstraints(candidateFor(files))).toEqual({
      code: 'PATCH_TOO_LARGE',
      message: '6 files changed; the limit is 5',
    });
  });

  it('rejects more than 200 changed lines, counted from the diff itself', () => {
    expect(checkConstraints(candidateFor(['src/a.ts'], 200))).toBeNull();
    const big = candidateFor(['src/a.ts'], 202);
    expect(checkConstraints(big)).toEqual({
      code: 'PATCH_TOO_LARGE',
      message: `202 lines changed; the limit is ${MAX_CHANGED_LINES}`,
    });
    // An under-reported count does not hide a large diff.
    expect(checkConstraints({ ...big, changedLines: 3 })?.code).toBe('PATCH_TOO_LARGE');
  });

  it.each([
    ['package.json', 'the package manifest (dependencies)'],
    ['packages/core/package.json', 'the package manifest (dependencies)'],
    ['package-lock.json', 'a lockfile'],
    ['pnpm-lock.yaml', 'a lockfile'],
    ['yarn.lock', 'a lockfile'],
    ['bun.lockb', 'a lockfile'],
    ['vite.config.ts', 'a tool configuration'],
    ['jest.config.js', 'a tool configuration'],
    ['tsconfig.json', 'a TypeScript configuration'],
    ['tsconfig.build.json', 'a TypeScript configuration'],
    ['.eslintrc.cjs', 'a tool configuration'],
    ['.prettierrc', 'a tool configuration'],
    ['.github/workflows/ci.yml', 'CI or editor configuration'],
    ['src/a.test.ts', 'a test'],
    ['src/a.spec.js', 'a test'],
    ['test/helpers.ts', 'a test'],
    ['src/__tests__/x.ts', 'a test'],
    ['node_modules/x/index.js', 'vendored or generated output'],
    ['dist/index.js', 'vendored or generated output'],
    ['../outside.ts', 'a path outside the repository'],
  ])('forbids %s (%s)', (file, reason) => {
    expect(forbiddenReason(file)).toBe(reason);
    expect(checkConstraints(candidateFor(['src/ok.ts', file]))).toEqual({
      code: 'PATCH_FORBIDDEN_FILE',
      message: `${file} is ${reason}: candidates may not change it`,
    });
  });

  it('allows ordinary source paths that merely look alike', () => {
    for (const file of [
      'src/config.ts',
      'src/testing-utils.ts',
      'src/package.ts',
      'src/lockfile.ts',
    ]) {
      expect(forbiddenReason(file)).toBeUndefined();
    }
  });

  it('sees files the diff touches even when `files` omits them', () => {
    const sneaky = candidateFor(['src/a.ts', 'package.json']);
    expect(checkConstraints({ ...sneaky, files: ['src/a.ts'] })?.code).toBe('PATCH_FORBIDDEN_FILE');
  });
});
