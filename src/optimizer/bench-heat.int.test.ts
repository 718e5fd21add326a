import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Opportunity } from '../contracts/index.js';
import { optimizerTestEnv } from '../../test/helpers/optimizer.js';
import { coldRefusal, withBenchHeat } from './bench-heat.js';

const root = mkdtempSync(join(tmpdir(), 'pb-bench-heat-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

writeFileSync(
  join(root, 'lib.js'),
  [
    'exports.hot = function hot(s) {', // 1
    '  return /a+/.test(s);', // 2
    '};', // 3
    'exports.setup = function setup(s) {', // 4
    '  return s.match(/b/) !== null;', // 5
    '};', // 6
    'exports.cold = function cold(s) {', // 7
    "  return s.indexOf('c') !== -1;", // 8
    '};', // 9
    '',
  ].join('\n'),
);
writeFileSync(
  join(root, 'bench.js'),
  [
    "const lib = require('./lib.js');",
    "lib.setup('abc');",
    'let n = 0;',
    "for (let i = 0; i < 500; i++) if (lib.hot('aa' + i)) n++;",
    "console.log('hot x ' + n + ' ops/sec');",
  ].join('\n'),
);
writeFileSync(join(root, 'other.js'), 'module.exports = 1;\n');

const opportunity = (
  file: string,
  line: number,
  template: boolean,
  score: number,
): Opportunity => ({
  rule: 'prefer-regexp-test',
  file,
  line,
  column: 3,
  endLine: line,
  endColumn: 10,
  rationale: '',
  risk: 'low',
  expectedEffect: '',
  template: template ? 'prefer-regexp-test' : null,
  score,
  hot: true,
});

describe('the benchmark heat of opportunities (baseline coverage)', () => {
  it('orders what the benchmark runs first, refuses what it runs at most once', async () => {
    const coverageDir = join(root, 'coverage');
    execFileSync(process.execPath, ['bench.js'], {
      cwd: root,
      env: { ...optimizerTestEnv(), NODE_V8_COVERAGE: coverageDir },
    });
    const found = [
      opportunity('lib.js', 8, true, 9), // never run
      opportunity('lib.js', 5, true, 8), // run once, in setup
      opportunity('other.js', 1, true, 7), // a file the benchmark never loads: cannot tell
      opportunity('lib.js', 2, false, 6), // no template: not measured
      opportunity('lib.js', 2, true, 5), // the loop: 500 runs
    ];
    const ordered = await withBenchHeat(root, coverageDir, found, false);
    expect(ordered.map((o) => [o.file, o.line, o.template !== null, o.benchHits])).toEqual([
      ['lib.js', 2, true, 500],
      ['other.js', 1, true, null],
      ['lib.js', 8, true, 0],
      ['lib.js', 5, true, 1],
      ['lib.js', 2, false, undefined],
    ]);
    expect(existsSync(coverageDir)).toBe(false);
    expect(ordered.map((o) => coldRefusal(o)?.code)).toEqual([
      undefined,
      undefined,
      'BENCH_DOES_NOT_RUN_IT',
      'BENCH_DOES_NOT_RUN_IT',
      undefined,
    ]);
    expect(coldRefusal(ordered[3]!)?.message).toMatch(/only once/);
  });
});
