import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../observability/index.js';
import { optimizerTestEnv } from '../../test/helpers/optimizer.js';
import { benchCoverage } from './coverage.js';

const dir = mkdtempSync(join(tmpdir(), 'patchbay-cov-segments-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = optimizerTestEnv();

const LIB = `export function parse(s) {
  return s.split(',');
}
export function other(s) {
  return s.length;
}
`;
/**
 * Three benchmarks printed one by one, as benchmark.js's `cycle` does; one runs `parse` in its
 * loop, one only once in its setup.
 */
const BENCH = `import { parse, other } from './lib.js';
const line = (name) => console.log(name + ' x 1,000 ops/sec ±1.00% (50 runs sampled)');
let sink = 0;
// Setup that calls the changed function once: not what \`other\` measures.
sink += parse('x,y').length;
for (let i = 0; i < 1000; i++) sink += other('abc' + i);
line('other');
for (let i = 0; i < 1000; i++) sink += parse('a,b,' + i).length;
line('parse');
for (let i = 0; i < 1000; i++) sink += String(i).length;
process.stdout.write('strings x 0 ops/sec ±0.00% (0 runs sampled)\\rstrings x 2,000 ops/sec ±1.00% (50 runs sampled)\\n');
if (sink < 0) console.log(sink);
`;

function repo(name: string, bench: string): { root: string; diff: string } {
  const root = join(dir, name);
  mkdirSync(root);
  writeFileSync(join(root, 'package.json'), '{"type":"module"}\n');
  writeFileSync(join(root, 'lib.js'), LIB);
  writeFileSync(join(root, 'bench.js'), bench);
  const git = (...args: string[]): string =>
    execFileSync('git', args, { cwd: root, env, encoding: 'utf8' });
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', 'fixture');
  writeFileSync(join(root, 'lib.js'), LIB.replace("s.split(',')", "s.split(',', 100)"));
  return { root, diff: git('diff') };
}

describe('coverage split by benchmark', () => {
  it('names only the benchmarks whose own stretch ran the changed lines, more than once', async () => {
    const { root, diff } = repo('split', BENCH);
    const { run, finding } = await benchCoverage({
      root,
      diff,
      files: ['lib.js'],
      command: 'node bench.js',
      env,
      log: createSilentLogger(),
      coverageDir: join(dir, 'split.coverage'),
    });
    expect(run.ok).toBe(true);
    // The hook prints nothing of its own: the output is the benchmark's.
    expect(run.output.trim().split('\n')).toHaveLength(3);
    expect(finding).toMatchObject({ executed: true, benchmarks: ['parse'] });
  }, 60_000);

  it('a harness that prints everything at the end leaves every benchmark judged', async () => {
    // One write of every result at the end, as a JSON or a table is printed.
    const atEnd = [
      "import { parse, other } from './lib.js';",
      'let sink = 0;',
      "for (let i = 0; i < 1000; i++) sink += other('abc' + i) + parse('a,' + i).length;",
      "const row = (name) => name + ' x 1,000 ops/sec ±1.00% (50 runs sampled)\\n';",
      "process.stdout.write(row('other') + row('parse') + row('strings'));",
      '',
    ].join('\n');
    const { root, diff } = repo('at-end', atEnd);
    const { finding } = await benchCoverage({
      root,
      diff,
      files: ['lib.js'],
      command: 'node bench.js',
      env,
      log: createSilentLogger(),
      coverageDir: join(dir, 'at-end.coverage'),
    });
    expect(finding?.executed).toBe(true);
    // One stretch for all three: none can be told apart, every one is judged.
    expect(finding?.benchmarks?.sort()).toEqual(['other', 'parse', 'strings']);
  }, 60_000);
});
