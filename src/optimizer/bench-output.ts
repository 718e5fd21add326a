import { z } from 'zod';
import { fromConsoleTime, fromHarnessText } from './bench-text.js';
import { median } from './stats.js';

/**
 * Reads what a repository's benchmark command printed (or wrote with `--outputJson`) into one
 * number per benchmark, so that each benchmark process becomes one sample per benchmark for
 * the statistics in stats.ts. Formats (../../shared/reference/perf-validation.md, "Harness
 * output formats"):
 *
 * - **mitata 1.x** `run({ format: 'json' })`: `{ benchmarks: [{ alias, runs: [{ name, stats:
 *   { p50, avg, samples, … } }] }] }`, times in ns (0.x's `benchmarks[].stats` is read too).
 * - **vitest bench** `--outputJson`: `{ files: [{ groups: [{ fullName, benchmarks: [{ name,
 *   latency: { p50, mean, … } }] }] }] }`, or the older flat fields (`median`, `mean`, `hz`),
 *   times in ms.
 * - **tinybench** has no output of its own; accepted are what benchmark scripts commonly print:
 *   the tasks as JSON (`[{ name, result }]` or `{ tasks: [{ name, result }] }`, `result` with
 *   `latency { p50, mean, samples? }` (v3+) or flat `mean`/`samples`/`hz` (v2), ms), and
 *   `bench.table()` as JSON or through `console.table` (`Task name`, `Latency med (ns)`,
 *   `Latency avg (ns)`, v2's `Average Time (ns)`, `ops/sec`).
 * - **benchmark.js** text lines: `name x 1,234 ops/sec ±1.23% (89 runs sampled)`.
 * - the text other harnesses print (mitata, cronometro, vitest's table, fastbench, plain
 *   `ops/sec` lines, `console.timeEnd`): bench-text.ts.
 * - anything else: `command`, the whole command timed by the caller (`elapsedMs`).
 *
 * The value is the median when the output has one (the recipe's robust statistic), else the
 * mean, else throughput.
 */

export type BenchHarness =
  | 'mitata'
  | 'vitest'
  | 'tinybench'
  | 'benchmark.js'
  | 'cronometro'
  | 'fastbench'
  | 'ops/sec'
  | 'benchmarkify'
  | 'benny'
  | 'console.time'
  | 'command';
export type BenchUnit = 'ns' | 'ms' | 'ops/s';

export interface BenchmarkValue {
  /** Unique within one output (a repeated name gets ` #2`, ` #3`…). */
  name: string;
  value: number;
  unit: BenchUnit;
  /** False for throughput (ops/s). */
  lowerIsBetter: boolean;
  /** Which statistic `value` is, for the evidence record. */
  statistic: 'p50' | 'mean' | 'hz' | 'total';
  /** In-process samples behind the value, when the harness says. */
  samples?: number;
}

export interface BenchOutput {
  harness: BenchHarness;
  benchmarks: BenchmarkValue[];
}

export interface ParseBenchOutputOptions {
  /** Wall time of the whole command: becomes the single `command` benchmark when nothing parses. */
  elapsedMs?: number;
}

/**
 * Parses a benchmark command's output (stdout, or the `--outputJson` file's content).
 *
 * @example
 * parseBenchOutput('parse x 1,234 ops/sec ±1.23% (89 runs sampled)')
 * // { harness: 'benchmark.js', benchmarks: [{ name: 'parse', value: 1234, unit: 'ops/s', … }] }
 */
export function parseBenchOutput(
  output: string,
  options: ParseBenchOutputOptions = {},
): BenchOutput {
  const text = stripAnsi(output);
  const parsed =
    fromJson(jsonValues(text)) ??
    fromBenchmarkJs(text) ??
    fromTableText(text) ??
    fromHarnessText(text) ??
    fromConsoleTime(text);
  if (parsed && parsed.benchmarks.length > 0) {
    return { harness: parsed.harness, benchmarks: uniqueNames(parsed.benchmarks) };
  }
  const benchmarks: BenchmarkValue[] =
    options.elapsedMs === undefined
      ? []
      : [
          {
            name: 'command',
            value: options.elapsedMs,
            unit: 'ms',
            lowerIsBetter: true,
            statistic: 'total',
          },
        ];
  return { harness: 'command', benchmarks };
}

/** A benchmark's value as a time in ns (throughput inverted), the form stats.ts expects. */
export function benchmarkTimeNs(benchmark: BenchmarkValue): number {
  switch (benchmark.unit) {
    case 'ns':
      return benchmark.value;
    case 'ms':
      return benchmark.value * 1e6;
    case 'ops/s':
      return 1e9 / benchmark.value;
  }
}

