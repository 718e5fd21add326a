import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import {
  OptimizeStage as OptimizeStageName,
  type DetectResult,
  type Opportunity,
  type PatchRejection,
  type Proposal,
} from '../contracts/index.js';
import type { Logger } from '../observability/index.js';
import { git } from '../workspaces/index.js';
import { runBaseline, type Baseline } from './baseline.js';
import { BENCH_COVERAGE_DIR, planByHeat } from './bench-heat.js';
import { readBenchOutput } from './bench-output.js';
import { benchEntryPoints, detectRepo } from './detect.js';
import {
  discoverWithLlm,
  mergeFindings,
  patchOrRefusal,
  requireLlmScope,
  type LlmCallScope,
} from './llm/index.js';
import { applyTemplate } from './patch/apply.js';
import { mergedCandidates } from './patch/merge.js';
import { detectLanguageLevel } from './patch/level-detect.js';
import { scanRepo } from './scan/index.js';
import { judgeFamily } from './family.js';
import {
  calibrate,
  calibrationFloor,
  calibrationShareEnd,
  leastCandidateMs,
  aaSplits,
  type Calibration,
  type TimeSplit,
} from './calibrate.js';
import { createTrace, mergeTraces, type Trace, type TraceFile } from './trace.js';
import {
  MIN_BENCH_PAIRS,
  validateCandidate,
  type ValidationMath,
  type ValidationResult,
} from './validate.js';
import { prepareWorkingCopy } from './working-copy.js';
import { readJson, writeJson } from './stage-files.js';
import { toProposal, type Planned } from './proposal.js';
import { runWithinBudget, stageBudgetMs } from './stage-budget.js';
import {
  resolveSettings,
  startOptimization,
  type OptimizeState,
  type ResolvedOptimizeSettings,
} from './optimization-state.js';

export { resolveSettings, startOptimization, type ResolvedOptimizeSettings };

/** What progress reports: the six stages, and the steps within them worth naming. */
export type OptimizeStage = OptimizeStageName | 'prepare' | 'calibrate';

export interface OptimizeProgress {
  stage: OptimizeStage;
  message: string;
  /** During validation: candidate k of n. */
  candidate?: { index: number; total: number };
  /** Since the optimization started (the first stage), not this stage. */
  elapsedMs: number;
  /** Remaining time, once validation has timed a candidate. */
  etaMs?: number;
}

export interface OptimizeOptions {
  /** A local directory (a git repository or not) or a git URL (cloned). */
  source: string;
  /** With a git source: the commit, branch or tag to optimize (default its HEAD). */
  ref?: string;
  /** This optimization's directory: the working copy, candidate worktrees and the artifacts. */
  runDir: string;
  env: Record<string, string>;
  log: Logger;
  /** Override the detected benchmark / test command. */
  bench?: string;
  test?: string;
  /** Candidates validated at most (the highest-ranked first); default 10. */
  maxCandidates?: number;
  /** Proposals kept at most (the largest proven speedups); default 5. */
  maxProposals?: number;
  /** Stop taking new candidates this many minutes after the start; default 60. */
  maxMinutes?: number;
  /** Fraction, default 0.03. */
  minSpeedup?: number;
  /** Process-level benchmark samples per side; default 20. */
  samples?: number;
  alpha?: number;
  /** Propose safe refactors (no benchmark proved them) too, labelled confidence `low`. */
  includeSafeRefactors?: boolean;
  /** LLM discovery and patches (needs `llmScope`). */
  llm?: boolean;
  /** The model client for `llm` runs, made on first use. */
  llmScope?: () => LlmCallScope;
  onProgress?: (progress: OptimizeProgress) => void;
  /** See StageContext.calibrationDir. */
  calibrationDir?: string;
}

export interface Attempt {
  opportunity: Opportunity;
  candidateId: string | null;
  outcome: 'accepted' | 'rejected' | 'safe-refactor';
  /** Why: the guard or constraint that refused the patch, or the validation's reason. */
  reason: string;
  rejection?: PatchRejection;
  validation?: ValidationResult;
}

