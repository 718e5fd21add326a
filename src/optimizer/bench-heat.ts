import { rm } from 'node:fs/promises';
import type { Opportunity, PatchRejection } from '../contracts/index.js';
import { MIN_HITS_PER_BENCHMARK, spanHits } from './coverage.js';

/**
 * Which opportunities the benchmark actually runs, measured rather than guessed: the baseline's
 * benchmark step runs with V8 coverage on (baseline.ts `benchCoverageDir`, no extra run), and
 * each opportunity that could become a candidate gets `benchHits`, how often the benchmark ran
 * its code. The scanner's score is static (reached from an entry point, loop depth): in a
 * parser with options off, half of its "hot" regexes never run. Ordered by what ran, the
 * `--max-candidates` budget goes to code the benchmark can measure, and code it never runs (or
 * runs once, in its setup) is refused before it costs a test run and a coverage run.
 */

/** The directory of the optimization that holds the baseline benchmark's coverage. */
export const BENCH_COVERAGE_DIR = 'bench-coverage';

/** Opportunities that can become candidates: a template's, or a model's when it writes patches. */
function patchable(o: Opportunity, llm: boolean): boolean {
  return o.template !== null || (llm && o.source === 'llm');
}

/**
 * `opportunities` with `benchHits` set on the patchable ones, ordered: code the benchmark ran
 * at least twice first (most runs first), then what the coverage could not tell, then the rest;
 * within each, the scanner's order. The coverage directory is removed afterwards.
 */
export async function withBenchHeat(
  root: string,
  coverageDir: string,
  opportunities: readonly Opportunity[],
  llm: boolean,
): Promise<Opportunity[]> {
  const measured = opportunities.filter((o) => patchable(o, llm));
  try {
    const hits = await spanHits(root, coverageDir, measured);
    const heat = new Map(measured.map((o, i) => [o, hits[i] ?? null]));
    const tier = (o: Opportunity): number => {
      const h = heat.get(o);
      if (h === undefined) return 3;
      return h === null ? 1 : h >= MIN_HITS_PER_BENCHMARK ? 0 : 2;
    };
    return opportunities
      .map((o, index) => ({ o, index }))
      .sort((a, b) => {
        const ta = tier(a.o);
        const tb = tier(b.o);
        if (ta !== tb) return ta - tb;
        if (ta === 0) return (heat.get(b.o) ?? 0) - (heat.get(a.o) ?? 0) || a.index - b.index;
        return a.index - b.index;
      })
      .map(({ o }) => (heat.has(o) ? { ...o, benchHits: heat.get(o)! } : o));
  } finally {
    await rm(coverageDir, { recursive: true, force: true });
  }
}

/**
 * The refusal of an opportunity the baseline's benchmark ran fewer than twice: a candidate
 * there would be rejected by its own coverage run ("no benchmark runs the changed code more
 * than once") after its tests.
 */
export function coldRefusal(o: Opportunity): PatchRejection | undefined {
  if (o.benchHits === undefined || o.benchHits === null) return undefined;
  if (o.benchHits >= MIN_HITS_PER_BENCHMARK) return undefined;
  return {
    code: 'BENCH_DOES_NOT_RUN_IT',
    message:
      o.benchHits === 0
        ? "the baseline's benchmark never runs this code (coverage): no benchmark could measure a change here"
        : "the baseline's benchmark runs this code only once (its setup, coverage): no benchmark could measure a change here",
  };
}