/**
 * One benchmark's reading from one process, as validation takes it: `value` lower is better
 * (a time). `perOpNs` is set when the harness reports a time per operation, which is what the
 * "optimized out" check compares with an empty function; never for a whole command's time.
 */
export interface BenchReading {
  name: string;
  value: number;
  perOpNs?: number;
  /** The harness that printed it: how it times a call decides which no-op to compare with. */
  harness?: BenchHarness;
}

/**
 * A benchmark process's output as readings in ns per operation (the whole command's time in ns
 * when no harness reader knows the output), with the per-operation time marked as such.
 *
 * @example readBenchOutput('parse x 2,000 ops/sec ±1.2% (9 runs sampled)', 812)
 * // [{ name: 'parse', value: 500000, perOpNs: 500000, harness: 'benchmark.js' }]
 */
export function readBenchOutput(output: string, elapsedMs: number): BenchReading[] {
  const { harness, benchmarks } = parseBenchOutput(output, { elapsedMs });
  return benchmarks.map((b) => {
    const value = benchmarkTimeNs(b);
    // A whole command's time, or a whole timed loop's, is not a time per operation.
    return harness === 'command' || harness === 'console.time'
      ? { name: b.name, value }
      : { name: b.name, value, perOpNs: value, harness };
  });
}

// --- text helpers ------------------------------------------------------------------------

function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex -- ANSI escapes are control characters
  return text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, '');
}

function uniqueNames(benchmarks: BenchmarkValue[]): BenchmarkValue[] {
  const seen = new Map<string, number>();
  return benchmarks.map((b) => {
    const count = (seen.get(b.name) ?? 0) + 1;
    seen.set(b.name, count);
    return count === 1 ? b : { ...b, name: `${b.name} #${count}` };
  });
}

/**
 * The JSON values in a text that also holds other output (npm's `> pkg bench` banner, logs):
 * each line whose first non-blank character opens an object or array is tried as the start of
 * one value, its end found by balancing brackets outside strings.
 */
function jsonValues(text: string): unknown[] {
  const values: unknown[] = [];
  const trimmed = text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return [JSON.parse(trimmed)];
    } catch {
      // mixed output: scan below
    }
  }
  let lineStart = 0;
  while (lineStart < text.length) {
    let start = lineStart;
    while (start < text.length && (text[start] === ' ' || text[start] === '\t')) start++;
    const open = text[start];
    let next = text.indexOf('\n', lineStart);
    next = next === -1 ? text.length : next + 1;
    if (open === '{' || open === '[') {
      const end = balancedEnd(text, start);
      if (end !== -1) {
        try {
          values.push(JSON.parse(text.slice(start, end)));
          const after = text.indexOf('\n', end);
          next = after === -1 ? text.length : after + 1;
        } catch {
          // not JSON after all (a log line in brackets): go on with the next line
        }
      }
    }
    lineStart = next;
  }
  return values;
}

/** Index just after the bracket closing the one at `start`, or -1. */
function balancedEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

/** A leading number in a table cell: `'1,234.5 ± 0.45%'` → 1234.5. */
function leadingNumber(cell: unknown): number | undefined {
  if (typeof cell === 'number') return Number.isFinite(cell) ? cell : undefined;
  if (typeof cell !== 'string') return undefined;
  const match = /^\s*'?([\d,]*\.?\d+(?:e[+-]?\d+)?)/i.exec(cell);
  if (!match?.[1]) return undefined;
  const value = Number(match[1].replace(/,/g, ''));
  return Number.isFinite(value) ? value : undefined;
}

// --- JSON formats --------------------------------------------------------------------------

const finite = z.number().finite();

const MitataStats = z.object({
  p50: finite.optional(),
  avg: finite.optional(),
  samples: z.array(z.unknown()).optional(),
});
const MitataOutput = z.object({
  benchmarks: z
    .array(
      z.object({
        alias: z.string().optional(),
        name: z.string().optional(),
        // 1.x
        runs: z
          .array(
            z.object({
              name: z.string().optional(),
              error: z.unknown().optional(),
              stats: MitataStats.optional(),
            }),
          )
          .optional(),
        // 0.x
        stats: MitataStats.optional(),
        error: z.unknown().optional(),
      }),
    )
    .min(1),
});

/** Times of vitest and tinybench, in ms; `latency` since tinybench 3, flat before. */
const TinyStats = z.object({
  p50: finite.optional(),
  median: finite.optional(),
  mean: finite.optional(),
  hz: finite.optional(),
  samples: z.array(finite).optional(),
  samplesCount: finite.optional(),
  sampleCount: finite.optional(),
});
const TinyResult = TinyStats.extend({
  latency: TinyStats.optional(),
  throughput: z.object({ mean: finite.optional(), p50: finite.optional() }).optional(),
  error: z.unknown().optional(),
});