export interface OptimizeResult {
  runId: string;
  root: string;
  commit: string;
  detect: DetectResult;
  baseline: Baseline;
  noiseFloor: number;
  opportunities: Opportunity[];
  attempts: Attempt[];
  proposals: Proposal[];
  artifactsDir: string;
  durationMs: number;
}

export interface StageContext {
  /** The optimization's directory (see OptimizeOptions.runDir). */
  runDir: string;
  env: Record<string, string>;
  log: Logger;
  /** The model client, made on first use: only optimizations with `llm` ask for it. */
  llmScope?: () => LlmCallScope;
  onProgress?: (progress: OptimizeProgress) => void;
  /**
   * Where complete A/A calibrations are stored and reused per repository and commit
   * (`<dataDir>/optimizer/calibrations`); not stored when absent.
   */
  calibrationDir?: string;
  /** Each stage's time budget (stage-budget.ts); none when absent. */
  stageTimeoutMs?: number;
}

/**
 * `patchbay optimize`: detect → baseline → scan → patch → validate (A/A calibration first)
 * → propose, offline, with deterministic templates only. Works on its own copy of the source
 * (the user's checkout is never touched). Each stage reads what the ones before it wrote under
 * `runDir`, so the server runs each as its own run, possibly in another process (see
 * `runOptimizeStage`); here they run one after the other in this process.
 *
 * @throws PatchbayError OPTIMIZE_BASELINE_FAILED when the repository's own baseline is red.
 */
export async function optimize(options: OptimizeOptions): Promise<OptimizeResult> {
  const { runDir, env, log, onProgress } = options;
  await startOptimization(runDir, {
    source: options.source,
    ...(options.ref ? { ref: options.ref } : {}),
    settings: resolveSettings(options),
  });
  const context: StageContext = {
    runDir,
    env,
    log,
    ...(options.llmScope ? { llmScope: options.llmScope } : {}),
    ...(onProgress ? { onProgress } : {}),
    ...(options.calibrationDir ? { calibrationDir: options.calibrationDir } : {}),
  };
  for (const stage of OptimizeStageName.options) await runOptimizeStage(stage, context);
  return readOptimizeResult(runDir);
}

/**
 * Runs one stage of the optimization in `runDir` (started by `startOptimization`), reading the
 * earlier stages' files and writing its own (`stageArtifacts`), including its trace, also when
 * it fails.
 */
export async function runOptimizeStage(stage: OptimizeStageName, ctx: StageContext): Promise<void> {
  const state = await readJson<OptimizeState>(ctx.runDir, 'optimize.json');
  const trace = createTrace();
  const progress: Progress = (p) =>
    ctx.onProgress?.({ ...p, elapsedMs: Date.now() - state.startedAt });
  const io: StageIo = {
    ...ctx,
    state,
    trace,
    progress,
    artifactsDir: join(ctx.runDir, 'artifacts'),
  };
  try {
    const budgetMs = ctx.stageTimeoutMs
      ? stageBudgetMs(stage, ctx.stageTimeoutMs, state.settings.maxMinutes)
      : undefined;
    await (budgetMs
      ? runWithinBudget(stage, budgetMs, () => stages[stage](io))
      : stages[stage](io));
  } finally {
    if (stage !== 'propose') {
      await writeJson(join(io.artifactsDir, `trace.${stage}.json`), trace.toJSON());
    }
  }
}

type Progress = (p: Omit<OptimizeProgress, 'elapsedMs'>) => void;

interface StageIo extends StageContext {
  state: OptimizeState;
  trace: Trace;
  progress: Progress;
  artifactsDir: string;
}

const repoRoot = (io: StageIo): string => join(io.runDir, 'repo');

