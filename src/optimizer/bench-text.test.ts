import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBenchOutput, readBenchOutput, type BenchmarkValue } from './bench-output.js';

/** Real output of each harness (test/fixtures/bench-output/recorded/README.md says how). */
const recorded = (name: string): string =>
  readFileSync(
    join(import.meta.dirname, '../../test/fixtures/bench-output/recorded', name),
    'utf8',
  );

const summary = (benchmarks: BenchmarkValue[]): [string, number, string, string][] =>
  benchmarks.map((b) => [b.name, b.value, b.unit, b.statistic]);

describe('parseBenchOutput on recorded harness output', () => {
  it('tinybench 6 console.table: the median latency per task', () => {
    const output = parseBenchOutput(recorded('tinybench-6.2.5.txt'));
    expect(output.harness).toBe('tinybench');
    expect(summary(output.benchmarks)).toEqual([
      ['join', 87, 'ns', 'p50'],
      ['concat', 34, 'ns', 'p50'],
    ]);
  });

  it('benchmark.js 2: ops/sec per cycle line, "Fastest is" ignored', () => {
    const output = parseBenchOutput(recorded('benchmark-2.1.4.txt'));
    expect(output.harness).toBe('benchmark.js');
    expect(summary(output.benchmarks)).toEqual([
      ['join', 5019137, 'ops/s', 'hz'],
      ['concat', 392057532, 'ops/s', 'hz'],
    ]);
  });

  it('mitata 1 default text: the average per iteration, each in its unit (ns, ps)', () => {
    const output = parseBenchOutput(recorded('mitata-1.0.34.txt'));
    expect(output.harness).toBe('mitata');
    expect(output.benchmarks.map((b) => b.name)).toEqual(['join', 'concat']);
    expect(output.benchmarks[0]).toMatchObject({ value: 163.4, unit: 'ns', statistic: 'mean' });
    expect(output.benchmarks[1]?.value).toBeCloseTo(0.22267, 6); // 222.67 ps
  });

  it('cronometro 4: both halves of its table (slower and fastest), op/sec with samples', () => {
    const output = parseBenchOutput(recorded('cronometro-4.0.3.txt'));
    expect(output.harness).toBe('cronometro');
    expect(summary(output.benchmarks)).toEqual([
      ['join', 1640325.77, 'ops/s', 'hz'],
      ['concat', 2246176.45, 'ops/s', 'hz'],
    ]);
    expect(output.benchmarks[0]?.samples).toBe(2000);
  });

  it('fastbench 1: the last round per benchmark (the first warms up), ns per iteration', () => {
    const output = parseBenchOutput(recorded('fastbench-1.0.1.txt'));
    expect(output.harness).toBe('fastbench');
    expect(output.benchmarks.map((b) => b.name)).toEqual(['join', 'concat']);
    expect(output.benchmarks[0]?.value).toBeCloseTo(2384.8, 6); // 23.848 ms / 10000
    expect(output.benchmarks[1]?.value).toBeCloseTo(2453.7, 6);
  });

  it('fastbench past a second, as pinojs/quick-format-unescaped prints it (recorded)', () => {
    const output = parseBenchOutput(recorded('quick-format-unescaped-fastbench.txt'));
    expect(output.harness).toBe('fastbench');
    expect(output.benchmarks.map((b) => [b.name, Math.round(b.value * 100) / 100])).toEqual([
      ['util', 4965.1],
      ['quick', 4686.34],
      ['utilWithTailObj', 11400],
      ['quickWithTailObj', 4669.43],
    ]);
  });

  it('`1000000*name: 3.8s` loops, as mcollina/fastq bench.js prints them (recorded)', () => {
    const output = parseBenchOutput(recorded('fastq-bench.txt'));
    expect(output.harness).toBe('fastbench');
    expect(output.benchmarks.map((b) => [b.name, Math.round(b.value)])).toEqual([
      ['benchSetImmediate', 3037],
      ['benchFastQ', 3706],
      ['benchNeoQueue', 1013],
      ['benchAsyncQueue', 5580],
      ['benchFastQPromise', 3676],
    ]);
  });

  it('vitest 4 bench reporter: throughput per row, named by file and group', () => {
    const output = parseBenchOutput(recorded('vitest-4.1.12.txt'));
    expect(output.harness).toBe('vitest');
    expect(summary(output.benchmarks)).toEqual([
      ['s.bench.mjs > strings > join', 3377954.17, 'ops/s', 'hz'],
      ['s.bench.mjs > strings > concat', 7906654.6, 'ops/s', 'hz'],
    ]);
    expect(output.benchmarks[0]?.samples).toBe(677254);
  });

  it('benchmarkify 2 and 4: one line per benchmark (rps, ops/sec), the summary not read', () => {
    for (const [file, concat, join] of [
      ['benchmarkify-2.1.3.txt', 1105368, 662864],
      ['benchmarkify-4.0.0.txt', 844997, 437677],
    ] as const) {
      const output = parseBenchOutput(recorded(file));
      expect(output.harness, file).toBe('benchmarkify');
      expect(summary(output.benchmarks), file).toEqual([
        ['join', join, 'ops/s', 'hz'],
        ['concat', concat, 'ops/s', 'hz'],
      ]);
    }
    // Thousands grouped with a space, as benchmarkify 4 prints them in some locales.
    expect(summary(parseBenchOutput("√ Concat with '+'   105 533 ops/sec\n").benchmarks)).toEqual([
      ["Concat with '+'", 105533, 'ops/s', 'hz'],
    ]);
  });

  it("any count per second: node-uuid's own benchmark (uuids/second), requests/second", () => {
    const output = parseBenchOutput(recorded('node-uuid-benchmark.txt'));
    expect(output.harness).toBe('ops/sec');
    expect(output.benchmarks.map((b) => b.name)).toEqual([
      'nodeuuid.v4() - using node.js crypto RNG',
      'nodeuuid.v4() - using Math.random() RNG',
      "nodeuuid.v4('binary')",
      "nodeuuid.v4('binary', buffer)",
      '140byte.es_v4',
      'nodeuuid.v1()',
      "nodeuuid.v1('binary')",
      "nodeuuid.v1('binary', buffer)",
    ]);
    expect(output.benchmarks.every((b) => b.value > 0 && b.unit === 'ops/s')).toBe(true);
    expect(
      summary(parseBenchOutput('XML Parser benchmark:14000.5 requests/second\n').benchmarks),
    ).toEqual([['XML Parser benchmark', 14000.5, 'ops/s', 'hz']]);
  });

  it('plain ops/sec lines, with or without a colon', () => {
    const output = parseBenchOutput('parse: 1,234,567 ops/sec\nstringify 89.5 op/s\n');
    expect(output.harness).toBe('ops/sec');
    expect(summary(output.benchmarks)).toEqual([
      ['parse', 1234567, 'ops/s', 'hz'],
      ['stringify', 89.5, 'ops/s', 'hz'],
    ]);
  });

  it('console.timeEnd lines are whole timed loops: lower is better, never a per-op time', () => {
    const text = 'benchFastQ: 43.211ms\nbenchAsyncQueue: 1.203s\n';
    expect(parseBenchOutput(text).harness).toBe('console.time');
    expect(readBenchOutput(text, 2000)).toEqual([
      { name: 'benchFastQ', value: 43.211e6 },
      { name: 'benchAsyncQueue', value: 1203e6 },
    ]);
  });

  it('output no reader knows is still the whole command, timed', () => {
    expect(parseBenchOutput('done\n', { elapsedMs: 12 })).toMatchObject({ harness: 'command' });
  });
});