const VitestOutput = z.object({
  files: z
    .array(
      z.object({
        groups: z.array(
          z.object({
            fullName: z.string().optional(),
            benchmarks: z.array(TinyResult.extend({ name: z.string() })),
          }),
        ),
      }),
    )
    .min(1),
});

const TinyTask = z.object({ name: z.string(), result: TinyResult.optional() });
const TinyTasks = z.union([
  z.array(TinyTask).min(1),
  z.object({ tasks: z.array(TinyTask).min(1) }).transform((b) => b.tasks),
]);

/** A row of tinybench's `bench.table()` (v2 and v3+ headings). */
const TableRows = z
  .array(z.record(z.string(), z.unknown()))
  .min(1)
  .refine((rows) => rows.every((row) => taskName(row) !== undefined));

function fromJson(values: readonly unknown[]): BenchOutput | undefined {
  for (const [index, value] of values.entries()) {
    const parsed = classifyJson(value);
    if (parsed && parsed.benchmarks.length > 0) {
      // Further values of the same harness (one per bench file) add to the first.
      for (const other of values.slice(index + 1)) {
        const more = classifyJson(other);
        if (more?.harness === parsed.harness) parsed.benchmarks.push(...more.benchmarks);
      }
      return parsed;
    }
  }
  return undefined;
}

function classifyJson(value: unknown): BenchOutput | undefined {
  const mitata = MitataOutput.safeParse(value);
  if (mitata.success) return { harness: 'mitata', benchmarks: fromMitata(mitata.data) };
  const vitest = VitestOutput.safeParse(value);
  if (vitest.success) return { harness: 'vitest', benchmarks: fromVitest(vitest.data) };
  const tasks = TinyTasks.safeParse(value);
  if (tasks.success) {
    return {
      harness: 'tinybench',
      benchmarks: tasks.data.flatMap((task) =>
        task.result ? fromTinyResult(task.name, task.result) : [],
      ),
    };
  }
  const rows = TableRows.safeParse(value);
  if (rows.success) return { harness: 'tinybench', benchmarks: fromTableRows(rows.data) };
  return undefined;
}

function fromMitataStats(
  name: string,
  stats: z.infer<typeof MitataStats> | undefined,
): BenchmarkValue[] {
  if (!stats) return [];
  const value = stats.p50 ?? stats.avg;
  if (value === undefined) return [];
  return [
    {
      name,
      value,
      unit: 'ns',
      lowerIsBetter: true,
      statistic: stats.p50 === undefined ? 'mean' : 'p50',
      ...(stats.samples ? { samples: stats.samples.length } : {}),
    },
  ];
}

/** mitata writes `error: null` for a run that went fine, hence `== null`. */
function fromMitata(output: z.infer<typeof MitataOutput>): BenchmarkValue[] {
  return output.benchmarks.flatMap((bench) => {
    const benchName = bench.alias ?? bench.name ?? 'benchmark';
    if (bench.runs) {
      return bench.runs.flatMap((run) =>
        run.error == null ? fromMitataStats(run.name ?? benchName, run.stats) : [],
      );
    }
    return bench.error == null ? fromMitataStats(benchName, bench.stats) : [];
  });
}

function fromVitest(output: z.infer<typeof VitestOutput>): BenchmarkValue[] {
  return output.files.flatMap((file) =>
    file.groups.flatMap((group) =>
      group.benchmarks.flatMap((bench) =>
        fromTinyResult(group.fullName ? `${group.fullName} > ${bench.name}` : bench.name, bench),
      ),
    ),
  );
}

/** tinybench-style statistics (vitest's are tinybench's): times in ms. */
function fromTinyResult(name: string, result: z.infer<typeof TinyResult>): BenchmarkValue[] {
  if (result.error != null) return [];
  const stats = result.latency ?? result;
  const samples = stats.samplesCount ?? stats.sampleCount ?? stats.samples?.length;
  const withSamples = samples === undefined ? {} : { samples };
  const p50 =
    stats.p50 ??
    stats.median ??
    (stats.samples && stats.samples.length > 0 ? median(stats.samples) : undefined);
  if (p50 !== undefined) {
    return [
      { name, value: p50, unit: 'ms', lowerIsBetter: true, statistic: 'p50', ...withSamples },
    ];
  }
  if (stats.mean !== undefined) {
    return [
      {
        name,
        value: stats.mean,
        unit: 'ms',
        lowerIsBetter: true,
        statistic: 'mean',
        ...withSamples,
      },
    ];
  }
  const hz = result.hz ?? result.throughput?.p50 ?? result.throughput?.mean;
  if (hz !== undefined && hz > 0) {
    return [
      { name, value: hz, unit: 'ops/s', lowerIsBetter: false, statistic: 'hz', ...withSamples },
    ];
  }
  return [];
}

