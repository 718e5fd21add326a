import type { SpeedupVerdict } from '../contracts/index.js';
import type { CoverageFinding } from './coverage.js';
import type { FamilyMember, FamilyVerdict } from './family.js';
import { OPTIMIZED_OUT_FACTOR } from './stats.js';

export interface BenchmarkOutcome {
  name: string;
  base: number[];
  candidate: number[];
  verdict: SpeedupVerdict;
  /** The candidate is proven slower here by the bar (the family's correction applied). */
  regression: boolean;
  /**
   * Part of the family the decision was made on: runs the changed code (as far as coverage
   * tells benchmarks apart) and is not optimized out.
   */
  judged: boolean;
  /**
   * The median time per operation of either side is within 1.4× of an empty function's
   * (mitata's "optimized out" heuristic): the engine has probably removed the work, so this
   * benchmark counts neither for nor against the candidate. Never set for whole-command times.
   */
  optimizedOut: boolean;
}

export interface JudgeCandidateInput {
  /** Per benchmark, the process-level readings of each side (lower is better). */
  base: ReadonlyMap<string, number[]>;
  candidate: ReadonlyMap<string, number[]>;
  /** Whether a benchmark runs within 1.4× of an empty function (either side). */
  optimizedOut: (name: string) => boolean;
  /** Says the empty function's cost, for the reason; called after `optimizedOut`. */
  emptyFunction?: () => string;
  coverage: Pick<CoverageFinding, 'executed' | 'note' | 'benchmarks'>;
  math: { judge(members: FamilyMember[]): FamilyVerdict };
}

/**
 * The decision after the interleaved runs, as validation makes it (and bench/optimizer.ts
 * measures it): the family is every benchmark that runs the changed code (when coverage can
 * tell benchmarks apart; otherwise all of them) and is not optimized out, judged together
 * (family.ts); the others get a verdict for the record, judged on their own, and count neither
 * for nor against the candidate.
 */
export function judgeCandidate(input: JudgeCandidateInput): {
  status: 'accepted' | 'rejected';
  reason: string;
  benchmarks: BenchmarkOutcome[];
} {
  const { coverage, math } = input;
  const runsChange = (name: string): boolean =>
    coverage.benchmarks === undefined || coverage.benchmarks.includes(name);
  const paired: { name: string; base: number[]; candidate: number[]; out: boolean }[] = [];
  for (const [name, b] of input.base) {
    const c = input.candidate.get(name);
    if (!c || c.length === 0) continue;
    paired.push({ name, base: b, candidate: c, out: input.optimizedOut(name) });
  }
  if (paired.length === 0) {
    return {
      status: 'rejected',
      reason: 'the benchmark printed no result this harness reader knows',
      benchmarks: [],
    };
  }
  const inFamily = paired.filter((x) => !x.out && runsChange(x.name));
  const family = math.judge(inFamily);
  const aside = math.judge(paired.filter((x) => !inFamily.includes(x)));
  const verdicts = new Map([...family.members, ...aside.members].map((m) => [m.name, m] as const));
  const benchmarks: BenchmarkOutcome[] = paired.map((x) => ({
    name: x.name,
    base: x.base,
    candidate: x.candidate,
    verdict: verdicts.get(x.name)!.verdict,
    regression: inFamily.includes(x) && verdicts.get(x.name)!.regression,
    optimizedOut: x.out,
    judged: inFamily.includes(x),
  }));
  const flagged = paired.filter((x) => x.out).map((x) => x.name);
  const elsewhere = paired.filter((x) => !x.out && !runsChange(x.name)).map((x) => x.name);
  const emptyFunction = `${OPTIMIZED_OUT_FACTOR}× an empty function's ${input.emptyFunction?.() ?? ''}`;
  // The decision's caveats, said with it rather than only in the record.
  const caveats = [
    ...(flagged.length > 0
      ? [`ignored as optimized out (within ${emptyFunction}): ${flagged.join(', ')}`]
      : []),
    ...(elsewhere.length > 0
      ? [
          `not judged, coverage shows they do not run the change (or only once): ${elsewhere.join(', ')}`,
        ]
      : []),
    ...(coverage.executed === 'unknown'
      ? [`not known whether the benchmark runs the change: ${coverage.note ?? 'no coverage'}`]
      : []),
  ];
  const withCaveats = (reason: string): string =>
    caveats.length > 0 ? `${reason}; ${caveats.join('; ')}` : reason;
  if (inFamily.length === 0 && flagged.length > 0 && elsewhere.length === 0) {
    return {
      status: 'rejected',
      reason: `every benchmark runs within ${emptyFunction} (${flagged.join(', ')}): the engine has probably optimized the work out, so none can show a speedup`,
      benchmarks,
    };
  }
  return {
    status: family.accepted ? 'accepted' : 'rejected',
    reason: withCaveats(family.reason),
    benchmarks,
  };
}
