import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Logger } from '../observability/index.js';
import type { BenchHarness } from './bench-output.js';
import { optimizedOut } from './stats.js';
import { runStep } from './steps.js';

/**
 * What an empty function costs per call on this machine, measured the two ways harnesses time
 * a function, for the "optimized out" check (perf-validation.md step 5, mitata's heuristic: a
 * benchmark within 1.4× of a no-op measures nothing, the engine has removed the work).
 *
 * Measured in its own node process (the `node` on the run's PATH, as the benchmark uses), with
 * the run's environment, by the script below:
 * - **batched**: `for (i < n) fn()` with the clock read once per batch of 100 000 calls, the way
 *   mitata and benchmark.js time a function (their loop around an inlined empty function is
 *   what an optimized-out benchmark reduces to). Median over 30 batches.
 * - **per call**: `t0 = performance.now(); fn(); t = performance.now() - t0` for every call,
 *   the way tinybench (and vitest bench, which is tinybench) times one: the timer dominates.
 *   Mean of 2 000 calls (performance.now() is quantised, a median of single calls is one
 *   quantum), median over 30 batches.
 * Both after a warm-up long enough for the optimizing compiler to take the loops (20 rounds).
 * The whole process takes about 0.1 s.
 */
export interface NoopCost {
  batchedNs: number;
  perCallNs: number;
  /** `process.version` of the measuring process. */
  node: string;
  durationMs: number;
}

const NOOP_SCRIPT = `
const noop = () => {};
const median = (values) => {
  const s = [...values].sort((x, y) => x - y);
  const h = (s.length - 1) / 2;
  return (s[Math.floor(h)] + s[Math.ceil(h)]) / 2;
};
function batched(fn, n) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t0) / n;
}
function perCall(fn, n) {
  let total = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn();
    total += performance.now() - t0;
  }
  return (total / n) * 1e6;
}
for (let i = 0; i < 20; i++) {
  batched(noop, 100000);
  perCall(noop, 2000);
}
const b = [];
const p = [];
for (let i = 0; i < 30; i++) {
  b.push(batched(noop, 100000));
  p.push(perCall(noop, 2000));
}
console.log(JSON.stringify({ batchedNs: median(b), perCallNs: median(p), node: process.version }));
`;

const NoopOutput = z.object({
  batchedNs: z.number().positive(),
  perCallNs: z.number().positive(),
  node: z.string(),
});

/** How a harness times a call, hence which no-op it is compared with; none for whole commands. */
export function noopFloorNs(cost: NoopCost, harness: BenchHarness): number | undefined {
  switch (harness) {
    case 'mitata':
    case 'benchmark.js':
      return cost.batchedNs;
    case 'tinybench':
    case 'vitest':
    case 'cronometro':
      return cost.perCallNs;
    // fastbench times callbacks through setImmediate; the others are unknown loops.
    case 'fastbench':
    case 'ops/sec':
    case 'benchmarkify':
    case 'benny':
    case 'console.time':
    case 'command':
      return undefined;
  }
}

/**
 * Whether a time per operation of this harness is within 1.4× of the empty function timed the
 * same way. Whole-command timings (`command`) never are: they include the process's start.
 */
export function isOptimizedOut(perOpNs: number, harness: BenchHarness, cost: NoopCost): boolean {
  const floor = noopFloorNs(cost, harness);
  return floor !== undefined && optimizedOut(perOpNs, floor);
}

export interface MeasureNoopOptions {
  /** A scratch directory: the script is written and run there. */
  dir: string;
  env: Record<string, string>;
  log: Logger;
}

/** Runs the no-op measurement; undefined (and a warning) when it cannot run. */
export async function measureNoop(options: MeasureNoopOptions): Promise<NoopCost | undefined> {
  const script = join(options.dir, 'noop-cost.mjs');
  await writeFile(script, NOOP_SCRIPT);
  const run = await runStep({
    name: 'noop',
    command: 'node noop-cost.mjs',
    cwd: options.dir,
    env: options.env,
    log: options.log,
    timeoutMs: 60_000,
  });
  const line = run.output.trim().split('\n').at(-1) ?? '';
  let parsed: z.infer<typeof NoopOutput> | undefined;
  try {
    parsed = run.ok ? NoopOutput.parse(JSON.parse(line)) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed) {
    options.log.warn({ output: run.output.slice(-500) }, 'no-op measurement failed');
    return undefined;
  }
  return { ...parsed, durationMs: run.durationMs };
}

/**
 * The no-op cost once per validation run: measured by the first candidate that needs it and
 * kept in `<dir>/noop.json`, the run's candidates directory, for the others.
 */
export async function noopCostOnce(options: MeasureNoopOptions): Promise<NoopCost | undefined> {
  const file = join(options.dir, 'noop.json');
  try {
    const cached = NoopOutput.extend({ durationMs: z.number() }).parse(
      JSON.parse(await readFile(file, 'utf8')),
    );
    return cached;
  } catch {
    // not measured yet (or unreadable): measure now
  }
  const cost = await measureNoop(options);
  if (cost) await writeFile(file, `${JSON.stringify(cost)}\n`);
  return cost;
}
