import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkCoverage, MIN_HITS_PER_BENCHMARK } from './coverage.js';
import { attributeSegments, type SplitProcess } from './coverage-segments.js';

/**
 * Recorded coverage splits (test/fixtures/coverage-segments/README.md): each harness ran a
 * script whose `join` task calls `join3` of lib.cjs, the changed function, with the snapshot
 * hook on. Only lib.cjs's script is kept of each coverage file.
 */
const fixtures = join(import.meta.dirname, '../../test/fixtures/coverage-segments');
const tmp = mkdtempSync(join(tmpdir(), 'patchbay-cov-recorded-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function recorded(name: string): Promise<string[] | undefined> {
  const from = join(fixtures, name);
  const root = join(tmp, name);
  const coverageDir = join(root, '.cov');
  const segmentsDir = join(root, '.seg');
  mkdirSync(coverageDir, { recursive: true });
  mkdirSync(segmentsDir);
  const lib = readFileSync(join(fixtures, 'scripts/lib.cjs'), 'utf8');
  writeFileSync(join(root, 'lib.cjs'), lib.replace("[a, b, c].join('-')", "a + '-' + b + '-' + c"));
  const url = pathToFileURL(join(root, 'lib.cjs')).href;
  for (const file of readdirSync(from)) {
    if (file.startsWith('coverage-')) {
      const text = readFileSync(join(from, file), 'utf8').replaceAll('file:///ROOT/lib.cjs', url);
      writeFileSync(join(coverageDir, file), text);
    } else if (file.startsWith('segments-')) {
      cpSync(join(from, file), join(segmentsDir, file));
    }
  }
  const finding = await checkCoverage({
    root,
    diff: readFileSync(join(from, 'diff.patch'), 'utf8'),
    files: ['lib.cjs'],
    coverageDir,
    segmentsDir,
  });
  expect(finding.executed).toBe(true);
  return finding.benchmarks?.slice().sort();
}

describe('coverage split by benchmark, on recorded harness runs', () => {
  it('tinybench: a title line then the table, both after the run, still names the benchmarks', async () => {
    // fastify/secure-json-parse's shape: the title's snapshot holds all the work, the table's
    // none. Split by line alone, no benchmark ran the change: a wrong early rejection.
    expect(await recorded('tinybench-title-table')).toEqual(['concat', 'join']);
  });

  it('tinybench: one table at the end counts for every benchmark in it', async () => {
    expect(await recorded('tinybench-table')).toEqual(['concat', 'join']);
  });

  it('benchmark.js: a result per cycle names only the benchmark that ran the change', async () => {
    expect(await recorded('benchmark-cycle')).toEqual(['join']);
  });

  it('benchmark.js: the change run once in setup, by no benchmark, leaves none', async () => {
    expect(await recorded('benchmark-setup-only')).toEqual([]);
  });

  it('mitata: header lines before the first result count for that result', async () => {
    const names = await recorded('mitata');
    expect(names).toContain('join');
    expect(names).not.toContain('concat');
  });

  it('fastbench: two rounds, the second replacing the first, names join in each', async () => {
    expect(await recorded('fastbench')).toEqual(['join']);
  });

  it('cronometro: the work runs in worker threads, so the split says nothing', async () => {
    expect(await recorded('cronometro')).toBeUndefined();
  });
});

describe('attributeSegments: what cannot be attributed is never "no benchmark"', () => {
  const line = (at: number, text: string) => ({ at, text });
  const row = (name: string): string => `${name} x 1,000 ops/sec ±1.00% (50 runs sampled)\n`;
  const one: SplitProcess = { pid: '7', segments: [line(1, row('a')), line(2, row('b'))] };
  const files = ['coverage-7-10-0.json', 'coverage-7-20-0.json', 'coverage-7-30-0.json'];
  const hits =
    (counts: Record<string, number>) =>
    (file: string): number =>
      counts[file] ?? 0;

  it('names the benchmark whose stretch ran the change at least twice', () => {
    const got = attributeSegments([one], files, hits({ [files[1]!]: 5 }), MIN_HITS_PER_BENCHMARK);
    expect(got).toEqual(['b']);
    expect(attributeSegments([one], files, hits({ [files[1]!]: 1 }), 2)).toEqual([]);
  });

  it('work after the last result (the exit snapshot) gives no answer', () => {
    expect(attributeSegments([one], files, hits({ [files[2]!]: 1 }), 2)).toBeUndefined();
  });

  it('a lost file (the exit one in the same millisecond) gives no answer', () => {
    expect(
      attributeSegments([one], files.slice(0, 2), hits({ [files[0]!]: 1 }), 2),
    ).toBeUndefined();
  });

  it('a process that ran the change without a log (a tool, unsplit) gives no answer', () => {
    const tool = 'coverage-9-15-0.json';
    expect(attributeSegments([one], [...files, tool], hits({ [tool]: 3 }), 2)).toBeUndefined();
    expect(attributeSegments([one], [...files, tool], hits({}), 2)).toEqual([]);
  });

  it('names follow the whole output across processes, and parallel ones give no answer', () => {
    const two: SplitProcess = { pid: '8', segments: [line(5, row('a')), line(6, row('b'))] };
    const more = ['coverage-8-40-0.json', 'coverage-8-50-0.json', 'coverage-8-60-0.json'];
    const counts = hits({ [more[0]!]: 9 });
    expect(attributeSegments([two, one], [...files, ...more], counts, 2)).toEqual(['a #2']);
    const parallel: SplitProcess = { ...two, segments: [line(1.5, row('a')), line(6, row('b'))] };
    expect(attributeSegments([one, parallel], [...files, ...more], counts, 2)).toBeUndefined();
  });
});
