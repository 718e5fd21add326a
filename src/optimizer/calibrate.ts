import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PatchbayError } from '../contracts/index.js';
import type { Logger } from '../observability/index.js';
import { readBenchOutput } from './bench-output.js';
import { noiseFloor } from './stats.js';
import { runStep } from './steps.js';
import type { Trace } from './trace.js';

/**
 * The A/A calibration: the unchanged code's benchmark against itself, `2 × samples` runs, whose
 * largest apparent "speedup" is the bar this repository's noise sets (stats.ts `noiseFloor`).
 * It costs as much as validating a candidate, so it runs only when there is a candidate, stops
 * at the optimization's deadline, and a complete one is stored per repository, commit,
 * benchmark command and Node version and reused by the next optimization of the same code.
 */

export interface Calibration {
  noiseFloor: number;
  /** Per benchmark, the base's readings in run order. */
  runs: Record<string, number[]>;
  /** `run`: measured now; `cache`: a stored one reused; `skipped`: no candidate to judge. */
  source: 'run' | 'cache' | 'skipped';
  /** Fewer runs than asked: the deadline came first (never stored). */
  partial?: boolean;
  /** Set when there is no floor to judge with: the deadline came before even a few runs. */
  unavailable?: string;
  /**
   * Why calibration stopped where it did: every run asked for, the floor already tight (well
   * under the minimum speedup, so more runs would not move the bar), its share of the time
   * left to the candidates spent, or the deadline.
   */
  stopped?: 'complete' | 'tight-floor' | 'share' | 'deadline';
  /** The A/A runs' wall time. */
  durationMs?: number;
  key?: string;
  createdAt: string;
}

export interface CalibrateOptions {
  root: string;
  bench: string;
  samples: number;
  env: Record<string, string>;
  log: Logger;
  trace: Trace;
  /** Epoch ms: no run starts after it. */
  deadline: number;
  /**
   * Epoch ms: calibration's share of the time, so the candidates get the rest. Past it, no run
   * starts once MIN_CALIBRATION_RUNS are done (before that, runs go on until `deadline`).
   */
  shareEnd?: number;
  /**
   * Stop after TIGHT_FLOOR_RUNS runs when the floor is at most this (a fraction): the bar is
   * then the minimum speedup whatever the remaining runs would add. Usually half of it.
   */
  tightFloor?: number;
  /** Where complete calibrations are stored; none are when absent. */
  cacheDir?: string;
  /** What identifies the code measured: the source as given and its commit. */
  source: string;
  commit: string;
  onRun?: (done: number, total: number) => void;
}

/** Fewer A/A runs than this give no floor worth the name (two splits of two). */
export const MIN_CALIBRATION_RUNS = 4;

/**
 * Runs before a tight floor may end calibration early: three per side in the alternate split,
 * where the floor of so few runs is noisier (higher), not lower, than that of more.
 */
export const TIGHT_FLOOR_RUNS = 6;

/** Why calibration may stop after `done` of `total` runs (undefined: go on). */
export function calibrationStop(input: {
  done: number;
  total: number;
  now: number;
  deadline: number;
  shareEnd?: number;
  tightFloor?: number;
  floor: () => number;
}): Calibration['stopped'] | undefined {
  const { done, total, now } = input;
  if (done >= total) return 'complete';
  if (now >= input.deadline) return 'deadline';
  if (done < MIN_CALIBRATION_RUNS) return undefined;
  if (input.shareEnd !== undefined && now >= input.shareEnd) return 'share';
  if (
    input.tightFloor !== undefined &&
    done >= TIGHT_FLOOR_RUNS &&
    done % 2 === 0 &&
    input.floor() <= input.tightFloor
  ) {
    return 'tight-floor';
  }
  return undefined;
}

/** The A/A floor of calibration runs (per benchmark, its base readings in run order). */
export function calibrationFloor(runs: ReadonlyMap<string, readonly number[]>): number {
  return noiseFloor([...runs.values()].flatMap((values) => aaSplits(values)));
}

/**
 * Five A/A comparisons out of one series of base runs: alternate runs, first half against
 * second half (drift), and three seeded shuffles. The statistics want several comparisons for
 * a floor (a single one misses the noise often); re-splitting the same runs gives them without
 * running the benchmark five times as often. They are not independent, so the floor is a
 * careful estimate, not an exact quantile.
 */