const stages: Record<OptimizeStageName, (io: StageIo) => Promise<void>> = {
  async detect(io) {
    const { state, trace, log } = io;
    io.progress({ stage: 'prepare', message: `copying ${state.source}` });
    const root = repoRoot(io);
    await trace.span('prepare', 'working copy', () =>
      prepareWorkingCopy(state.source, state.ref, root, io.env),
    );
    io.progress({ stage: 'detect', message: 'package manager, commands, framework' });
    const { bench, test } = state.settings;
    const detected = await trace.span('detect', 'detect', () =>
      detectRepo(root, {
        ...(bench || test
          ? {
              overrides: {
                commands: { ...(bench ? { bench } : {}), ...(test ? { test } : {}) },
              },
            }
          : {}),
        log,
      }),
    );
    await writeJson(join(io.artifactsDir, 'detect.json'), detected);
  },

  async baseline(io) {
    const { env, log, trace, artifactsDir } = io;
    const root = repoRoot(io);
    const detected = await readJson<DetectResult>(artifactsDir, 'detect.json');
    io.progress({ stage: 'baseline', message: 'install, build, typecheck, tests, benchmark' });
    const benchCoverageDir = join(io.runDir, BENCH_COVERAGE_DIR);
    await runBaseline({
      root,
      detect: detected,
      artifactsDir,
      env,
      log,
      trace,
      onStep: (name, command) => io.progress({ stage: 'baseline', message: `${name}: ${command}` }),
      benchCoverageDir,
    }).catch(async (err: unknown) => {
      // No patch stage will read it: a red baseline leaves no coverage behind.
      await rm(benchCoverageDir, { recursive: true, force: true });
      throw err;
    });

    // The A/A calibration waits for the validate stage: only a candidate needs it.
  },

  async scan(io) {
    const detected = await readJson<DetectResult>(io.artifactsDir, 'detect.json');
    io.progress({ stage: 'scan', message: 'rules over the source' });
    const root = repoRoot(io);
    const benchEntries = benchEntryPoints(root, detected);
    let opportunities = await io.trace.span('scan', 'scan', () =>
      scanRepo(root, { entryPoints: benchEntries, packages: detected.workspaces }),
    );
    if (io.state.settings.llm) {
      io.progress({ stage: 'scan', message: 'the model picks files and reads them' });
      const found = await discoverWithLlm({
        root,
        detect: detected,
        found: opportunities,
        benchEntries: benchEntries.map((f) => (isAbsolute(f) ? relative(root, f) : f)),
        llm: llmScopeOf(io),
        log: io.log,
        trace: io.trace,
      });
      opportunities = mergeFindings(opportunities, found);
    }
    await writeJson(join(io.artifactsDir, 'opportunities.json'), opportunities);
  },

  async patch(io) {
    const opportunities = await readJson<Opportunity[]>(io.artifactsDir, 'opportunities.json');
    const { maxCandidates } = io.state.settings;
    io.progress({ stage: 'patch', message: `${opportunities.length} opportunities` });
    const refused: Attempt[] = [];
    const candidates: Planned[] = [];
    const written: Planned[] = [];
    const seen = new Set<string>();
    // What the model's patches are written for: read once, only when it writes any.
    const framework = io.state.settings.llm
      ? (await readJson<DetectResult>(io.artifactsDir, 'detect.json')).framework.name
      : 'unknown';
    // Templates write what the repository's lint and runtime accept (`var` in ES5 code).
    const level = await detectLanguageLevel(repoRoot(io));
    io.log.info(
      { syntaxCap: level.syntaxCap, builtins: level.builtins, reasons: level.reasons },
      'language level',
    );
    // Every template is written (they are cheap), then ordered by what the benchmark runs;
    // a model's patches cost calls, so no more of them than could be validated.
    let byModelCount = 0;
    for (const opportunity of opportunities) {
      const byModel = opportunity.source === 'llm' && io.state.settings.llm;
      if (!opportunity.template && !byModel) continue;
      if (byModel && byModelCount >= maxCandidates) continue;
      if (byModel) byModelCount++;
      const outcome = byModel
        ? await patchOrRefusal({
            root: repoRoot(io),
            framework,
            opportunity,
            llm: llmScopeOf(io),
            trace: io.trace,
          })
        : await io.trace.span('patch', opportunity.rule, () =>
            applyTemplate(repoRoot(io), opportunity, { level }),
          );
      if ('rejected' in outcome) {
        refused.push({
          opportunity,
          candidateId: null,
          outcome: 'rejected',
          reason: `${outcome.rejected.code}: ${outcome.rejected.message}`,
          rejection: outcome.rejected,
        });
        io.trace.mark('patch', `${opportunity.rule} refused`, { code: outcome.rejected.code });
        continue;
      }
      if (seen.has(outcome.candidate.id)) continue; // two findings, one rewrite
      seen.add(outcome.candidate.id);
      written.push({ opportunity, candidate: outcome.candidate });
    }
    // Several findings of one additive rule in one file: also one candidate for all of them.
    written.unshift(...(await mergedCandidates(repoRoot(io), written, level)));
    // What the baseline's benchmark ran, from its coverage (bench-heat.ts).
    const coverageDir = join(io.runDir, BENCH_COVERAGE_DIR);
    if (existsSync(coverageDir))
      io.progress({ stage: 'patch', message: 'what the benchmark runs' });
    const heated = await io.trace.span('patch', 'bench heat', () =>
      planByHeat(repoRoot(io), coverageDir, written, io.state.settings.includeSafeRefactors),
    );
    for (const { planned, rejection } of heated.cold) {
      refused.push({
        opportunity: planned.opportunity,
        candidateId: null,
        outcome: 'rejected',
        reason: `${rejection.code}: ${rejection.message}`,
        rejection,
      });
    }
    candidates.push(...heated.ordered.slice(0, maxCandidates));
    await writeJson(join(io.artifactsDir, 'candidates.json'), { candidates, refused });
  },

  async validate(io) {
    const { env, log, trace, artifactsDir, state } = io;
    const { samples, alpha, minSpeedup, maxMinutes } = state.settings;
    const { candidates, refused } = await readJson<{ candidates: Planned[]; refused: Attempt[] }>(
      artifactsDir,
      'candidates.json',
    );
    const baseline = await readJson<Baseline>(artifactsDir, 'baseline.json');
    const deadline = state.startedAt + maxMinutes * 60_000;
    const calibration = await calibrateFor(io, baseline, candidates.length, deadline);
    await writeJson(join(artifactsDir, 'calibration.json'), calibration);
    // Where the validation time went, rewritten after each candidate (a run stopped from
    // outside still leaves it).
    const split: TimeSplit = {
      calibration: {
        ms: calibration.source === 'cache' ? 0 : (calibration.durationMs ?? 0),
        runs: Math.max(0, ...Object.values(calibration.runs).map((r) => r.length)),
        stopped: calibration.stopped ?? calibration.source,
      },
      candidates: [],
    };
    await writeJson(join(artifactsDir, 'time-split.json'), split);
    const floor = calibration.noiseFloor;
    const math = validationMath({ alpha, minSpeedup }, floor);
    const attempts: Attempt[] = [...refused];
    const workRoot = join(io.runDir, 'candidates');
    const perCandidate: number[] = [];
    // The least a candidate costs: its tests, one coverage run and MIN_BENCH_PAIRS pairs.
    const leastMs = leastCandidateMs(baseline, {
      ms: calibration.durationMs ?? 0,
      runs: split.calibration.runs,
    });
    for (const [index, { opportunity, candidate }] of candidates.entries()) {
      const left = deadline - Date.now();
      if (left <= 0 || calibration.unavailable || left < leastMs) {
        attempts.push({
          opportunity,
          candidateId: candidate.id,
          outcome: 'rejected',
          reason: calibration.unavailable
            ? `not validated: ${calibration.unavailable}`
            : left > 0
              ? `not validated: ${Math.round(left / 1000)} s were left before the limit of ${maxMinutes} minutes, and a candidate needs at least ${Math.round(leastMs / 1000)} s (its tests, a coverage run and ${MIN_BENCH_PAIRS} benchmark pairs)`
              : `not validated: the optimization reached its limit of ${maxMinutes} minutes`,
        });
        continue;
      }
      const mean =
        perCandidate.length > 0 ? perCandidate.reduce((x, y) => x + y, 0) / perCandidate.length : 0;
      io.progress({
        stage: 'validate',
        message: `${opportunity.rule} in ${opportunity.file}:${opportunity.line}`,
        candidate: { index: index + 1, total: candidates.length },
        ...(mean > 0 ? { etaMs: mean * (candidates.length - index) } : {}),
      });
      const t0 = Date.now();
      const validation = await validateCandidate({
        baseline,
        candidate,
        workRoot,
        env,
        log,
        math,
        samples,
        trace,
        deadline,
        onStep: (step) =>
          io.progress({
            stage: 'validate',
            message: `${opportunity.rule} in ${opportunity.file}:${opportunity.line}: ${step}`,
            candidate: { index: index + 1, total: candidates.length },
          }),
      });
      perCandidate.push(Date.now() - t0);
      split.candidates.push({
        id: candidate.id,
        ms: Date.now() - t0,
        steps: Object.fromEntries(validation.steps.map((st) => [st.kind, st.durationMs])),
        ...(validation.coverage ? { coverageMs: validation.coverage.runMs } : {}),
        // Pairs actually run: none when validation stopped before the benchmark.
        benchPairs: validation.benchmarks.length > 0 ? validation.samples : 0,
        status: validation.status,
      });
      await writeJson(join(artifactsDir, 'time-split.json'), split);
      await writeJson(join(artifactsDir, 'attempts.json'), attempts);
      attempts.push({
        opportunity,
        candidateId: candidate.id,
        outcome: validation.status,
        reason: validation.reason,
        validation,
      });
      trace.mark('validate', `${candidate.id} ${validation.status}`, { reason: validation.reason });
    }
    await writeJson(join(artifactsDir, 'attempts.json'), attempts);
  },

  async propose(io) {
    const { artifactsDir, state } = io;
    io.progress({ stage: 'propose', message: 'proposals for proven speedups' });
    const attempts = await readJson<Attempt[]>(artifactsDir, 'attempts.json');
    const { candidates } = await readJson<{ candidates: Planned[] }>(
      artifactsDir,
      'candidates.json',
    );
    const { noiseFloor: floor } = await readJson<{ noiseFloor: number }>(
      artifactsDir,
      'calibration.json',
    );
    const commit = (await git(['rev-parse', 'HEAD'], repoRoot(io), { env: io.env })).trim();
    const { samples, alpha, maxProposals } = state.settings;
    const timeline = attempts.map((a) => ({
      rule: a.opportunity.rule,
      file: a.opportunity.file,
      line: a.opportunity.line,
      candidateId: a.candidateId,
      outcome: a.outcome,
      reason: a.reason,
    }));
    const context = { floor, samples, alpha, commit, timeline };
    const proven = attempts
      .filter((a) => a.outcome === 'accepted' && a.validation)
      .map((a) => toProposal(a, candidates, context))
      .sort((x, y) => y.speedup - x.speedup);
    // Unproven changes only on request, and after every proven one.
    const safe = state.settings.includeSafeRefactors
      ? attempts
          .filter((a) => a.outcome === 'safe-refactor' && a.validation)
          .map((a) => toProposal(a, candidates, context))
      : [];
    const proposals = [...proven, ...safe].slice(0, maxProposals);
    await writeJson(join(artifactsDir, 'proposals.json'), proposals);
    // One timeline of every stage, each of which may have run in another process.
    const traces: TraceFile[] = [];
    for (const stage of OptimizeStageName.options) {
      const file = join(artifactsDir, `trace.${stage}.json`);
      if (existsSync(file)) traces.push(JSON.parse(await readFile(file, 'utf8')) as TraceFile);
    }
    traces.push(io.trace.toJSON());
    await writeJson(join(artifactsDir, 'trace.json'), mergeTraces(traces));
  },
};

