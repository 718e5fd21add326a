import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CommandKind } from '../contracts/index.js';
import { createSilentLogger } from '../observability/index.js';
import { readBenchOutput } from './bench-output.js';
import { judgeFamily } from './family.js';
import { validateCandidate, type ValidationMath } from './validate.js';
import { committedBaseline, optimizerTestEnv } from '../../test/helpers/optimizer.js';

/**
 * The structural checks before and after benchmarking (perf-validation.md step 5) on small
 * repositories written here: coverage through compiled TypeScript, with and without source
 * maps, and benchmarks that measure an empty loop.
 */

const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const env = optimizerTestEnv();
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** What the optimizer does: harness readers with per-op times, the real statistics. */
const math: ValidationMath = {
  read: readBenchOutput,
  judge: (members) => judgeFamily(members),
};

/** `files` as a committed repository, its baseline run, and a candidate maker. */
async function setup(
  files: Record<string, string>,
  commands: Partial<Record<CommandKind, string>>,
) {
  const dir = mkdtempSync(join(tmpdir(), 'pb-structural-'));
  dirs.push(dir);
  const root = join(dir, 'repo');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return committedBaseline(dir, commands, env);
}

/** A TypeScript library whose benchmark runs the compiled dist/, calling `sum` only. */
function typescriptRepo(sourceMap: boolean): Record<string, string> {
  return {
    '.gitignore': 'dist\n',
    'package.json': JSON.stringify({ name: 'ts-lib', type: 'module' }),
    'tsconfig.json': JSON.stringify({
      compilerOptions: {
        outDir: 'dist',
        rootDir: 'src',
        module: 'nodenext',
        target: 'es2022',
        strict: true,
        sourceMap,
      },
      include: ['src'],
    }),
    'src/math.ts': [
      'export function sum(n: number): number {',
      '  let s = 0;',
      '  for (let i = 0; i < n; i++) s += i;',
      '  return s;',
      '}',
      '',
      'export function double(n: number): number {',
      '  return n * 2;',
      '}',
      '',
    ].join('\n'),
    'bench/run.js': [
      "import { sum } from '../dist/math.js';",
      'const t0 = performance.now();',
      'let n = 0;',
      'while (performance.now() - t0 < 30) { sum(1000); n++; }',
      'const hz = n / ((performance.now() - t0) / 1000);',
      "console.log(`sum x ${Math.round(hz).toLocaleString('en-US')} ops/sec ±1.00% (10 runs sampled)`);",
      '',
    ].join('\n'),
  };
}

const TS_COMMANDS = { build: `node ${TSC} -p .`, bench: 'node bench/run.js' };

describe('coverage of the change through compiled TypeScript', () => {
  it('with source maps: a change to a function the benchmark never calls is rejected, mapped back to src/', async () => {
    const { baseline, candidate, workRoot } = await setup(typescriptRepo(true), TS_COMMANDS);
    const untouched = await validateCandidate({
      baseline,
      candidate: candidate('double', 'src/math.ts', 'return n * 2;', 'return n + n;'),
      workRoot,
      env,
      log: createSilentLogger(),
      math,
      samples: 4,
    });
    expect(untouched.reason).toBe('the benchmark never executes the changed code (src/math.ts:8)');
    expect(untouched.status).toBe('rejected');
    expect(untouched.benchmarks).toEqual([]);

    const called = await validateCandidate({
      baseline,
      candidate: candidate('sum', 'src/math.ts', 'let s = 0;', 'let s = 0 * n;'),
      workRoot,
      env,
      log: createSilentLogger(),
      math,
      samples: 2,
    });
    expect(called.coverage).toMatchObject({ executed: true, ran: ['src/math.ts:2'] });
    expect(called.benchmarks.map((b) => b.name)).toEqual(['sum']);
  }, 120_000);

  it('without source maps nothing maps to src/: coverage is unknown and the candidate is benchmarked', async () => {
    const { baseline, candidate, workRoot } = await setup(typescriptRepo(false), TS_COMMANDS);
    const result = await validateCandidate({
      baseline,
      candidate: candidate('double', 'src/math.ts', 'return n * 2;', 'return n + n;'),
      workRoot,
      env,
      log: createSilentLogger(),
      math,
      samples: 2,
    });
    expect(result.coverage).toMatchObject({ executed: 'unknown', changed: ['src/math.ts:8'] });
    expect(result.coverage!.note).toMatch(/^no coverage maps to src\/math\.ts/);
    expect(result.benchmarks.map((b) => [b.name, b.base.length, b.candidate.length])).toEqual([
      ['sum', 2, 2],
    ]);
    expect(result.reason).toMatch(/not known whether the benchmark runs the change/);
  }, 120_000);
});

