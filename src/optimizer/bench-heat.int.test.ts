import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Candidate } from '../contracts/index.js';
import { optimizerTestEnv } from '../../test/helpers/optimizer.js';
import { byHeat, candidateHeat, coldRefusal, planByHeat } from './bench-heat.js';

const root = mkdtempSync(join(tmpdir(), 'pb-bench-heat-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const env = optimizerTestEnv();
const git = (...args: string[]) => execFileSync('git', args, { cwd: root, env, encoding: 'utf8' });

const LIB = [
  "const WORDS = ['a', 'b', 'c'];", // 1: module level, runs once
  'exports.hot = function hot(s) {', // 2
  '  return /a+/.test(s) && WORDS.includes(s[0]);', // 3: the benchmark's loop
  '};', // 4
  'exports.setup = function setup(s) {', // 5
  '  return s.match(/b/) !== null;', // 6: once, in the benchmark's setup
  '};', // 7
  'exports.cold = function cold(s) {', // 8
  "  return s.indexOf('c') !== -1;", // 9: never
  '};', // 10
  '',
].join('\n');
writeFileSync(join(root, 'lib.js'), LIB);
writeFileSync(join(root, 'other.js'), 'module.exports = function other() {\n  return 1;\n};\n');
writeFileSync(
  join(root, 'bench.js'),
  [
    "const lib = require('./lib.js');",
    "lib.setup('abc');",
    'let n = 0;',
    "for (let i = 0; i < 500; i++) if (lib.hot('aa' + i)) n++;",
    "console.log('hot x ' + n + ' ops/sec');",
    '',
  ].join('\n'),
);
git('init', '-q', '-b', 'main');
git('add', '.');
git('commit', '-q', '-m', 'fixture');

/** A candidate whose diff replaces `from` with `to` in `file` (made with git, then undone). */
function candidate(id: string, file: string, from: string, to: string): Candidate {
  const text = readFileSync(join(root, file), 'utf8');
  writeFileSync(join(root, file), text.replace(from, to));
  const diff = git('diff');
  git('checkout', '--', file);
  return {
    id,
    rule: 'prefer-regexp-test',
    file,
    line: 1,
    diff,
    explanation: '',
    files: [file],
    changedLines: 2,
  };
}

describe('the benchmark heat of candidates (the baseline benchmark run with coverage)', () => {
  it('orders what the benchmark runs first and refuses what it runs at most once', async () => {
    const coverageDir = join(root, 'coverage');
    execFileSync(process.execPath, ['bench.js'], {
      cwd: root,
      env: { ...env, NODE_V8_COVERAGE: coverageDir },
    });
    const candidates = [
      candidate('cold', 'lib.js', "s.indexOf('c') !== -1", "s.includes('c')"),
      candidate('setup', 'lib.js', 's.match(/b/) !== null', '/b/.test(s)'),
      candidate('unloaded', 'other.js', 'return 1;', 'return 2 - 1;'),
      // A declaration at module level (run once) and its use in the loop: the use decides.
      candidate(
        'set-has',
        'lib.js',
        "const WORDS = ['a', 'b', 'c'];\nexports.hot = function hot(s) {\n  return /a+/.test(s) && WORDS.includes(s[0]);",
        "const WORDS = new Set(['a', 'b', 'c']);\nexports.hot = function hot(s) {\n  return /a+/.test(s) && WORDS.has(s[0]);",
      ),
    ];
    const heat = await candidateHeat(root, coverageDir, candidates);
    expect(heat).toEqual([0, 1, null, 500]);
    const planned = candidates.map((c, i) => ({ candidate: { ...c, benchHits: heat[i]! } }));
    expect(byHeat(planned).map((p) => p.candidate.id)).toEqual([
      'set-has',
      'unloaded',
      'cold',
      'setup',
    ]);
    expect(planned.map((p) => coldRefusal(p.candidate)?.code)).toEqual([
      'BENCH_DOES_NOT_RUN_IT',
      'BENCH_DOES_NOT_RUN_IT',
      undefined,
      undefined,
    ]);
    expect(coldRefusal(planned[1]!.candidate)?.message).toMatch(/only once/);
    expect(coldRefusal({ ...candidates[0]! })).toBeUndefined(); // not measured: no refusal
    expect(existsSync(coverageDir)).toBe(true); // planByHeat removes it, not candidateHeat

    // The patch stage's plan: hot first, cold apart with their reason, the coverage removed.
    const written = candidates.map((candidate) => ({ candidate }));
    const plan = await planByHeat(root, coverageDir, written, false);
    expect(plan.ordered.map((p) => p.candidate.id)).toEqual(['set-has', 'unloaded']);
    expect(plan.cold.map((c) => [c.planned.candidate.id, c.rejection.code])).toEqual([
      ['cold', 'BENCH_DOES_NOT_RUN_IT'],
      ['setup', 'BENCH_DOES_NOT_RUN_IT'],
    ]);
    expect(existsSync(coverageDir)).toBe(false);
    // Without the coverage (a second stage run, an older optimization): as written, nothing refused.
    const again = await planByHeat(root, coverageDir, written, false);
    expect(again).toEqual({ ordered: written, cold: [] });
  });

  it('asked for safe refactors, cold candidates are kept, last', async () => {
    const coverageDir = join(root, 'coverage-safe');
    execFileSync(process.execPath, ['bench.js'], {
      cwd: root,
      env: { ...env, NODE_V8_COVERAGE: coverageDir },
    });
    const written = [
      { candidate: candidate('cold', 'lib.js', "s.indexOf('c') !== -1", "s.includes('c')") },
      { candidate: candidate('hot', 'lib.js', '/a+/.test(s)', '/a+/.test(s) === true') },
    ];
    const plan = await planByHeat(root, coverageDir, written, true);
    expect(plan.ordered.map((p) => [p.candidate.id, p.candidate.benchHits])).toEqual([
      ['hot', 500],
      ['cold', 0],
    ]);
    expect(plan.cold).toEqual([]);
  });
});
