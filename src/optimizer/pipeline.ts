import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type {
  Candidate,
  DetectResult,
  Opportunity,
  PatchRejection,
  SpeedupVerdict,
} from '../contracts/index.js';
import { PatchbayError } from '../contracts/index.js';
import type { Logger } from '../observability/index.js';
import { ulid } from '../store/index.js';
import { commitAll, git } from '../workspaces/index.js';
import { runBaseline, type Baseline } from './baseline.js';
import { benchmarkTimeNs, parseBenchOutput } from './bench-output.js';
import { detectRepo } from './detect.js';
import { applyTemplate } from './patch/apply.js';
import { scanRepo } from './scan/index.js';
import { decide, noiseFloor } from './stats.js';
import { runStep } from './steps.js';
import { createTrace } from './trace.js';
import { validateCandidate, type ValidationMath, type ValidationResult } from './validate.js';

export type OptimizeStage =
  'prepare' | 'detect' | 'baseline' | 'calibrate' | 'scan' | 'patch' | 'validate' | 'propose';

export interface OptimizeProgress {
  stage: OptimizeStage;
  message: string;
  /** During validation: candidate k of n. */
  candidate?: { index: number; total: number };
  elapsedMs: number;
  /** Remaining time, once validation has timed a candidate. */
  etaMs?: number;
}