function llmScopeOf(io: StageIo): LlmCallScope {
  return requireLlmScope(io.llmScope);
}

/**
 * The A/A calibration the validate stage judges with: none without a candidate or a benchmark
 * (floor 0, nothing to judge), else a stored one of the same code or a new one, bounded by the
 * optimization's deadline (calibrate.ts).
 */
async function calibrateFor(
  io: StageIo,
  baseline: Baseline,
  candidates: number,
  deadline: number,
): Promise<Calibration> {
  const bench = baseline.detect.commands.bench?.command;
  if (!bench || candidates === 0) {
    return { noiseFloor: 0, runs: {}, source: 'skipped', createdAt: new Date().toISOString() };
  }
  const { samples, minSpeedup } = io.state.settings;
  const commit = (await git(['rev-parse', 'HEAD'], baseline.root, { env: io.env })).trim();
  return calibrate({
    root: baseline.root,
    bench,
    samples,
    env: io.env,
    log: io.log,
    trace: io.trace,
    deadline,
    // The candidates get their share of the time, and a floor far under the minimum speedup
    // (which then sets the bar) needs no more runs.
    shareEnd: calibrationShareEnd(Date.now(), deadline, candidates),
    tightFloor: minSpeedup / 2,
    ...(io.calibrationDir ? { cacheDir: io.calibrationDir } : {}),
    source: io.state.source,
    commit,
    onRun: (done, total) =>
      io.progress({
        stage: 'calibrate',
        message: `A/A: benchmark run ${done + 1} of ${total} of the base`,
      }),
  });
}

