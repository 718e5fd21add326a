import { existsSync } from 'node:fs';
import { lstat, mkdir, readdir, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import type { Candidate, CommandKind } from '../contracts/index.js';
import type { Logger } from '../observability/index.js';
import { git } from '../workspaces/index.js';
import type { Baseline } from './baseline.js';
import type { BenchHarness, BenchReading } from './bench-output.js';
import { benchParts, partsCommand } from './bench-parts.js';
import { benchCoverage, type CoverageFinding } from './coverage.js';
import { isOptimizedOut, noopCostOnce, noopFloorNs, type NoopCost } from './noop.js';
import type { FamilyMember, FamilyVerdict } from './family.js';
import { judgeCandidate, type BenchmarkOutcome } from './decision.js';
import { median } from './stats.js';
import { runOnceMoreIfTests, runStep, stepEnv } from './steps.js';
import { createTrace, type Trace } from './trace.js';

export type { BenchReading };

/** What validation needs from the statistics (src/optimizer/stats.ts) and the harness parser. */
export interface ValidationMath {
  /**
   * Readings of one bench process's output, converted so lower is better; `elapsedMs` (the
   * whole command's time) stands in when the output has no result a reader knows.
   */
  read(output: string, elapsedMs: number): BenchReading[];
  /**
   * Base vs candidate samples (lower is better) of every benchmark judged together → the
   * family's verdict at the run's bar, corrected for the number of benchmarks (family.ts).
   */
  judge(members: FamilyMember[]): FamilyVerdict;
}

export type { BenchmarkOutcome };

/** Pairs a candidate gets even past the deadline: fewer say nothing. */
export const MIN_BENCH_PAIRS = 3;

export type ValidationStatus = 'accepted' | 'rejected' | 'safe-refactor';

export interface ValidationResult {
  candidateId: string;
  status: ValidationStatus;
  /** Why, in one sentence: the failing step, the bar not cleared, the regression. */
  reason: string;
  steps: { kind: CommandKind; ok: boolean; durationMs: number; flaky?: boolean }[];
  benchmarks: BenchmarkOutcome[];
  /**
   * Whether the benchmark runs the changed code (one run with V8 coverage before the
   * interleaved runs); absent when validation stopped earlier or there is no benchmark.
   */
  coverage?: CoverageFinding;
  /**
   * The benchmark command the pairs ran, when it was narrowed to the parts of a chained
   * command that run the change (bench-parts.ts): `parts` of `of`.
   */
  bench?: { command: string; parts: number; of: number };
  /** The empty function the optimized-out check compared with, when a harness gave per-op times. */
  noop?: NoopCost;
  samples: number;
  durationMs: number;
}

export interface ValidateOptions {
  baseline: Baseline;
  candidate: Candidate;
  /** Candidate worktrees are made under this directory (and removed after). */
  workRoot: string;
  env: Record<string, string>;
  log: Logger;
  math: ValidationMath;
  /** Process-level samples per side (default 20). */
  samples?: number;
  trace?: Trace;
  stepTimeoutMs?: number;
  /**
   * The run's no-op cost (noop.ts `measureNoop`), when the caller measured it once for all its
   * candidates; otherwise the first candidate that needs it measures it and leaves it in
   * `workRoot/noop.json` for the rest.
   */
  noop?: NoopCost;
  /**
   * Epoch ms (the optimization's limit): past it no new base/candidate pair starts once
   * MIN_BENCH_PAIRS are done; the verdict is made on the pairs run (less power, same bar).
   */
  deadline?: number;
  /** Called as each step starts (`test`, `bench 3 of 40`): a candidate can take minutes. */
  onStep?: (message: string) => void;
}

/**
 * Stage 5, Validate, for one candidate: its own worktree of the baseline's commit with the
 * baseline's installed dependencies linked in (nothing is reinstalled), the diff applied,
 * build/typecheck/tests (a failing test run is rerun once), one benchmark run with V8 coverage
 * (a candidate whose changed lines the benchmark never executes is rejected there: see
 * coverage.ts), then the benchmark run interleaved base/candidate in separate processes,
 * `samples` times each, and the statistics' verdict per benchmark. Benchmarks within 1.4× of an
 * empty function are flagged and left out of the decision. Without a benchmark a candidate that
 * passes is only a "safe refactor" (low confidence), never accepted.
 */
export async function validateCandidate(options: ValidateOptions): Promise<ValidationResult> {
  const { baseline, candidate, env, log, math } = options;
  const trace = options.trace ?? createTrace();
  let samples = options.samples ?? 20;
  const started = Date.now();
  const dir = join(options.workRoot, candidate.id);
  let coverage: CoverageFinding | undefined;
  let noop: NoopCost | undefined;
  let narrowed: ValidationResult['bench'];
  const result = (
    status: ValidationStatus,
    reason: string,
    steps: ValidationResult['steps'] = [],
    benchmarks: BenchmarkOutcome[] = [],
  ): ValidationResult => ({
    candidateId: candidate.id,
    status,
    reason,
    steps,
    benchmarks,
    ...(coverage ? { coverage } : {}),
    ...(narrowed ? { bench: narrowed } : {}),
    ...(noop ? { noop } : {}),
    samples,
    durationMs: Date.now() - started,
  });

  await mkdir(options.workRoot, { recursive: true });
  await git(['worktree', 'add', '--detach', '-q', dir, 'HEAD'], baseline.root, { env });
  try {
    await linkDependencies(baseline.root, dir, baseline.detect.workspaces);
    await linkBenchDependencies(baseline.root, dir, baseline.detect.benchPackages ?? []);
    const patchFile = join(options.workRoot, `${candidate.id}.diff`);
    await writeFile(patchFile, candidate.diff);
    try {
      await git(['apply', '--whitespace=nowarn', patchFile], dir, { env });
    } catch (err) {
      return result('rejected', `the diff does not apply: ${(err as Error).message.trim()}`);
    }

    const steps: ValidationResult['steps'] = [];
    for (const kind of ['build', 'typecheck', 'test'] as const) {
      const command = baseline.detect.commands[kind]?.command;
      if (!command) continue;
      const { step: run, flaky } = await runOnceMoreIfTests(kind, (name) => {
        options.onStep?.(name);
        return trace.span('validate', `${candidate.id} ${name}`, () =>
          runStep({
            name,
            command,
            cwd: dir,
            env: stepEnv(kind, env),
            log,
            timeoutMs: options.stepTimeoutMs,
          }),
        );
      });
      steps.push({
        kind,
        ok: run.ok,
        durationMs: run.durationMs,
        ...(kind === 'test' ? { flaky } : {}),
      });
      if (!run.ok) {
        const tail = run.output.trim().split('\n').slice(-3).join(' | ');
        return result('rejected', `${kind} failed with the patch: ${tail}`, steps);
      }
    }

    const bench = baseline.detect.commands.bench?.command;
    if (!bench) {
      return result(
        'safe-refactor',
        'builds and passes the tests, but the repository has no benchmark to prove a speedup: safe refactor, low confidence',
        steps,
      );
    }

    // One run before the 2 × samples: a benchmark that never runs the change proves nothing.
    // A chain of benchmark processes runs with each part's processes marked, so the pairs can
    // leave out the parts that never run the change.
    const chain = await benchParts(bench, dir);
    options.onStep?.('bench with coverage');
    const covered = await trace.span('validate', `${candidate.id} bench with coverage`, () =>
      benchCoverage({
        root: dir,
        diff: candidate.diff,
        files: candidate.files,
        command: chain ? partsCommand(chain, { mark: true }) : bench,
        env,
        log,
        coverageDir: join(options.workRoot, `${candidate.id}.coverage`),
        timeoutMs: options.stepTimeoutMs,
      }),
    );
    if (!covered.finding) {
      const tail = covered.run.output.trim().split('\n').slice(-3).join(' | ');
      return result('rejected', `the benchmark failed in the candidate: ${tail}`, steps);
    }
    coverage = covered.finding;
    log.debug({ candidateId: candidate.id, coverage }, 'coverage of the change');
    if (coverage.executed === false) {
      return result(
        'rejected',
        `the benchmark never executes the changed code (${coverage.changed.join(', ')})`,
        steps,
      );
    }

    // Coverage split by benchmark and none of them runs the change more than once: the pairs
    // would end in "no benchmark to judge" (decision.ts leaves those out), so spare them.
    if (coverage.benchmarks !== undefined && coverage.benchmarks.length === 0) {
      return result(
        'rejected',
        `no benchmark runs the changed code more than once (coverage per benchmark: ${coverage.ran.join(', ') || 'nothing'} ran, but never more than once within one benchmark): not benchmarked`,
        steps,
      );
    }

    // Only the parts that run the change, when the names of their results stay those of the
    // whole command's output (a repeated name is numbered across parts: `join #2`).
    let timed = bench;
    const ran = coverage.parts;
    if (chain && ran && ran.length > 0 && ran.length < chain.parts.length) {
      const names = math.read(covered.run.output, covered.run.durationMs).map((r) => r.name);
      if (!names.some((n) => / #\d+$/.test(n))) {
        timed = partsCommand(chain, { keep: ran });
        narrowed = { command: timed, parts: ran.length, of: chain.parts.length };
        log.info(
          { candidateId: candidate.id, bench: narrowed },
          'benchmark narrowed to its parts that run the change',
        );
      }
    }

    // Interleaved, in separate processes: base, candidate, candidate, base, … so drift in
    // the machine's speed falls on both sides alike.
    const base = new Map<string, number[]>();
    const cand = new Map<string, number[]>();
    const perOp = new Map<string, { harness: BenchHarness; base: number[]; candidate: number[] }>();
    let sampled = 0;
    const sample = async (cwd: string, into: Map<string, number[]>): Promise<void> => {
      options.onStep?.(
        `bench ${++sampled} of ${samples * 2}${narrowed ? ` (${narrowed.parts} of ${narrowed.of} parts)` : ''}`,
      );
      const run = await runStep({ name: 'bench', command: timed, cwd, env, log });
      if (!run.ok)
        throw new Error(`the benchmark failed in ${cwd === dir ? 'the candidate' : 'the base'}`);
      for (const r of math.read(run.output, run.durationMs)) {
        const list = into.get(r.name) ?? [];
        list.push(r.value);
        into.set(r.name, list);
        if (r.perOpNs !== undefined && r.harness !== undefined) {
          const ops = perOp.get(r.name) ?? { harness: r.harness, base: [], candidate: [] };
          (into === base ? ops.base : ops.candidate).push(r.perOpNs);
          perOp.set(r.name, ops);
        }
      }
    };
    try {
      await trace.span('validate', `${candidate.id} bench ×${samples * 2}`, async () => {
        for (let i = 0; i < samples; i++) {
          if (
            options.deadline !== undefined &&
            i >= MIN_BENCH_PAIRS &&
            Date.now() >= options.deadline
          ) {
            log.info(
              { candidateId: candidate.id, pairs: i, asked: samples },
              'deadline: fewer pairs',
            );
            samples = i;
            break;
          }
          const pair: [string, Map<string, number[]>][] = [
            [baseline.root, base],
            [dir, cand],
          ];
          if (i % 2 === 1) pair.reverse();
          for (const [cwd, into] of pair) await sample(cwd, into);
        }
      });
    } catch (err) {
      return result('rejected', (err as Error).message, steps);
    }

    if (perOp.size > 0) {
      noop =
        options.noop ??
        (await trace.span('validate', 'no-op cost', () =>
          noopCostOnce({ dir: options.workRoot, env, log }),
        ));
    }
    // Either side: a candidate that lets the engine delete the work looks fastest of all.
    const floors = new Set<number>();
    const flag = (name: string): boolean => {
      const ops = perOp.get(name);
      if (!noop || !ops) return false;
      const cost = noop;
      const out = [ops.base, ops.candidate].some(
        (side) => side.length > 0 && isOptimizedOut(median(side), ops.harness, cost),
      );
      if (out) floors.add(noopFloorNs(cost, ops.harness)!);
      return out;
    };

    const judged = judgeCandidate({
      base,
      candidate: cand,
      optimizedOut: flag,
      emptyFunction: () => [...floors].map(formatNs).join(' / '),
      coverage,
      math,
    });
    return result(judged.status, judged.reason, steps, judged.benchmarks);
  } finally {
    await git(['worktree', 'remove', '--force', dir], baseline.root, { env }).catch(() => '');
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Links the baseline's installed dependencies into a candidate worktree: the root's
 * node_modules and each workspace package's, so no candidate reinstalls anything.
 */
async function linkDependencies(from: string, to: string, workspaces: string[]): Promise<void> {
  for (const rel of ['.', ...workspaces]) {
    const source = join(from, rel, 'node_modules');
    const target = join(to, rel, 'node_modules');
    if (!existsSync(source) || existsSync(target)) continue;
    await mkdir(dirname(target), { recursive: true });
    await symlink(source, target, 'dir');
  }
}

/**
 * A benchmark folder's node_modules in a candidate worktree: each entry linked to the
 * baseline's, except links into the repository itself (`"dequal": "file:../"`), which are made
 * again relative to the candidate, so the benchmark measures the candidate's code, not the base's.
 */
async function linkBenchDependencies(from: string, to: string, dirs: string[]): Promise<void> {
  const link = async (source: string, target: string): Promise<void> => {
    const info = await lstat(source);
    if (info.isSymbolicLink()) {
      const pointsTo = resolve(dirname(source), await readlink(source));
      const inside = relative(from, pointsTo);
      if (!inside.startsWith('..') && !inside.startsWith('/')) {
        await symlink(relative(dirname(target), join(to, inside)), target);
        return;
      }
    }
    await symlink(source, target);
  };
  for (const rel of dirs) {
    const source = join(from, rel, 'node_modules');
    const target = join(to, rel, 'node_modules');
    if (!existsSync(source) || existsSync(target)) continue;
    await mkdir(target, { recursive: true });
    for (const name of await readdir(source)) {
      if (name.startsWith('@')) {
        await mkdir(join(target, name), { recursive: true });
        for (const inner of await readdir(join(source, name))) {
          await link(join(source, name, inner), join(target, name, inner));
        }
      } else {
        await link(join(source, name), join(target, name));
      }
    }
  }
}

function formatNs(ns: number): string {
  return ns < 10 ? `${ns.toFixed(2)} ns` : `${Math.round(ns)} ns`;
}