/**
 * A benchmark printing benchmark.js lines: `empty` claims 10^12 ops/s (0.001 ns per op, far
 * below any empty loop: the work is gone), times `rate()`'s factor; `real` claims 1 000 ops/s.
 * Both jitter by 2 %, less than the 3 % bar, so only a real change of `rate()` can pass it.
 */
const SYNTHETIC = {
  'package.json': JSON.stringify({ name: 'synthetic', type: 'module' }),
  'src/speed.js': 'export function rate() {\n  return 1;\n}\n',
  'bench/run.js': [
    "import { rate } from '../src/speed.js';",
    'const jitter = () => 1 + Math.random() * 0.02;',
    'const line = (name, hz) =>',
    "  console.log(`${name} x ${Math.round(hz).toLocaleString('en-US')} ops/sec ±0.50% (50 runs sampled)`);",
    // rate() three times: a benchmark must run the change more than once to be judged at all.
    "line('empty', 1e12 * ((rate() * rate()) / rate()) * jitter());",
    "if (process.argv[2] !== 'empty-only') line('real', 1000 * jitter());",
    '',
  ].join('\n'),
};

describe('benchmarks within 1.4× of an empty function', () => {
  it('are flagged and left out of the decision: a 2× "speedup" there proves nothing', async () => {
    const { baseline, candidate, workRoot } = await setup(SYNTHETIC, {
      bench: 'node bench/run.js',
    });
    const doubled = candidate('double-rate', 'src/speed.js', 'return 1;', 'return 2;');
    const result = await validateCandidate({
      baseline,
      candidate: doubled,
      workRoot,
      env,
      log: createSilentLogger(),
      math,
      samples: 6,
    });
    const empty = result.benchmarks.find((b) => b.name === 'empty')!;
    const real = result.benchmarks.find((b) => b.name === 'real')!;
    // The statistics alone would have accepted `empty`.
    expect(empty.verdict.accepted).toBe(true);
    expect(empty.optimizedOut).toBe(true);
    expect(real.optimizedOut).toBe(false);
    expect(result.status).toBe('rejected');
    // `real` never calls the changed function: coverage split by benchmark leaves it unjudged.
    expect(real.judged).toBe(false);
    expect(result.reason).toMatch(/^no benchmark to judge the candidate on; /);
    expect(result.reason).toMatch(
      /ignored as optimized out \(within 1\.4× an empty function's [\d.]+ ns\): empty; /,
    );
    expect(result.reason).toMatch(
      /not judged, coverage shows they do not run the change \(or only once\): real$/,
    );
    // The no-op was measured in its own process, timed both ways, and kept for the run.
    expect(result.noop!.batchedNs).toBeGreaterThan(0);
    expect(result.noop!.perCallNs).toBeGreaterThan(result.noop!.batchedNs);
    expect(existsSync(join(workRoot, 'noop.json'))).toBe(true);

    const again = await validateCandidate({
      baseline,
      candidate: { ...doubled, id: 'double-rate-2' },
      workRoot,
      env,
      log: createSilentLogger(),
      math,
      samples: 2,
    });
    expect(again.noop).toEqual(result.noop);
  }, 120_000);

  it('when every benchmark is, the candidate is rejected for it', async () => {
    const { baseline, candidate, workRoot } = await setup(SYNTHETIC, {
      bench: 'node bench/run.js empty-only',
    });
    const result = await validateCandidate({
      baseline,
      candidate: candidate('double-rate', 'src/speed.js', 'return 1;', 'return 2;'),
      workRoot,
      env,
      log: createSilentLogger(),
      math,
      samples: 6,
    });
    expect(result.status).toBe('rejected');
    expect(result.reason).toMatch(
      /^every benchmark runs within 1\.4× an empty function's [\d.]+ ns \(empty\): the engine has probably optimized the work out/,
    );
    expect(result.benchmarks).toMatchObject([{ name: 'empty', optimizedOut: true }]);
  }, 120_000);
});

describe('coverage split by benchmark', () => {
  it('spares the pairs when no benchmark runs the change more than once', async () => {
    const once = {
      ...SYNTHETIC,
      'bench/run.js': SYNTHETIC['bench/run.js'].replace('((rate() * rate()) / rate())', 'rate()'),
    };
    const { baseline, candidate, workRoot } = await setup(once, { bench: 'node bench/run.js' });
    const result = await validateCandidate({
      baseline,
      candidate: candidate('double-rate', 'src/speed.js', 'return 1;', 'return 2;'),
      workRoot,
      env,
      log: createSilentLogger(),
      math,
      samples: 6,
    });
    expect(result.coverage).toMatchObject({ executed: true, benchmarks: [] });
    expect(result.status).toBe('rejected');
    expect(result.reason).toMatch(/^no benchmark runs the changed code more than once/);
    // Decided on the coverage run alone: no base/candidate pair was run.
    expect(result.benchmarks).toEqual([]);
  }, 120_000);
});