export { aaSplits, calibrationFloor };

/** Per-op readings keep their harness, so validation can flag results an empty function matches. */
const readBench = readBenchOutput;

/**
 * The reader and the decision validation uses, at the run's α and minimum speedup and the
 * repository's A/A floor (bench/optimizer.ts measures exactly this).
 */
export function validationMath(
  settings: Pick<ResolvedOptimizeSettings, 'alpha' | 'minSpeedup'>,
  floor: number,
): ValidationMath {
  return {
    read: readBench,
    judge: (members) =>
      judgeFamily(members, {
        alpha: settings.alpha,
        minSpeedup: settings.minSpeedup,
        noiseFloor: floor,
      }),
  };
}

/** Everything the stages wrote, as one result (after `propose`). */
export async function readOptimizeResult(runDir: string): Promise<OptimizeResult> {
  const artifactsDir = join(runDir, 'artifacts');
  const state = await readJson<OptimizeState>(runDir, 'optimize.json');
  const root = join(runDir, 'repo');
  const proposals = await readJson<Proposal[]>(artifactsDir, 'proposals.json');
  return {
    runId: state.id,
    root,
    commit: proposals[0]?.evidence.commit ?? (await git(['rev-parse', 'HEAD'], root)).trim(),
    detect: await readJson<DetectResult>(artifactsDir, 'detect.json'),
    baseline: await readJson<Baseline>(artifactsDir, 'baseline.json'),
    noiseFloor: (await readJson<{ noiseFloor: number }>(artifactsDir, 'calibration.json'))
      .noiseFloor,
    opportunities: await readJson<Opportunity[]>(artifactsDir, 'opportunities.json'),
    attempts: await readJson<Attempt[]>(artifactsDir, 'attempts.json'),
    proposals,
    artifactsDir,
    durationMs: Date.now() - state.startedAt,
  };
}
