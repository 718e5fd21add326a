import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Candidate } from '../contracts/index.js';
import { optimizerTestEnv } from '../../test/helpers/optimizer.js';
import { byHeat, candidateHeat, coldRefusal } from './bench-heat.js';

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
    expect(existsSync(coverageDir)).toBe(true); // the pipeline removes it, not candidateHeat
  });
});