export interface OptimizeOptions {
  /** A local directory (a git repository or not) or a git URL (cloned). */
  source: string;
  /** This run's directory: the working copy, candidate worktrees and the artifacts. */
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
  /** Stop taking new candidates after this many minutes; default 60. */
  maxMinutes?: number;
  /** Fraction, default 0.03. */
  minSpeedup?: number;
  /** Process-level benchmark samples per side; default 20. */
  samples?: number;
  alpha?: number;
  onProgress?: (progress: OptimizeProgress) => void;
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

export interface ProposalMetric {
  benchmark: string;
  /** Medians of the process-level samples, in ns per operation (lower is better). */
  baseMedianNs: number;
  candidateMedianNs: number;
  baseSamples: number;
  candidateSamples: number;
  pValue: number;
  /** The proven speedup (lower confidence bound), and the bar it cleared. */
  lowerBoundSpeedup: number;
  threshold: number;
}

export interface Proposal {
  id: string;
  rule: Candidate['rule'];
  file: string;
  line: number;
  summary: string;
  explanation: string;
  diff: string;
  files: string[];
  risk: Opportunity['risk'];
  metrics: ProposalMetric[];
  /** The headline: the best benchmark's proven speedup. */
  speedup: number;
  /** Everything needed to re-run it: the noise floor, samples, machine, node. */
  evidence: { noiseFloor: number; samples: number; alpha: number; node: string; commit: string };
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

/**
 * `patchbay optimize`: detect → baseline → A/A calibration → scan → patch → validate →
 * propose, offline, with deterministic templates only. Works on its own copy of the source
 * (the user's checkout is never touched) and writes every artifact under `runDir/artifacts`:
 * logs.txt, baseline.json, trace.json, opportunities.json, attempts.json, proposals.json.
 *
 * @throws PatchbayError OPTIMIZE_BASELINE_FAILED when the repository's own baseline is red.
 */
export async function optimize(options: OptimizeOptions): Promise<OptimizeResult> {
  const started = Date.now();
  const runId = `opt_${ulid()}`;
  const { env, log } = options;
  const trace = createTrace();
  const progress = (p: Omit<OptimizeProgress, 'elapsedMs'>): void =>
    options.onProgress?.({ ...p, elapsedMs: Date.now() - started });
  const samples = options.samples ?? 20;
  const alpha = options.alpha ?? 0.05;
  const minSpeedup = options.minSpeedup ?? 0.03;
  const maxCandidates = options.maxCandidates ?? 10;
  const maxProposals = options.maxProposals ?? 5;
  const deadline = started + (options.maxMinutes ?? 60) * 60_000;
  const artifactsDir = join(options.runDir, 'artifacts');
  await mkdir(artifactsDir, { recursive: true });

  progress({ stage: 'prepare', message: `copying ${options.source}` });
  const root = join(options.runDir, 'repo');
  const commit = await trace.span('prepare', 'working copy', () =>
    prepareWorkingCopy(options.source, root, env),
  );

  progress({ stage: 'detect', message: 'package manager, commands, framework' });
  const detected = await trace.span('detect', 'detect', () =>
    detectRepo(root, {
      ...(options.bench || options.test
        ? {
            overrides: {
              commands: {
                ...(options.bench ? { bench: options.bench } : {}),
                ...(options.test ? { test: options.test } : {}),
              },
            },
          }
        : {}),
      log,
    }),
  );
  await writeJson(join(artifactsDir, 'detect.json'), detected);

  progress({ stage: 'baseline', message: 'install, build, typecheck, tests, benchmark' });
  const baseline = await runBaseline({ root, detect: detected, artifactsDir, env, log, trace });

  // A/A: the unchanged code against itself, interleaved like a candidate would be. Its
  // largest apparent "speedup" is the bar this repository's noise sets.
  let floor = 0;
  const bench = detected.commands.bench?.command;
  const read = (output: string, elapsedMs: number) =>
    parseBenchOutput(output, { elapsedMs }).benchmarks.map((b) => ({
      name: b.name,
      value: benchmarkTimeNs(b),
    }));
  if (bench) {
    progress({ stage: 'calibrate', message: `A/A: ${samples * 2} benchmark runs of the base` });
    const runs = new Map<string, number[]>();
    await trace.span('calibrate', `A/A ×${samples * 2}`, async () => {
      for (let i = 0; i < samples * 2; i++) {
        const run = await runStep({ name: 'bench', command: bench, cwd: root, env, log });
        if (!run.ok) throw benchFailed(run.output);
        for (const r of read(run.output, run.durationMs)) {
          runs.set(r.name, [...(runs.get(r.name) ?? []), r.value]);
        }
      }
    });
    floor = noiseFloor([...runs.values()].flatMap((values) => aaSplits(values)));
    await writeJson(join(artifactsDir, 'calibration.json'), {
      noiseFloor: floor,
      runs: Object.fromEntries(runs),
    });
  }

  progress({ stage: 'scan', message: 'rules over the source' });
  const benchEntries = await benchEntryPoints(root, detected);
  const opportunities = await trace.span('scan', 'scan', () =>
    scanRepo(root, { entryPoints: benchEntries }),
  );
  await writeJson(join(artifactsDir, 'opportunities.json'), opportunities);

  progress({ stage: 'patch', message: `${opportunities.length} opportunities` });
  const attempts: Attempt[] = [];
  const candidates: { opportunity: Opportunity; candidate: Candidate }[] = [];
  const seen = new Set<string>();
  for (const opportunity of opportunities) {
    if (candidates.length >= maxCandidates) break;
    if (!opportunity.template) continue;
    const outcome = await applyTemplate(root, opportunity);
    if ('rejected' in outcome) {
      attempts.push({
        opportunity,
        candidateId: null,
        outcome: 'rejected',
        reason: `${outcome.rejected.code}: ${outcome.rejected.message}`,
        rejection: outcome.rejected,
      });
      trace.mark('patch', `${opportunity.rule} refused`, { code: outcome.rejected.code });
      continue;
    }
    if (seen.has(outcome.candidate.id)) continue; // two findings, one rewrite
    seen.add(outcome.candidate.id);
    candidates.push({ opportunity, candidate: outcome.candidate });
  }

  const math: ValidationMath = {
    read,
    decide: (base, candidate): SpeedupVerdict =>
      decide({ base, candidate, alpha, minSpeedup, noiseFloor: floor }),
  };
  const workRoot = join(options.runDir, 'candidates');
  const perCandidate: number[] = [];
  for (const [index, { opportunity, candidate }] of candidates.entries()) {
    if (Date.now() > deadline) {
      attempts.push({
        opportunity,
        candidateId: candidate.id,
        outcome: 'rejected',
        reason: `not validated: the run reached its limit of ${options.maxMinutes ?? 60} minutes`,
      });
      continue;
    }
    const mean =
      perCandidate.length > 0 ? perCandidate.reduce((x, y) => x + y, 0) / perCandidate.length : 0;
    progress({
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
    });
    perCandidate.push(Date.now() - t0);
    attempts.push({
      opportunity,
      candidateId: candidate.id,
      outcome: validation.status,
      reason: validation.reason,
      validation,
    });
    trace.mark('validate', `${candidate.id} ${validation.status}`, { reason: validation.reason });
  }

  progress({ stage: 'propose', message: 'proposals for proven speedups' });
  const proposals = attempts
    .filter((a) => a.outcome === 'accepted' && a.validation)
    .map((a) => toProposal(a, candidates, { floor, samples, alpha, commit }))
    .sort((x, y) => y.speedup - x.speedup)
    .slice(0, maxProposals);
  await writeJson(join(artifactsDir, 'attempts.json'), attempts);
  await writeJson(join(artifactsDir, 'proposals.json'), proposals);
  await writeJson(join(artifactsDir, 'trace.json'), trace.toJSON());

  return {
    runId,
    root,
    commit,
    detect: detected,
    baseline,
    noiseFloor: floor,
    opportunities,
    attempts,
    proposals,
    artifactsDir,
    durationMs: Date.now() - started,
  };
}

function toProposal(
  attempt: Attempt,
  candidates: { candidate: Candidate }[],
  context: { floor: number; samples: number; alpha: number; commit: string },
): Proposal {
  const candidate = candidates.find((c) => c.candidate.id === attempt.candidateId)!.candidate;
  const metrics: ProposalMetric[] = attempt.validation!.benchmarks.map((b) => ({
    benchmark: b.name,
    baseMedianNs: b.verdict.baseMedian,
    candidateMedianNs: b.verdict.candidateMedian,
    baseSamples: b.verdict.baseSamples,
    candidateSamples: b.verdict.candidateSamples,
    pValue: b.verdict.pValue,
    lowerBoundSpeedup: b.verdict.lowerBoundSpeedup,
    threshold: b.verdict.threshold,
  }));
  const best = Math.max(...metrics.map((m) => m.lowerBoundSpeedup));
  const where = `${candidate.file}:${candidate.line}`;
  return {
    id: `prop_${candidate.id.replace(/^cand_/, '')}`,
    rule: candidate.rule,
    file: candidate.file,
    line: candidate.line,
    summary: `${candidate.rule} at ${where}: at least ${(best * 100).toFixed(1)}% faster (${attempt.reason})`,
    explanation: candidate.explanation,
    diff: candidate.diff,
    files: candidate.files,
    risk: attempt.opportunity.risk,
    metrics,
    speedup: best,
    evidence: {
      noiseFloor: context.floor,
      samples: context.samples,
      alpha: context.alpha,
      node: process.version,
      commit: context.commit,
    },
  };
}

/**
 * A private working copy of `source` at `root`, committed (candidates are worktrees of its
 * HEAD): a git URL is cloned; a local repository is cloned from its HEAD (uncommitted changes
 * are left out: say so); a plain directory is copied and committed. Returns the commit.
 */
async function prepareWorkingCopy(
  source: string,
  root: string,
  env: Record<string, string>,
): Promise<string> {
  const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(source) || /^git@/.test(source);
  const opts = { env, timeoutMs: 10 * 60_000 };
  if (isUrl) {
    await git(['clone', '-q', '--depth', '1', source, root], process.cwd(), opts);
  } else {
    const path = resolve(source);
    if (!existsSync(path)) {
      throw new PatchbayError('WORKDIR_NOT_FOUND', `${source} does not exist`, { source });
    }
    if (existsSync(join(path, '.git'))) {
      await git(['clone', '-q', '--no-hardlinks', path, root], process.cwd(), opts);
    } else {
      await cp(path, root, {
        recursive: true,
        filter: (src) => !src.split('/').includes('node_modules'),
      });
      await git(['init', '-q', '-b', 'main'], root, opts);
      await commitAll(root, 'patchbay optimize: snapshot', opts);
    }
  }
  return (await git(['rev-parse', 'HEAD'], root, opts)).trim();
}

/**
 * Files the benchmark runs (`node bench/run.js` → bench/run.js), through a package script
 * when the command is one (`npm run bench`): what they import is the hot path.
 */
async function benchEntryPoints(root: string, detected: DetectResult): Promise<string[]> {
  let command = detected.commands.bench?.command ?? '';
  const script = /^(?:npm|pnpm|yarn|bun)(?: run)? ([\w:.-]+)$/.exec(command.trim())?.[1];
  if (script) {
    try {
      const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
        scripts?: Record<string, string>;
      };
      command = pkg.scripts?.[script] ?? command;
    } catch {
      // no package.json: the command itself is all there is
    }
  }
  return [...command.matchAll(/[\w./-]+\.(?:[cm]?js|[cm]?ts|tsx|jsx)\b/g)]
    .map((m) => m[0].replace(/^\.\//, ''))
    .filter((file) => existsSync(join(root, file)));
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

function benchFailed(output: string): PatchbayError {
  return new PatchbayError(
    'OPTIMIZE_BASELINE_FAILED',
    `the benchmark failed during calibration: ${output.trim().split('\n').slice(-3).join(' | ')}`,
    { step: 'bench' },
  );
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

/** The proposal with this id in any earlier run under `<dataDir>/optimizer`, newest run first. */
export async function findProposal(dataDir: string, id: string): Promise<Proposal> {
  const base = join(dataDir, 'optimizer');
  const runs = existsSync(base) ? (await readdir(base)).sort().reverse() : [];
  for (const run of runs) {
    const file = join(base, run, 'artifacts', 'proposals.json');
    if (!existsSync(file)) continue;
    const proposals = JSON.parse(await readFile(file, 'utf8')) as Proposal[];
    const found = proposals.find((p) => p.id === id);
    if (found) return found;
  }
  throw new PatchbayError('VALIDATION_FAILED', `no proposal ${id} under ${base}`, {
    problems: [{ path: 'apply', message: 'unknown proposal id' }],
  });
}

/**
 * Applies a proposal to `repo` on a new branch `patchbay/optimize-<id>` and commits only the
 * files it touches. `patchFile` is where the diff is written for `git apply`. Returns the branch.
 */
export async function applyProposal(
  proposal: Proposal,
  repo: string,
  patchFile: string,
  env: Record<string, string>,
): Promise<string> {
  const branch = `patchbay/${proposal.id.replace(/^prop_/, 'optimize-')}`;
  await writeFile(patchFile, proposal.diff);
  await git(['checkout', '-q', '-b', branch], repo, { env });
  await git(['apply', patchFile], repo, { env });
  await commitAll(
    repo,
    `perf: ${proposal.summary}\n\n${proposal.explanation}`,
    { env },
    proposal.files,
  );
  return branch;
}
