/**
 * Readers for what benchmark harnesses print as text by default (bench-output.ts reads JSON,
 * benchmark.js lines and tinybench tables first). Each was written against the recorded output
 * of the real harness (test/fixtures/bench-output/recorded/, how they were made is in its
 * README):
 *
 * - **mitata** (0.x and 1.x `run()`): `name   163.40 ns/iter   75.63 ns …`: the average per
 *   iteration, in its unit (ps, ns, µs, ms, s).
 * - **cronometro**: its box table, `║ name │ 2000 │ 1640325.77 op/sec │ ± 49.97 % ║`.
 * - **vitest bench** (the reporter's table, without `--outputJson`): `· name  3,377,954.17
 *   0.0001 …` under a `name hz min max mean …` header; throughput is read (the times are printed
 *   with four decimals of a millisecond, too coarse for a fast function), the group from the
 *   `✓ file > group` line above.
 * - **fastbench**: `name*10000: 97.614ms` (or `1.082s`), once per round (the last round
 *   counts: the first warms up), read as ns per iteration; `1000000*name: 3.8s` the same way.
 * - **benchmarkify**: `✔ name   1,105,368 rps` (2.x) or `… ops/sec` (4.x).
 * - **benny**: `  name:` then `    397 006 ops/s, ±8.12%` on the next line, redrawn as it runs.
 * - plain throughput lines: `name: 1,234,567 ops/sec` (`op/s`, `ops/s`, any `<things>/second`).
 * - `console.time` / `timeEnd` lines, `name: 123.456ms` (or `s`): each a whole timed loop.
 */
import type { BenchmarkValue, BenchOutput } from './bench-output.js';

const UNIT_NS: Record<string, number> = { ps: 1e-3, ns: 1, µs: 1e3, us: 1e3, ms: 1e6, s: 1e9 };

/** `1,105,368` or `397 006` (thousands grouped by a comma or a space) as a number. */
const num = (text: string): number => Number(text.replace(/[, ]/g, ''));

/** A throughput result (operations per second, higher is better), as every hz reader reports it. */
function throughput(name: string, value: number, samples?: number): BenchmarkValue {
  return {
    name,
    value,
    unit: 'ops/s',
    lowerIsBetter: false,
    statistic: 'hz',
    ...(samples !== undefined ? { samples } : {}),
  };
}

/** The first reader that finds benchmarks in `text` (ANSI escapes already removed). */
export function fromHarnessText(text: string): BenchOutput | undefined {
  for (const reader of [
    fromCronometro,
    fromMitataText,
    fromVitestText,
    fromFastbench,
    fromBenchmarkify,
    fromBenny,
    fromOpsLines,
  ]) {
    const found = reader(text);
    if (found && found.benchmarks.length > 0) return found;
  }
  return undefined;
}