export function aaSplits(values: readonly number[]): { a: number[]; b: number[] }[] {
  const half = Math.floor(values.length / 2);
  const splits = [
    { a: values.filter((_, i) => i % 2 === 0), b: values.filter((_, i) => i % 2 === 1) },
    { a: values.slice(0, half), b: values.slice(half) },
  ];
  let seed = 0x9e3779b9;
  const random = (): number => {
    // xorshift32: deterministic, so a run's floor can be recomputed from its samples.
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  for (let k = 0; k < 3; k++) {
    const order = values.map((v) => ({ v, r: random() })).sort((x, y) => x.r - y.r);
    splits.push({ a: order.slice(0, half).map((o) => o.v), b: order.slice(half).map((o) => o.v) });
  }
  return splits.filter((s) => s.a.length >= 2 && s.b.length >= 2);
}

export function calibrationKey(parts: {
  source: string;
  commit: string;
  bench: string;
  node: string;
}): string {
  return createHash('sha256')
    .update(JSON.stringify([parts.source, parts.commit, parts.bench, parts.node]))
    .digest('hex')
    .slice(0, 32);
}

/**
 * Calibrates (or reuses a stored calibration of) the code at `root`. Throws
 * OPTIMIZE_BASELINE_FAILED when the benchmark fails; returns `unavailable` when the deadline
 * leaves fewer than MIN_CALIBRATION_RUNS runs.
 */
export async function calibrate(options: CalibrateOptions): Promise<Calibration> {
  const key = calibrationKey({ ...options, node: process.version });
  const file = options.cacheDir ? join(options.cacheDir, `${key}.json`) : undefined;
  if (file) {
    const stored = await readStored(file);
    const enough =
      stored?.stopped === 'tight-floor' ||
      (stored && Object.values(stored.runs).every((r) => r.length >= options.samples * 2));
    if (stored && enough) {
      options.log.info({ key }, 'calibration reused');
      return { ...stored, source: 'cache' };
    }
  }
  const total = options.samples * 2;
  const runs = new Map<string, number[]>();
  let done = 0;
  let stopped: Calibration['stopped'];
  const started = Date.now();
  const stopNow = (): Calibration['stopped'] | undefined =>
    calibrationStop({
      done,
      total,
      now: Date.now(),
      deadline: options.deadline,
      ...(options.shareEnd !== undefined ? { shareEnd: options.shareEnd } : {}),
      ...(options.tightFloor !== undefined ? { tightFloor: options.tightFloor } : {}),
      floor: () => calibrationFloor(runs),
    });
  await options.trace.span('calibrate', `A/A ×${total}`, async () => {
    for (; !(stopped = stopNow()); done++) {
      options.onRun?.(done, total);
      const run = await runStep({
        name: 'bench',
        command: options.bench,
        cwd: options.root,
        env: options.env,
        log: options.log,
      });
      if (!run.ok) throw benchFailed(run.output);
      for (const r of readBenchOutput(run.output, run.durationMs)) {
        runs.set(r.name, [...(runs.get(r.name) ?? []), r.value]);
      }
    }
  });
  const createdAt = new Date().toISOString();
  const durationMs = Date.now() - started;
  if (done < MIN_CALIBRATION_RUNS) {
    return {
      noiseFloor: 0,
      runs: Object.fromEntries(runs),
      source: 'run',
      partial: true,
      stopped,
      durationMs,
      unavailable: `the time limit left ${done} of ${total} calibration runs, fewer than ${MIN_CALIBRATION_RUNS}: no noise floor to judge candidates against`,
      key,
      createdAt,
    };
  }
  const calibration: Calibration = {
    noiseFloor: calibrationFloor(runs),
    runs: Object.fromEntries(runs),
    source: 'run',
    ...(done < total && stopped !== 'tight-floor' ? { partial: true } : {}),
    stopped,
    durationMs,
    key,
    createdAt,
  };
  if (file && (done === total || stopped === 'tight-floor')) await store(file, calibration);
  return calibration;
}

async function readStored(file: string): Promise<Calibration | undefined> {
  try {
    const value = JSON.parse(await readFile(file, 'utf8')) as Calibration;
    return typeof value.noiseFloor === 'number' && value.runs ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Written whole and renamed into place: two optimizations may calibrate the same commit. */
async function store(file: string, calibration: Calibration): Promise<void> {
  const dir = join(file, '..');
  await mkdir(dir, { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(calibration)}\n`);
  await rename(temp, file);
}

function benchFailed(output: string): PatchbayError {
  return new PatchbayError(
    'OPTIMIZE_BASELINE_FAILED',
    `the benchmark failed during calibration: ${output.trim().split('\n').slice(-3).join(' | ')}`,
    { step: 'bench' },
  );
}

/** `time-split.json`: the validate stage's time, calibration and each candidate. */
export interface TimeSplit {
  calibration: { ms: number; runs: number; stopped: string };
  candidates: {
    id: string;
    ms: number;
    /** Build, typecheck, test step times. */
    steps: Record<string, number>;
    coverageMs?: number;
    /** Base/candidate benchmark pairs run. */
    benchPairs: number;
    status: string;
  }[];
}

/**
 * Calibration's share of the time left: about what one candidate costs (both take
 * `2 × samples` benchmark runs), so with n candidates it gets 1/(n + 1) of it.
 */
export function calibrationShareEnd(now: number, deadline: number, candidates: number): number {
  return now + Math.max(0, deadline - now) / (1 + Math.max(1, candidates));
}

/**
 * The least one candidate costs, from the calibration's time per benchmark run and the
 * baseline's test time: the tests, one coverage run and `2 × minPairs` runs (0 when unknown).
 */
export function leastCandidateMs(
  baseline: { steps: { kind: string; durationMs: number }[] },
  calibration: { ms: number; runs: number },
  minPairs = 3,
): number {
  if (calibration.runs === 0) return 0;
  const perRun = calibration.ms / calibration.runs;
  const tests = baseline.steps
    .filter((st) => st.kind === 'test' || st.kind === 'build' || st.kind === 'typecheck')
    .reduce((t, st) => t + st.durationMs, 0);
  return tests + perRun * (1 + 2 * minPairs);
}
