import type { SpeedupVerdict } from '../contracts/index.js';
import {
  DEFAULT_ALPHA,
  formatP,
  geometricMean,
  lowerBoundSpeedup,
  mannWhitneyU,
  median,
  percent,
  speedupBar,
  trimOutliersPooled,
} from './stats.js';

/**
 * The decision on one candidate over every benchmark it is judged on (docs/optimizer.md,
 * "The decision"). Each judged benchmark contributes two hypotheses, "faster by at least the
 * bar" and "slower by at least the bar", each a one-sided Mann–Whitney U against the other side
 * scaled by the bar; all 2m p-values are corrected together with Holm's step-down procedure, so
 * the probability that *any* claim about the candidate — a speedup or a regression — is false
 * stays at most α however many benchmarks the library has. (Without it, twenty benchmarks at
 * α = 0.05 give an identical candidate a 64 % chance of one "significant" result.)
 *
 * Holm rather than Benjamini–Hochberg: the optimizer makes one yes/no claim per candidate, and
 * one false "faster" is the failure to avoid, which is the family-wise error, not the expected
 * share of false discoveries; Holm holds under any dependence between benchmarks (they share a
 * process and the machine's load), where BH needs positive dependence; and when nothing changed
 * (the A/A case) BH's guarantee is no stronger than Holm's anyway.
 */

export interface FamilyMember {
  name: string;
  /** Process-level times (lower is better); non-finite values are dropped. */
  base: readonly number[];
  candidate: readonly number[];
}

export interface FamilyOptions {
  alpha?: number;
  minSpeedup?: number;
  noiseFloor?: number;
  noiseMargin?: number;
}

export interface MemberVerdict {
  name: string;
  verdict: SpeedupVerdict;
  /** Proven slower by at least the bar, after the correction. */
  regression: boolean;
}

export interface FamilyVerdict {
  accepted: boolean;
  reason: string;
  members: MemberVerdict[];
  /** 2 × members: the size of the corrected family. */
  hypotheses: number;
  /** Geometric mean of base/candidate medians − 1 over the members: the headline. */
  geometricSpeedup: number;
}

/**
 * Holm's step-down adjusted p-values: sort ascending, p̃(k) = max over j ≤ k of
 * min(1, (M − j + 1)·p(j)). Rejecting where p̃ < α keeps the family-wise error ≤ α.
 *
 * @example holmAdjust([0.01, 0.04, 0.03]) // [0.03, 0.06, 0.06]
 */
export function holmAdjust(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((_, i) => i).sort((x, y) => pValues[x]! - pValues[y]!);
  const adjusted = new Array<number>(m);
  let running = 0;
  order.forEach((index, k) => {
    running = Math.max(running, Math.min(1, (m - k) * pValues[index]!));
    adjusted[index] = running;
  });
  return adjusted;
}

/**
 * The significance level at which Holm tested each hypothesis: α / (M − k + 1) for the k-th
 * smallest p. A rejected hypothesis's confidence bound is read at this level.
 */
function holmLevels(pValues: readonly number[], alpha: number): number[] {
  const m = pValues.length;
  const order = pValues.map((_, i) => i).sort((x, y) => pValues[x]! - pValues[y]!);
  const levels = new Array<number>(m);
  order.forEach((index, k) => (levels[index] = alpha / (m - k)));
  return levels;
}

interface Prepared {
  name: string;
  base: number[];
  candidate: number[];
  testable: boolean;
  pFaster: number;
  pSlower: number;
}

/**
 * Judges a candidate on its family of benchmarks (only those that execute the change, and not
 * optimized out: the caller chooses). Accepted iff at least one benchmark is proven faster by
 * the bar after the correction, none is proven slower by the bar, and the benchmarks taken
 * together (geometric mean of the median ratios) are not slower. An empty family is rejected.
 */
