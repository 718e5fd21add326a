import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { countChangedLines, diffFiles, unifiedDiff } from './diff.js';

const root = mkdtempSync(join(tmpdir(), 'pb-diff-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
execFileSync('git', ['init', '-q'], { cwd: root });

/** Small deterministic PRNG (mulberry32) so failures reproduce. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('unifiedDiff', () => {
  it('is empty for equal texts and writes a minimal one-line hunk', () => {
    expect(unifiedDiff('a.ts', 'x\n', 'x\n')).toBe('');
    expect(unifiedDiff('src/a.ts', 'x\n', 'y\n')).toBe(
      'diff --git a/src/a.ts b/src/a.ts\n--- a/src/a.ts\n+++ b/src/a.ts\n@@ -1 +1 @@\n-x\n+y\n',
    );
  });

  it('writes zero-length ranges for pure insertions and deletions', () => {
    expect(unifiedDiff('a', 'a\nb\n', 'a\nnew\nb\n')).toContain('@@ -1,2 +1,3 @@\n a\n+new\n b\n');
    expect(unifiedDiff('a', 'only\n', '')).toContain('@@ -1 +0,0 @@\n-only\n');
    expect(unifiedDiff('a', '', 'first\n')).toContain('@@ -0,0 +1 @@\n+first\n');
  });

  it('counts changed lines and lists files', () => {
    const diff = unifiedDiff('src/a.ts', 'a\nb\nc\n', 'a\nB\nc\nd\n');
    expect(countChangedLines(diff)).toBe(3);
    expect(diffFiles(diff)).toEqual(['src/a.ts']);
  });

  it('produces diffs that real git apply accepts and that reproduce the new text (300 random edits)', () => {
    const next = random(42);
    for (let t = 0; t < 300; t++) {
      const n = Math.floor(next() * 40);
      const a = Array.from({ length: n }, () => `line ${Math.floor(next() * 6)}`);
      const b = a
        .filter(() => next() > 0.15)
        .flatMap((l) => (next() > 0.9 ? [l, `added ${Math.floor(next() * 3)}`] : [l]));
      const before = a.join('\n') + (next() > 0.3 ? '\n' : '');
      const after = b.join('\n') + (next() > 0.3 ? '\n' : '');
      const diff = unifiedDiff('f.txt', before, after);
      if (before === after) {
        expect(diff).toBe('');
        continue;
      }
      writeFileSync(join(root, 'f.txt'), before);
      writeFileSync(join(root, 'p.diff'), diff);
      try {
        execFileSync('git', ['apply', 'p.diff'], { cwd: root, stdio: 'pipe' });
      } catch (err) {
        throw new Error(
          `git apply failed on case ${t}:\n${diff}\n${String((err as { stderr?: Buffer }).stderr)}`,
        );
      }
      expect(readFileSync(join(root, 'f.txt'), 'utf8')).toBe(after);
    }
  });
});
