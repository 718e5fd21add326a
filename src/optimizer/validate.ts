import { existsSync } from 'node:fs';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Candidate, CommandKind, SpeedupVerdict } from '../contracts/index.js';
import type { Logger } from '../observability/index.js';
import { git } from '../workspaces/index.js';
import type { Baseline } from './baseline.js';
import { runOnceMoreIfTests, runStep } from './steps.js';
import { createTrace, type Trace } from './trace.js';

/** One benchmark's reading from one process: lower is better (times, not rates). */
export interface BenchReading {
  name: string;
  value: number;
}

/** What validation needs from the statistics (src/optimizer/stats.ts) and the harness parser. */
export interface ValidationMath {
  /**
   * Readings of one bench process's output, converted so lower is better; `elapsedMs` (the
   * whole command's time) stands in when the output has no result a reader knows.
   */
  read(output: string, elapsedMs: number): BenchReading[];
  /** base vs candidate samples (lower is better) → the verdict at the run's bar. */
  decide(base: number[], candidate: number[]): SpeedupVerdict;
}

export interface BenchmarkOutcome {
  name: string;
  base: number[];
  candidate: number[];
  verdict: SpeedupVerdict;
  /** The candidate is significantly slower here (the same test, the other way round). */
  regression: boolean;
}

export type ValidationStatus = 'accepted' | 'rejected' | 'safe-refactor';

export interface ValidationResult {
  candidateId: string;
  status: ValidationStatus;
  /** Why, in one sentence: the failing step, the bar not cleared, the regression. */
  reason: string;
  steps: { kind: CommandKind; ok: boolean; durationMs: number; flaky?: boolean }[];
  benchmarks: BenchmarkOutcome[];
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
}

/**
 * Stage 5, Validate, for one candidate: its own worktree of the baseline's commit with the
 * baseline's installed dependencies linked in (nothing is reinstalled), the diff applied,
 * build/typecheck/tests (a failing test run is rerun once), then the benchmark run
 * interleaved base/candidate in separate processes, `samples` times each, and the statistics'
 * verdict per benchmark. Without a benchmark a candidate that passes is only a "safe
 * refactor" (low confidence), never accepted.
 */
export async function validateCandidate(options: ValidateOptions): Promise<ValidationResult> {
  const { baseline, candidate, env, log, math } = options;
  const trace = options.trace ?? createTrace();
  const samples = options.samples ?? 20;
  const started = Date.now();
  const dir = join(options.workRoot, candidate.id);
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
    samples,
    durationMs: Date.now() - started,
  });

  await mkdir(options.workRoot, { recursive: true });
  await git(['worktree', 'add', '--detach', '-q', dir, 'HEAD'], baseline.root, { env });
  try {
    await linkDependencies(baseline.root, dir, baseline.detect.workspaces);
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
      const { step: run, flaky } = await runOnceMoreIfTests(kind, (name) =>
        trace.span('validate', `${candidate.id} ${name}`, () =>
          runStep({ name, command, cwd: dir, env, log, timeoutMs: options.stepTimeoutMs }),
        ),
      );
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

    // Interleaved, in separate processes: base, candidate, candidate, base, … so drift in
    // the machine's speed falls on both sides alike.
    const base = new Map<string, number[]>();
    const cand = new Map<string, number[]>();
    const sample = async (cwd: string, into: Map<string, number[]>): Promise<void> => {
      const run = await runStep({ name: 'bench', command: bench, cwd, env, log });
      if (!run.ok)
        throw new Error(`the benchmark failed in ${cwd === dir ? 'the candidate' : 'the base'}`);
      for (const r of math.read(run.output, run.durationMs)) {
        const list = into.get(r.name) ?? [];
        list.push(r.value);
        into.set(r.name, list);
      }
    };
    try {
      await trace.span('validate', `${candidate.id} bench ×${samples * 2}`, async () => {
        for (let i = 0; i < samples; i++) {
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

    const benchmarks: BenchmarkOutcome[] = [];
    for (const [name, b] of base) {
      const c = cand.get(name);
      if (!c || c.length === 0) continue;
      benchmarks.push({
        name,
        base: b,
        candidate: c,
        verdict: math.decide(b, c),
        regression: math.decide(c, b).accepted,
      });
    }
    const regressions = benchmarks.filter((x) => x.regression).map((x) => x.name);
    const wins = benchmarks.filter((x) => x.verdict.accepted);
    if (benchmarks.length === 0) {
      return result('rejected', 'the benchmark printed no result this harness reader knows', steps);
    }
    if (regressions.length > 0) {
      return result('rejected', `slower on ${regressions.join(', ')}`, steps, benchmarks);
    }
    if (wins.length === 0) {
      const best = benchmarks.reduce((a, x) =>
        x.verdict.lowerBoundSpeedup > a.verdict.lowerBoundSpeedup ? x : a,
      );
      return result(
        'rejected',
        `no proven speedup: ${best.name}: ${best.verdict.reason}`,
        steps,
        benchmarks,
      );
    }
    return result(
      'accepted',
      wins.map((w) => `${w.name}: ${w.verdict.reason}`).join('; '),
      steps,
      benchmarks,
    );
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