export function judgeFamily(
  members: readonly FamilyMember[],
  options: FamilyOptions = {},
): FamilyVerdict {
  const alpha = options.alpha ?? DEFAULT_ALPHA;
  const bar = speedupBar(options);
  const prepared: Prepared[] = members.map((m) => {
    const [base, candidate] = trimOutliersPooled(
      m.base.filter(Number.isFinite),
      m.candidate.filter(Number.isFinite),
    );
    const testable = base.length >= 2 && candidate.length >= 2;
    const scale = 1 + bar.threshold;
    return {
      name: m.name,
      base,
      candidate,
      testable,
      pFaster: testable
        ? mannWhitneyU(
            base,
            candidate.map((c) => c * scale),
            'greater',
          ).p
        : 1,
      pSlower: testable
        ? mannWhitneyU(
            candidate,
            base.map((b) => b * scale),
            'greater',
          ).p
        : 1,
    };
  });
  const raw = [...prepared.map((p) => p.pFaster), ...prepared.map((p) => p.pSlower)];
  const hypotheses = raw.length;
  const adjusted = holmAdjust(raw);
  const levels = holmLevels(raw, alpha);
  const n = prepared.length;

  const results: MemberVerdict[] = prepared.map((p, i) => {
    const adjFaster = adjusted[i]!;
    const adjSlower = adjusted[n + i]!;
    const accepted = adjFaster < alpha;
    const level = levels[i]!;
    const plain = p.testable ? mannWhitneyU(p.base, p.candidate, 'greater').p : 1;
    const bound = p.testable ? lowerBoundSpeedup(p.base, p.candidate, level) : 0;
    const test = `one-sided Mann–Whitney U p=${formatP(plain)}, n=${p.base.length}/${p.candidate.length}, Holm over ${hypotheses}`;
    const reason = !p.testable
      ? `too few samples to test (${p.base.length} base, ${p.candidate.length} candidate after trimming)`
      : accepted
        ? `at least ${percent(bound)} faster ≥ ${bar.text} (adjusted p=${formatP(adjFaster)}); ${test}`
        : `not proven faster by the ${bar.text} (adjusted p=${formatP(adjFaster)} ≥ α=${alpha}); ${test}`;
    return {
      name: p.name,
      regression: adjSlower < alpha,
      verdict: {
        baseSamples: p.base.length,
        candidateSamples: p.candidate.length,
        baseMedian: p.base.length > 0 ? median(p.base) : 0,
        candidateMedian: p.candidate.length > 0 ? median(p.candidate) : 0,
        pValue: plain,
        lowerBoundSpeedup: accepted ? bound : 0,
        threshold: bar.threshold,
        noiseFloor: bar.floor,
        accepted,
        reason,
        adjustedPValue: adjFaster,
        hypotheses,
        slowerAdjustedPValue: adjSlower,
      },
    };
  });

  const ratios = results
    .filter((r) => r.verdict.candidateMedian > 0 && r.verdict.baseMedian > 0)
    .map((r) => r.verdict.baseMedian / r.verdict.candidateMedian);
  const geometric = ratios.length > 0 ? geometricMean(ratios) - 1 : 0;
  const verdict = (accepted: boolean, reason: string): FamilyVerdict => ({
    accepted,
    reason,
    members: results,
    hypotheses,
    geometricSpeedup: geometric,
  });

  if (results.length === 0) return verdict(false, 'no benchmark to judge the candidate on');
  const slower = results.filter((r) => r.regression);
  if (slower.length > 0) {
    const list = slower
      .map((r) => `${r.name} (adjusted p=${formatP(r.verdict.slowerAdjustedPValue!)})`)
      .join(', ');
    return verdict(false, `slower by the ${bar.text} on ${list}, Holm over ${hypotheses}`);
  }
  const wins = results.filter((r) => r.verdict.accepted);
  if (wins.length === 0) {
    const best = results.reduce((a, r) =>
      r.verdict.adjustedPValue! < a.verdict.adjustedPValue! ? r : a,
    );
    return verdict(false, `no proven speedup: ${best.name}: ${best.verdict.reason}`);
  }
  if (geometric < 0) {
    return verdict(
      false,
      `faster on ${wins.map((w) => w.name).join(', ')}, but the ${results.length} benchmarks that run the change are ${percent(-geometric)} slower taken together (geometric mean)`,
    );
  }
  const claims = wins.map((w) => `${w.name}: ${w.verdict.reason}`).join('; ');
  return verdict(
    true,
    `${claims}; ${percent(geometric)} faster over the ${results.length} judged benchmark${results.length === 1 ? '' : 's'} (geometric mean)`,
  );
}
