import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { Candidate, PatchRejection } from '../contracts/index.js';
import { changedLines, reverseDiff } from './coverage-diff.js';
import { MIN_HITS_PER_BENCHMARK, linesHits } from './coverage.js';

/**
 * Which candidates the benchmark can measure, known before any of them costs a test run: the
 * baseline's benchmark step runs with V8 coverage on (baseline.ts `benchCoverageDir`, no extra
 * run), and each candidate gets `benchHits`, how often that run executed the base's lines the
 * candidate's diff replaces. The scanner's score is static (reached from an entry point, loop
 * depth): in a parser whose options are off, half of its "hot" regexes never run. Ordered by
 * what ran, the `--max-candidates` budget goes to code the benchmark measures, and code it never
 * runs (or runs once, in its setup) is refused with its reason.
 */

/** The directory of the optimization that holds the baseline benchmark's coverage. */
export const BENCH_COVERAGE_DIR = 'bench-coverage';

/**
 * `benchHits` for each candidate: the base's coverage of the lines its diff removes or replaces
 * (numbered in the base); null where the coverage cannot tell.
 */
export async function candidateHeat(
  root: string,
  coverageDir: string,
  candidates: readonly Candidate[],
): Promise<(number | null)[]> {
  const sets = candidates.map((c) => changedLines(reverseDiff(c.diff), c.files));
  return (await linesHits(root, coverageDir, sets)).map((h) => h ?? null);
}

/**
 * Candidates in the order to validate them: code the benchmark ran at least twice first (most
 * runs first), then code the coverage could not tell about; within each, the given order (the
 * scanner's score). Stable.
 */
export function byHeat<T extends { candidate: Candidate }>(planned: readonly T[]): T[] {
  const tier = (c: Candidate): number =>
    c.benchHits === undefined || c.benchHits === null
      ? 1
      : c.benchHits >= MIN_HITS_PER_BENCHMARK
        ? 0
        : 2;
  return planned
    .map((p, index) => ({ p, index }))
    .sort(
      (a, b) =>
        tier(a.p.candidate) - tier(b.p.candidate) ||
        (tier(a.p.candidate) === 0
          ? (b.p.candidate.benchHits ?? 0) - (a.p.candidate.benchHits ?? 0)
          : 0) ||
        a.index - b.index,
    )
    .map(({ p }) => p);
}

/**
 * The refusal of a candidate whose replaced code the baseline's benchmark ran fewer than twice:
 * its own coverage run would reject it ("no benchmark runs the changed code more than once"),
 * after its tests.
 */
export function coldRefusal(c: Candidate): PatchRejection | undefined {
  if (c.benchHits === undefined || c.benchHits === null) return undefined;
  if (c.benchHits >= MIN_HITS_PER_BENCHMARK) return undefined;
  return {
    code: 'BENCH_DOES_NOT_RUN_IT',
    message:
      c.benchHits === 0
        ? "the baseline's benchmark never runs the code this changes (coverage): no benchmark could measure it"
        : "the baseline's benchmark runs the code this changes only once (setup, coverage): no benchmark could measure it",
  };
}

/**
 * The patch stage's use of all this: `written` (every candidate the templates and the model
 * wrote, in the scanner's order) with `benchHits` set from the baseline benchmark's coverage in
 * `coverageDir` (removed afterwards), ordered by heat, the cold ones apart with their refusal
 * (kept in `ordered` when safe refactors were asked for). Without the coverage, as given.
 */
export async function planByHeat<T extends { candidate: Candidate }>(
  root: string,
  coverageDir: string,
  written: readonly T[],
  includeSafeRefactors: boolean,
): Promise<{ ordered: T[]; cold: { planned: T; rejection: PatchRejection }[] }> {
  if (!existsSync(coverageDir)) return { ordered: [...written], cold: [] };
  const heat = await candidateHeat(
    root,
    coverageDir,
    written.map((p) => p.candidate),
  ).finally(() => rm(coverageDir, { recursive: true, force: true }));
  const ordered: T[] = [];
  const cold: { planned: T; rejection: PatchRejection }[] = [];
  const heated = written.map((p, i) => ({
    ...p,
    candidate: { ...p.candidate, benchHits: heat[i]! },
  }));
  for (const planned of byHeat(heated)) {
    // A safe refactor needs no benchmark to run it: asked for, cold code is still tried.
    const rejection = includeSafeRefactors ? undefined : coldRefusal(planned.candidate);
    if (rejection) cold.push({ planned, rejection });
    else ordered.push(planned);
  }
  return { ordered, cold };
}