// --- tinybench tables ------------------------------------------------------------------------

function taskName(row: Record<string, unknown>): string | undefined {
  const name = row['Task name'] ?? row['Task Name'] ?? row['name'];
  return typeof name === 'string' ? name : undefined;
}

function fromTableRows(rows: readonly Record<string, unknown>[]): BenchmarkValue[] {
  return rows.flatMap((row): BenchmarkValue[] => {
    const name = taskName(row);
    if (name === undefined) return [];
    const samples = leadingNumber(row['Samples']);
    const withSamples = samples === undefined ? {} : { samples };
    const med = leadingNumber(row['Latency med (ns)']);
    if (med !== undefined) {
      return [
        { name, value: med, unit: 'ns', lowerIsBetter: true, statistic: 'p50', ...withSamples },
      ];
    }
    const avg = leadingNumber(row['Latency avg (ns)'] ?? row['Average Time (ns)']);
    if (avg !== undefined) {
      return [
        { name, value: avg, unit: 'ns', lowerIsBetter: true, statistic: 'mean', ...withSamples },
      ];
    }
    const hz = leadingNumber(
      row['Throughput med (ops/s)'] ?? row['Throughput avg (ops/s)'] ?? row['ops/sec'],
    );
    if (hz !== undefined && hz > 0) {
      return [
        { name, value: hz, unit: 'ops/s', lowerIsBetter: false, statistic: 'hz', ...withSamples },
      ];
    }
    return [];
  });
}

/** `console.table(bench.table())`: box-drawn rows, strings in quotes. */
function fromTableText(text: string): BenchOutput | undefined {
  const lines = text.split('\n').filter((line) => line.trimStart().startsWith('│'));
  const cells = (line: string): string[] =>
    line
      .trim()
      .slice(1, -1)
      .split('│')
      .map((cell) => cell.trim().replace(/^'(.*)'$/, '$1'));
  // \u2502 (│), not the character: esbuild escapes non-Latin-1 text in strings but not in regex
  // literals, and one such character makes V8 hold the whole bundle as a two-byte string.
  const headerIndex = lines.findIndex((line) => /\u2502\s*Task [nN]ame\s*\u2502/.test(line));
  if (headerIndex === -1) return undefined;
  const header = cells(lines[headerIndex] as string);
  const rows: Record<string, unknown>[] = [];
  for (const line of lines.slice(headerIndex + 1)) {
    const values = cells(line);
    if (values.length !== header.length) continue;
    if (values.some((v, i) => v === header[i] && /Task [nN]ame/.test(v))) continue;
    rows.push(Object.fromEntries(header.map((h, i) => [h, values[i]])));
  }
  const benchmarks = fromTableRows(rows);
  return benchmarks.length > 0 ? { harness: 'tinybench', benchmarks } : undefined;
}

// --- benchmark.js ------------------------------------------------------------------------------

/** One `String(benchmark)` entry; a line may hold several (progress rewritten with `\r`). */
const BENCHMARK_JS_ENTRY =
  /(?:^|[\s\r])\s*([^\r]+?) x ([\d,]+(?:\.\d+)?) ops\/sec (?:±|\+\/-)\s*([\d.]+)% \((\d+) runs? sampled\)/g;

/**
 * benchmark.js prints `String(bench)` per benchmark. A line (up to `\n`) can carry more than
 * one entry: scripts that redraw a progress line with `\r`, or print a warm-up pass before the
 * measured one, leave `x 0 ops/sec … (0 runs sampled)` or an early partial entry in front of
 * the measured result. The measured entry is the last one on the line with runs sampled;
 * entries with 0 runs sampled measured nothing and are never read.
 */
function fromBenchmarkJs(text: string): BenchOutput | undefined {
  const benchmarks: BenchmarkValue[] = [];
  for (const line of text.split('\n')) {
    let measured: BenchmarkValue | undefined;
    for (const match of line.matchAll(BENCHMARK_JS_ENTRY)) {
      const [, name, hz, , runs] = match;
      const value = Number((hz as string).replace(/,/g, ''));
      if (!(value > 0) || Number(runs) === 0) continue;
      measured = {
        name: (name as string).trim(),
        value,
        unit: 'ops/s',
        lowerIsBetter: false,
        statistic: 'hz',
        samples: Number(runs),
      };
    }
    if (measured) benchmarks.push(measured);
  }
  return benchmarks.length > 0 ? { harness: 'benchmark.js', benchmarks } : undefined;
}