/** The last resort before timing the whole command: `console.timeEnd` lines. */
export function fromConsoleTime(text: string): BenchOutput | undefined {
  const benchmarks: BenchmarkValue[] = [];
  for (const line of text.split('\n')) {
    const m = /^([\w .:/#()[\]-]+?): ([\d.]+)(ms|s)$/.exec(line.trim());
    if (!m) continue;
    const value = Number(m[2]) * (m[3] === 's' ? 1000 : 1);
    if (!(value > 0)) continue;
    benchmarks.push({
      name: m[1] as string,
      value,
      unit: 'ms',
      lowerIsBetter: true,
      statistic: 'total',
    });
  }
  return benchmarks.length > 0 ? { harness: 'console.time', benchmarks } : undefined;
}

function fromMitataText(text: string): BenchOutput | undefined {
  const benchmarks: BenchmarkValue[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\S(?:.*?\S)?)\s{2,}([\d.]+) (ps|ns|µs|us|ms|s)\/iter\b/.exec(line);
    if (!m) continue;
    const value = Number(m[2]) * (UNIT_NS[m[3] as string] ?? NaN);
    if (!(value > 0)) continue;
    benchmarks.push({
      name: m[1] as string,
      value,
      unit: 'ns',
      lowerIsBetter: true,
      statistic: 'mean',
    });
  }
  return benchmarks.length > 0 ? { harness: 'mitata', benchmarks } : undefined;
}

function fromCronometro(text: string): BenchOutput | undefined {
  const benchmarks: BenchmarkValue[] = [];
  for (const line of text.split('\n')) {
    const m =
      /^\s*[\u2551|]\s*(.+?)\s*\u2502\s*([\d,]+)\s*\u2502\s*([\d,.]+) op\/sec\s*\u2502/.exec(line);
    if (!m) continue;
    const value = num(m[3] as string);
    if (!(value > 0)) continue;
    benchmarks.push(throughput(m[1] as string, value, num(m[2] as string)));
  }
  return benchmarks.length > 0 ? { harness: 'cronometro', benchmarks } : undefined;
}

function fromVitestText(text: string): BenchOutput | undefined {
  const benchmarks: BenchmarkValue[] = [];
  let group = '';
  let columns: string[] | undefined;
  for (const line of text.split('\n')) {
    const file = /^\s*[\u2713\u00d7x]\s+(\S.*?)(?:\s+\d+ms)?\s*$/.exec(line);
    if (file) {
      group = (file[1] as string).trim();
      continue;
    }
    const header = line.trim().split(/\s+/);
    if (header[0] === 'name' && header.includes('hz')) {
      columns = header;
      continue;
    }
    if (!columns) continue;
    const row = /^\s*[\u00b7\u2022]\s+(.+?)\s{2,}(\S.*)$/.exec(line);
    if (!row) continue;
    const cells = (row[2] as string).trim().split(/\s+/);
    const hz = num(cells[columns.indexOf('hz') - 1] ?? '');
    if (!(hz > 0)) continue;
    const samples = num(cells[columns.indexOf('samples') - 1] ?? '');
    const name = (row[1] as string).trim();
    benchmarks.push(
      throughput(group ? `${group} > ${name}` : name, hz, samples > 0 ? samples : undefined),
    );
  }
  return benchmarks.length > 0 ? { harness: 'vitest', benchmarks } : undefined;
}

function fromFastbench(text: string): BenchOutput | undefined {
  const last = new Map<string, BenchmarkValue>();
  for (const line of text.split('\n')) {
    // fastbench's `name*N: 12.3ms` (`1.082s` past a second); `N*name` is the same loop timed
    // with console.time (fastq's bench.js).
    const m =
      /^(?<name>[^*\s][^*]*?)\*(?<n>\d+): (?<t>[\d.]+)(?<unit>ms|s)$/.exec(line.trim()) ??
      /^(?<n>\d+)\*(?<name>[^*\s][^*]*?): (?<t>[\d.]+)(?<unit>ms|s)$/.exec(line.trim());
    const g = m?.groups;
    if (!g) continue;
    const name = g.name as string;
    const iterations = Number(g.n);
    const value = (Number(g.t) * (g.unit === 's' ? 1e9 : 1e6)) / iterations;
    if (!(value > 0)) continue;
    last.delete(name); // keep the file order of the last round
    last.set(name, {
      name,
      value,
      unit: 'ns',
      lowerIsBetter: true,
      statistic: 'mean',
      samples: iterations,
    });
  }
  return last.size > 0 ? { harness: 'fastbench', benchmarks: [...last.values()] } : undefined;
}

/**
 * benchmarkify (fastest-validator's, moleculer's harness): `✔ name   1,105,368 rps` (2.x) or
 * `… ops/sec` (4.x; thousands grouped by the locale, a space in some), one line per benchmark
 * as it finishes; the summary lines after each suite repeat them in brackets and are not read.
 */
function fromBenchmarkify(text: string): BenchOutput | undefined {
  const benchmarks: BenchmarkValue[] = [];
  for (const line of text.split('\n')) {
    const m =
      /^[\u2714\u221a]\s+(\S(?:.*?\S)?)\s+(\d[\d, ]*(?:\.\d+)?)\s+(?:rps|ops\/sec)\s*$/.exec(line);
    if (!m) continue;
    const value = num(m[2] as string);
    if (value > 0) benchmarks.push(throughput(m[1] as string, value));
  }
  return benchmarks.length > 0 ? { harness: 'benchmarkify', benchmarks } : undefined;
}

/**
 * benny: `  name:` on one line, `    397 006 ops/s, ±8.12%` on the next (thousands grouped by a
 * space), the block redrawn as the suite progresses: the last value of each name counts.
 */
function fromBenny(text: string): BenchOutput | undefined {
  const found = new Map<string, number>();
  let name: string | undefined;
  for (const line of text.split('\n')) {
    const value = /^\s+(\d[\d ,]*(?:\.\d+)?) ops\/s,/.exec(line);
    if (name !== undefined && value) {
      const n = num(value[1] as string);
      if (n > 0) {
        found.delete(name); // the last drawing counts; names keep their first order below
        found.set(name, n);
      }
    }
    name = /^\s+(\S(?:.*\S)?):$/.exec(line)?.[1];
  }
  const benchmarks = [...found].map(([n, value]) => throughput(n, value));
  return benchmarks.length > 0 ? { harness: 'benny', benchmarks } : undefined;
}

/**
 * Plain throughput lines: `name: 1,234 ops/sec`, `name 89.5 op/s`, and any count per second
 * (`nodeuuid.v4(): 854700 uuids/second`, `parser:14000.5 requests/second`).
 */
function fromOpsLines(text: string): BenchOutput | undefined {
  const benchmarks: BenchmarkValue[] = [];
  for (const line of text.split('\n')) {
    const m =
      /^\s*(\S(?:.*?\S)?)(?:\s*[:=]\s*|\s+)([\d,]+(?:\.\d+)?)\s*[a-z]+\/s(?:ec(?:ond)?)?\b/i.exec(
        line,
      );
    // `397 006 ops/s`: a number grouped by a space is not a benchmark named "397".
    if (!m || /^[\d\s,.]+$/.test(m[1] as string)) continue;
    const value = num(m[2] as string);
    if (value > 0) benchmarks.push(throughput((m[1] as string).replace(/[:=]$/, '').trim(), value));
  }
  return benchmarks.length > 0 ? { harness: 'ops/sec', benchmarks } : undefined;
}
