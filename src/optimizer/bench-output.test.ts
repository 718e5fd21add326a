import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchmarkTimeNs, parseBenchOutput, type BenchmarkValue } from './bench-output.js';

const fixtures = join(import.meta.dirname, '../../test/fixtures/bench-output');
const fixture = (name: string): string => readFileSync(join(fixtures, name), 'utf8');

const summary = (benchmarks: BenchmarkValue[]): [string, number, string, string][] =>
  benchmarks.map((b) => [b.name, b.value, b.unit, b.statistic]);

describe('parseBenchOutput', () => {
  it('reads mitata 1.x JSON after npm’s banner: one value per run, p50 in ns, errors skipped', () => {
    const output = parseBenchOutput(fixture('mitata-1.txt'));
    expect(output.harness).toBe('mitata');
    expect(summary(output.benchmarks)).toEqual([
      ['parse', 884.3, 'ns', 'p50'],
      ['stringify 10', 165.9, 'ns', 'p50'],
      ['stringify 1000', 15110.4, 'ns', 'p50'],
    ]);
    expect(output.benchmarks[0]).toMatchObject({ lowerIsBetter: true, samples: 5 });
  });

  it('reads mitata 0.x JSON (stats on the benchmark) with the mean when there is no p50', () => {
    const output = parseBenchOutput(
      JSON.stringify({
        cpu: 'x',
        runtime: 'node 20',
        benchmarks: [{ name: 'noop', group: null, stats: { min: 1, max: 9, avg: 2.5, p75: 3 } }],
      }),
    );
    expect(output.harness).toBe('mitata');
    expect(summary(output.benchmarks)).toEqual([['noop', 2.5, 'ns', 'mean']]);
  });

  it('reads vitest bench --outputJson (flat fields), naming benchmarks by group', () => {
    const output = parseBenchOutput(fixture('vitest-bench.json'));
    expect(output.harness).toBe('vitest');
    expect(summary(output.benchmarks)).toEqual([
      ['bench/parse.bench.ts > parse > small document', 0.0117, 'ms', 'p50'],
      ['bench/parse.bench.ts > parse > large document', 2.1803, 'ms', 'p50'],
      ['bench/format.bench.ts > format > dates', 0.000792, 'ms', 'p50'],
    ]);
    expect(output.benchmarks[0]?.samples).toBe(40617);
  });

  it('reads vitest bench --outputJson with latency and throughput objects', () => {
    const output = parseBenchOutput(fixture('vitest-bench-latency.json'));
    expect(output.harness).toBe('vitest');
    expect(output.benchmarks).toEqual([
      {
        name: 'bench/parse.bench.ts > parse > small document',
        value: 0.0117,
        unit: 'ms',
        lowerIsBetter: true,
        statistic: 'p50',
        samples: 40617,
      },
    ]);
  });

  it('reads tinybench tasks printed as JSON between log lines, skipping errored tasks', () => {
    const output = parseBenchOutput(fixture('tinybench-tasks.txt'));
    expect(output.harness).toBe('tinybench');
    expect(summary(output.benchmarks)).toEqual([
      ['sort numbers', 0.0463, 'ms', 'p50'],
      ['sort objects', 0.2104, 'ms', 'p50'],
    ]);
    expect(output.benchmarks[0]?.samples).toBe(10438);
  });

  it('reads tinybench 2 results, taking the median of retained samples', () => {
    const output = parseBenchOutput(
      JSON.stringify({
        tasks: [
          { name: 'with samples', result: { mean: 0.5, hz: 2000, samples: [0.4, 0.9, 0.5] } },
          { name: 'mean only', result: { mean: 0.25, hz: 4000, samples: [] } },
          { name: 'not run' },
        ],
      }),
    );
    expect(output.harness).toBe('tinybench');
    expect(summary(output.benchmarks)).toEqual([
      ['with samples', 0.5, 'ms', 'p50'],
      ['mean only', 0.25, 'ms', 'mean'],
    ]);
  });

  it('reads tinybench’s console.table of bench.table() (v3+ headings, quoted cells)', () => {
    const output = parseBenchOutput(fixture('tinybench-table.txt'));
    expect(output.harness).toBe('tinybench');
    expect(summary(output.benchmarks)).toEqual([
      ['match static', 60, 'ns', 'p50'],
      ['match :param', 1180.25, 'ns', 'p50'],
    ]);
    expect(output.benchmarks[1]?.samples).toBe(8101);
  });

  it('reads tinybench 2’s bench.table() as JSON (average time, then ops/sec)', () => {
    const output = parseBenchOutput(
      JSON.stringify([
        {
          'Task Name': 'regex',
          'ops/sec': '4,010,201',
          'Average Time (ns)': 249.36,
          Margin: '±0.51%',
          Samples: 2005101,
        },
        { 'Task Name': 'startsWith', 'ops/sec': '9,123,456', Margin: '±0.20%', Samples: 4561728 },
      ]),
    );
    expect(output.harness).toBe('tinybench');
    expect(summary(output.benchmarks)).toEqual([
      ['regex', 249.36, 'ns', 'mean'],
      ['startsWith', 9123456, 'ops/s', 'hz'],
    ]);
    expect(output.benchmarks[1]?.lowerIsBetter).toBe(false);
  });

  it('reads benchmark.js lines, throughput higher-is-better, repeated names made unique', () => {
    const output = parseBenchOutput(fixture('benchmarkjs.txt'));
    expect(output.harness).toBe('benchmark.js');
    expect(summary(output.benchmarks)).toEqual([
      ['cookie.parse - generic', 3143551, 'ops/s', 'hz'],
      ['cookie.parse - top sites', 47282, 'ops/s', 'hz'],
      ['cookie.parse - 100 cookies', 12010.5, 'ops/s', 'hz'],
      ['cookie.serialize - simple', 9880201, 'ops/s', 'hz'],
      ['cookie.serialize - simple #2', 9801114, 'ops/s', 'hz'],
    ]);
    expect(output.benchmarks[0]).toMatchObject({ lowerIsBetter: false, samples: 95 });
    expect(output.benchmarks[4]?.samples).toBe(1);
  });

  it('reads the measured benchmark.js entry, never a warm-up with 0 runs sampled', () => {
    // Warm-up entries in front of the measured one on the same line, after a `\r` redraw or
    // a space, and a benchmark that never ran: the first entry used to be taken (a floor of 86 %).
    const output = parseBenchOutput(fixture('benchmarkjs-warmup.txt'));
    expect(output.harness).toBe('benchmark.js');
    expect(summary(output.benchmarks)).toEqual([
      ['parse - simple', 2146532, 'ops/s', 'hz'],
      ['parse - 100 keys', 11872, 'ops/s', 'hz'],
      ['stringify', 3904228, 'ops/s', 'hz'],
    ]);
    expect(output.benchmarks.map((b) => b.samples)).toEqual([93, 90, 96]);
  });

  it('reads benchmark.js lines through ANSI colours', () => {
    const output = parseBenchOutput(
      '\u001b[32mfast\u001b[39m x 1,000 ops/sec ±1.00% (90 runs sampled)\n',
    );
    expect(summary(output.benchmarks)).toEqual([['fast', 1000, 'ops/s', 'hz']]);
  });

  it('falls back to timing the whole command when nothing parses', () => {
    const text = 'running 3 scenarios\n[info] {not json}\nall done in 1.2s\n';
    expect(parseBenchOutput(text)).toEqual({ harness: 'command', benchmarks: [] });
    expect(parseBenchOutput(text, { elapsedMs: 1234.5 })).toEqual({
      harness: 'command',
      benchmarks: [
        { name: 'command', value: 1234.5, unit: 'ms', lowerIsBetter: true, statistic: 'total' },
      ],
    });
    // JSON of some other shape is not a benchmark either.
    expect(parseBenchOutput('{"ok":true,"items":[1,2]}').harness).toBe('command');
  });

  it('joins several mitata outputs (one per bench file) printed by one command', () => {
    const one = (name: string, p50: number): string =>
      JSON.stringify({ benchmarks: [{ alias: name, runs: [{ name, stats: { p50, avg: p50 } }] }] });
    const output = parseBenchOutput(`${one('a', 10)}\nlog line\n${one('b', 20)}\n`);
    expect(summary(output.benchmarks)).toEqual([
      ['a', 10, 'ns', 'p50'],
      ['b', 20, 'ns', 'p50'],
    ]);
  });
});

describe('benchmarkTimeNs', () => {
  it('turns every unit into a time in ns', () => {
    const b = (value: number, unit: BenchmarkValue['unit']): BenchmarkValue => ({
      name: 'x',
      value,
      unit,
      lowerIsBetter: unit !== 'ops/s',
      statistic: 'p50',
    });
    expect(benchmarkTimeNs(b(250, 'ns'))).toBe(250);
    expect(benchmarkTimeNs(b(0.0117, 'ms'))).toBeCloseTo(11700, 6);
    expect(benchmarkTimeNs(b(4_000_000, 'ops/s'))).toBe(250);
  });
});
