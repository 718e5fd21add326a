import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Candidate, CommandKind } from '../contracts/index.js';
import { createSilentLogger } from '../observability/index.js';
import { runBaseline } from './baseline.js';
import { decide } from './stats.js';
import { validateCandidate, type ValidationMath } from './validate.js';
import { detectedWith } from '../../test/helpers/optimizer.js';

const FIXTURE = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'repos', 'lib-math');
const env = {
  PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
  HOME: tmpdir(),
  BENCH_MS: '40',
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@t',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@t',
};
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** benchmark.js lines to seconds per op, and the real statistics at the default bar. */
const math: ValidationMath = {
  read: (output) =>
    [...output.matchAll(/^(\w+) x ([\d,]+) ops\/sec/gm)].map((m) => ({
      name: m[1]!,
      value: 1 / Number(m[2]!.replaceAll(',', '')),
    })),
  decide: (base, candidate) => decide({ base, candidate }),
};

/** The fixture as a committed git repository, its baseline run, and a diff maker. */
async function setup(commands: Partial<Record<CommandKind, string>>) {
  const dir = mkdtempSync(join(tmpdir(), 'pb-validate-'));
  dirs.push(dir);
  const root = join(dir, 'repo');
  cpSync(FIXTURE, root, { recursive: true });
  const g = (...args: string[]): string =>
    execFileSync('git', args, { cwd: root, env, encoding: 'utf8' });
  g('init', '-q', '-b', 'main');
  g('add', '.');
  g('commit', '-q', '-m', 'fixture');
  const baseline = await runBaseline({
    root,
    detect: detectedWith(commands),
    artifactsDir: join(dir, 'artifacts'),
    env,
    log: createSilentLogger(),
  });
  /** A candidate whose diff replaces `from` with `to` in `file`, made with git itself. */
  const candidate = (id: string, file: string, from: string, to: string): Candidate => {
    const path = join(root, file);
    const before = readFileSync(path, 'utf8');
    expect(before).toContain(from);
    writeFileSync(path, before.replace(from, to));
    const diff = g('diff', '--', file);
    g('checkout', '--', file);
    return {
      id,
      rule: 'memoize-pure-function',
      file,
      line: 1,
      diff,
      explanation: id,
      files: [file],
      changedLines: 2,
    };
  };
  return { baseline, candidate, workRoot: join(dir, 'candidates') };
}

const MEMO_FIB = [
  'function fib(n) {\n  return n < 2 ? n : fib(n - 1) + fib(n - 2);\n}',
  'const fibCache = new Map();\nfunction fib(n) {\n  let v = fibCache.get(n);\n  if (v === undefined) {\n    v = n < 2 ? n : fib(n - 1) + fib(n - 2);\n    fibCache.set(n, v);\n  }\n  return v;\n}',
] as const;

describe('optimizer validation of one candidate', () => {
  it('accepts a real speedup measured interleaved against the base, in a worktree without reinstalling', async () => {
    const { baseline, candidate, workRoot } = await setup({
      test: 'npm test',
      bench: 'npm run bench',
    });
    const result = await validateCandidate({
      baseline,
      candidate: candidate('memo-fib', 'src/fib.js', ...MEMO_FIB),
      workRoot,
      env,
      log: createSilentLogger(),
      math,
      samples: 6,
    });
    expect(result.status, result.reason).toBe('accepted');
    expect(result.steps).toEqual([
      { kind: 'test', ok: true, durationMs: expect.any(Number), flaky: false },
    ]);
    const fib = result.benchmarks.find((b) => b.name === 'fibonacciTable')!;
    expect(fib.base).toHaveLength(6);
    expect(fib.candidate).toHaveLength(6);
    expect(fib.verdict.accepted).toBe(true);
    // The worktree is gone; the base repository is untouched.
    expect(
      execFileSync('git', ['worktree', 'list'], { cwd: baseline.root, encoding: 'utf8' })
        .trim()
        .split('\n'),
    ).toHaveLength(1);
    expect(readFileSync(join(baseline.root, 'src/fib.js'), 'utf8')).toContain(MEMO_FIB[0]);
  }, 120_000);

  it('rejects a patch that breaks a test (a trap rewritten), before any benchmark', async () => {
    const { baseline, candidate, workRoot } = await setup({
      test: 'npm test',
      bench: 'npm run bench',
    });
    const result = await validateCandidate({
      baseline,
      // Mutating the shared seed: the accumulating-spread template's guard exists for this.
      candidate: candidate(
        'bad-reduce',
        'src/traps.js',
        'pairs.reduce((acc, [k, v]) => ({ ...acc, [k]: v }), BASE)',
        'pairs.reduce((acc, [k, v]) => { acc[k] = v; return acc; }, BASE)',
      ),
      workRoot,
      env,
      log: createSilentLogger(),
      math,
      samples: 3,
    });
    expect(result.status).toBe('rejected');
    expect(result.reason).toMatch(/^test failed with the patch/);
    expect(result.steps).toMatchObject([{ kind: 'test', ok: false, flaky: false }]);
    expect(result.benchmarks).toEqual([]);
  }, 120_000);

  it('without a benchmark a passing candidate is only a safe refactor; a diff that does not apply is rejected', async () => {
    const { baseline, candidate, workRoot } = await setup({ test: 'npm test' });
    const ok = await validateCandidate({
      baseline,
      candidate: candidate('memo-fib', 'src/fib.js', ...MEMO_FIB),
      workRoot,
      env,
      log: createSilentLogger(),
      math,
    });
    expect(ok.status).toBe('safe-refactor');
    const broken = candidate('memo-fib-2', 'src/fib.js', ...MEMO_FIB);
    const stale = {
      ...broken,
      id: 'stale',
      diff: broken.diff.replace('-  return n < 2', '-  return n < 3'),
    };
    const refused = await validateCandidate({
      baseline,
      candidate: stale,
      workRoot,
      env,
      log: createSilentLogger(),
      math,
    });
    expect(refused.status).toBe('rejected');
    expect(refused.reason).toMatch(/does not apply/);
  }, 120_000);
});
