import { describe, expect, it } from 'vitest';
import { readBenchOutput } from './bench-output.js';
import { isOptimizedOut, type NoopCost } from './noop.js';

/** A no-op as measured on a fast machine: batched loops ~0.3 ns, timer-per-call ~40 ns. */
const cost: NoopCost = { batchedNs: 0.3, perCallNs: 40, node: 'v20', durationMs: 80 };

/** Which benchmarks of one output the check flags, by name. */
function flagged(output: string): Record<string, boolean> {
  return Object.fromEntries(
    readBenchOutput(output, 900).map((r) => [
      r.name,
      r.perOpNs !== undefined && r.harness !== undefined
        ? isOptimizedOut(r.perOpNs, r.harness, cost)
        : false,
    ]),
  );
}

describe('the optimized-out flag on synthetic harness output', () => {
  it('mitata (batched loop, ns): within 1.4× of the batched no-op is flagged', () => {
    const mitata = JSON.stringify({
      benchmarks: [
        { alias: 'deleted', runs: [{ name: 'deleted', stats: { p50: 0.38, avg: 0.4 } }] },
        { alias: 'cheap', runs: [{ name: 'cheap', stats: { p50: 0.5, avg: 0.5 } }] },
        { alias: 'real', runs: [{ name: 'real', stats: { p50: 884.3, avg: 900 } }] },
      ],
    });
    expect(flagged(mitata)).toEqual({ deleted: true, cheap: false, real: false });
  });

  it('benchmark.js (batched, ops/s): 3 billion ops/s is 0.33 ns, an empty loop', () => {
    const text = [
      'empty x 3,000,000,000 ops/sec ±0.40% (95 runs sampled)',
      'parse x 1,234,567 ops/sec ±1.10% (90 runs sampled)',
    ].join('\n');
    expect(flagged(text)).toEqual({ empty: true, parse: false });
  });

  it('tinybench and vitest bench (timer around each call, ms): compared with the timed no-op', () => {
    const tasks = JSON.stringify([
      // 45 ns per call is the timer's own cost: flagged; 0.33 ns would be too.
      { name: 'sum of ten', result: { latency: { p50: 0.000045, mean: 0.00005 } } },
      { name: 'JSON.parse', result: { latency: { p50: 0.00025, mean: 0.00026 } } },
    ]);
    expect(flagged(tasks)).toEqual({ 'sum of ten': true, 'JSON.parse': false });
    const vitest = JSON.stringify({
      files: [
        {
          groups: [
            {
              fullName: 'b.bench.ts',
              benchmarks: [
                { name: 'noop', latency: { p50: 0.00004 } },
                { name: 'work', latency: { p50: 0.01 } },
              ],
            },
          ],
        },
      ],
    });
    expect(flagged(vitest)).toEqual({ 'b.bench.ts > noop': true, 'b.bench.ts > work': false });
  });

  it('a whole command’s time is never flagged, however short', () => {
    const readings = readBenchOutput('done\n', 0.0001);
    expect(readings).toEqual([{ name: 'command', value: 100 }]);
    expect(flagged('done\n')).toEqual({ command: false });
  });
});
