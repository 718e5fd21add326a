import type { SpeedupVerdict } from '../contracts/index.js';

/**
 * The statistics that decide whether a candidate is faster than its base
 * (../../shared/reference/perf-validation.md, "Decision recipe"): 1×IQR trimming, a
 * one-sided Mann–Whitney U test, the largest speedup that is still significant, and an A/A
 * noise floor that raises the bar for noisy repositories.
 *
 * Pure functions, no I/O. Samples are process-level times (any unit, lower is better); the
 * caller turns ops/s into times before calling (see `benchmarkTimeNs` in bench-output.ts).
 */

export type Alternative = 'greater' | 'less' | 'two-sided';

export interface MannWhitneyResult {
  /** U of the first sample: pairs (a_i, b_j) with a_i > b_j, ties counting one half. */
  u: number;
  p: number;
  /** `exact` enumerates U's null distribution; `normal` is the tie-corrected approximation. */
  method: 'exact' | 'normal';
}

/**
 * Largest sample size (each side) for which the exact null distribution is used. Its counts
 * are C(m+n, m) ≤ C(50, 25) ≈ 1.3e14, well inside a double's exact integers; beyond it the
 * normal approximation is already accurate to the third decimal.
 */
export const EXACT_MAX_SIZE = 25;

/** The default bar: the issue's `minSpeedup` (3 %). */
export const DEFAULT_MIN_SPEEDUP = 0.03;
export const DEFAULT_ALPHA = 0.05;
/**
 * Added to a non-zero A/A floor: the floor is the worst of only a few calibration runs, so the
 * true tail of the noise is somewhat higher; a candidate must beat it clearly, not tie it.
 */
export const DEFAULT_NOISE_MARGIN = 0.01;

// --- descriptive -----------------------------------------------------------------------

function sorted(samples: readonly number[]): number[] {
  return [...samples].sort((x, y) => x - y);
}

/** Quantile of sorted data by linear interpolation between order statistics (Hyndman–Fan type 7). */
function quantileOfSorted(data: readonly number[], q: number): number {
  if (data.length === 0) return Number.NaN;
  const h = (data.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  const low = data[lo] as number;
  return low + (h - lo) * ((data[hi] as number) - low);
}

/** The q-quantile (0..1) of the samples; NaN when there are none. */
export function quantile(samples: readonly number[], q: number): number {
  return quantileOfSorted(sorted(samples), q);
}

/** The median; NaN when there are no samples. */
export function median(samples: readonly number[]): number {
  return quantile(samples, 0.5);
}

/** The 1×IQR fences [Q1 − k·IQR, Q3 + k·IQR]; infinite for fewer than four samples. */
export function outlierFences(samples: readonly number[], k = 1): { low: number; high: number } {
  if (samples.length < 4) return { low: -Infinity, high: Infinity };
  const data = sorted(samples);
  const q1 = quantileOfSorted(data, 0.25);
  const q3 = quantileOfSorted(data, 0.75);
  return { low: q1 - k * (q3 - q1), high: q3 + k * (q3 - q1) };
}

/**
 * Drops samples outside [Q1 − k·IQR, Q3 + k·IQR] (k = 1 as in SWE-Perf), keeping the order of
 * the rest. Fewer than four samples are returned as they are: their quartiles mean nothing.
 */
export function trimOutliers(samples: readonly number[], k = 1): number[] {
  const { low, high } = outlierFences(samples, k);
  return samples.filter((s) => s >= low && s <= high);
}

/**
 * Trims two samples that are about to be compared with fences computed from both together.
 * Trimming each side with its own fences looks harmless but breaks the test: under no effect,
 * one side loses its slow tail and the other its fast one often enough to double the
 * Mann–Whitney false-positive rate (measured: 9 % instead of 5 % at α = 0.05, n = 20).
 * Shared fences keep the two sides exchangeable, so α stays α; with a real effect they trim
 * the base's slow tail and the candidate's fast one first, which only understates the effect.
 */
export function trimOutliersPooled(
  a: readonly number[],
  b: readonly number[],
  k = 1,
): [number[], number[]] {
  const { low, high } = outlierFences([...a, ...b], k);
  const keep = (s: number): boolean => s >= low && s <= high;
  return [a.filter(keep), b.filter(keep)];
}

/**
 * Geometric mean of ratios (e.g. base/candidate per benchmark): the headline when a repository
 * has several benchmarks. NaN when empty or when a ratio is not positive.
 */
export function geometricMean(ratios: readonly number[]): number {
  if (ratios.length === 0 || ratios.some((r) => !(r > 0) || !Number.isFinite(r))) return Number.NaN;
  return Math.exp(ratios.reduce((sum, r) => sum + Math.log(r), 0) / ratios.length);
}

/** How close to an empty function a benchmark may come before it counts as optimized out. */
export const OPTIMIZED_OUT_FACTOR = 1.4;

/**
 * mitata's heuristic: a benchmark within ~1.4× of an empty function probably measures
 * nothing (the engine optimised the work away), so its speedups prove nothing. `noopNs` must
 * be measured the way the harness times a call (noop.ts), `sampleNs` is its time per operation.
 */
export function optimizedOut(
  sampleNs: number,
  noopNs: number,
  factor = OPTIMIZED_OUT_FACTOR,
): boolean {
  return sampleNs < noopNs * factor;
}

// --- normal distribution -----------------------------------------------------------------

/**
 * Complementary error function, Chebyshev fit (Press et al., Numerical Recipes, `erfcc`),
 * fractional error below 1.2e-7 everywhere: ample for p-values compared with 0.05.
 */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t *
                              (-1.13520398 +
                                t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Standard normal CDF Φ(z). */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

// --- Mann–Whitney U ------------------------------------------------------------------------

/** Ranks (1-based, ties get their average rank) of the pooled values, and the tie groups' sizes. */
function rankPooled(values: readonly number[]): { ranks: number[]; ties: number[] } {
  const order = values
    .map((v, i) => i)
    .sort((x, y) => (values[x] as number) - (values[y] as number));
  const ranks = new Array<number>(values.length);
  const ties: number[] = [];
  let i = 0;
  while (i < order.length) {
    let j = i;
    while (j + 1 < order.length && values[order[j + 1] as number] === values[order[i] as number])
      j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k] as number] = rank;
    if (j > i) ties.push(j - i + 1);
    i = j + 1;
  }
  return { ranks, ties };
}

/** P(U ≤ u) and P(U ≥ u) for u = 0..m·n. */
interface ExactTails {
  cdf: Float64Array;
  sf: Float64Array;
}

const exactCache = new Map<string, ExactTails>();

/**
 * Null distribution of U for sizes m and n without ties, as both tail probabilities. The
 * counts are the coefficients of the Gaussian binomial [m+n choose m]_q = ∏_{i=1..m} (1 − q^{n+i}) / (1 − q^i), built one factor at a time.
 */
function exactTails(m: number, n: number): ExactTails {
  const key = m <= n ? `${m},${n}` : `${n},${m}`;
  const cached = exactCache.get(key);
  if (cached) return cached;
  const small = Math.min(m, n);
  const large = Math.max(m, n);
  const size = small * large + 1;
  const counts = new Float64Array(size);
  counts[0] = 1;
  for (let i = 1; i <= small; i++) {
    const shift = large + i;
    for (let u = size - 1; u >= shift; u--)
      counts[u] = (counts[u] as number) - (counts[u - shift] as number);
    for (let u = i; u < size; u++) counts[u] = (counts[u] as number) + (counts[u - i] as number);
  }
  let total = 0;
  for (const c of counts) total += c;
  // Both tails summed from their own end, so a small p is not the difference of two numbers near 1.
  const cdf = new Float64Array(size);
  const sf = new Float64Array(size);
  let below = 0;
  let above = 0;
  for (let u = 0; u < size; u++) {
    below += counts[u] as number;
    cdf[u] = below / total;
    above += counts[size - 1 - u] as number;
    sf[size - 1 - u] = above / total;
  }
  const tails = { cdf, sf };
  exactCache.set(key, tails);
  return tails;
}

/**
 * Mann–Whitney U test of `a` against `b`. `greater`: a tends to be larger than b (for times:
 * a is slower). The exact distribution is used when both samples have at most
 * EXACT_MAX_SIZE values and there are no ties; otherwise the normal approximation with tie
 * correction and continuity correction (the same choice as SciPy's `method='auto'` except for
 * the size limit). An empty side gives p = 1.
 *
 * @example mannWhitneyU([4, 5, 6], [1, 2, 3], 'greater') // { u: 9, p: 0.05, method: 'exact' }
 */
export function mannWhitneyU(
  a: readonly number[],
  b: readonly number[],
  alternative: Alternative = 'greater',
): MannWhitneyResult {
  const m = a.length;
  const n = b.length;
  if (m === 0 || n === 0) return { u: 0, p: 1, method: 'exact' };
  const { ranks, ties } = rankPooled([...a, ...b]);
  let rankSumA = 0;
  for (let i = 0; i < m; i++) rankSumA += ranks[i] as number;
  const u = rankSumA - (m * (m + 1)) / 2;
  const mean = (m * n) / 2;

  if (ties.length === 0 && m <= EXACT_MAX_SIZE && n <= EXACT_MAX_SIZE) {
    const { cdf, sf } = exactTails(m, n);
    // Without ties U is an integer in 0..m·n.
    const upper = (x: number): number => sf[x] as number;
    const lower = (x: number): number => cdf[x] as number;
    let p: number;
    if (alternative === 'greater') p = upper(u);
    else if (alternative === 'less') p = lower(u);
    else p = 2 * Math.min(upper(Math.max(u, m * n - u)), 0.5);
    return { u, p: Math.min(1, Math.max(0, p)), method: 'exact' };
  }

  const total = m + n;
  const tieTerm = ties.reduce((sum, t) => sum + (t * t * t - t), 0) / (total * (total - 1));
  const variance = ((m * n) / 12) * (total + 1 - tieTerm);
  if (!(variance > 0)) return { u, p: 1, method: 'normal' };
  const sd = Math.sqrt(variance);
  let p: number;
  // Upper tails as Φ(−z), not 1 − Φ(z): small p-values keep their precision.
  if (alternative === 'greater') p = normalCdf(-(u - mean - 0.5) / sd);
  else if (alternative === 'less') p = normalCdf((u - mean + 0.5) / sd);
  else p = 2 * normalCdf(-(Math.abs(u - mean) - 0.5) / sd);
  return { u, p: Math.min(1, Math.max(0, p)), method: 'normal' };
}

// --- the speedup claim ---------------------------------------------------------------------

function significantlySlower(
  base: readonly number[],
  candidate: readonly number[],
  factor: number,
  alpha: number,
): boolean {
  return (
    mannWhitneyU(
      base,
      candidate.map((c) => c * factor),
      'greater',
    ).p < alpha
  );
}

/**
 * The claimed speedup: the largest x ≥ 0 such that `base` is still significantly slower
 * (one-sided Mann–Whitney U, p < alpha) than `candidate` × (1 + x); 0 when even x = 0 is not
 * significant. Found by bisection to `resolution` (default 0.1 %), returning the lower end so
 * the claim never exceeds what the test supports. Samples are times, lower is better, and are
 * used as given (trim them first; `decide` does).
 *
 * @example lowerBoundSpeedup(baseTimes, candidateTimes) // 0.083: at least 8.3 % faster
 */
export function lowerBoundSpeedup(
  base: readonly number[],
  candidate: readonly number[],
  alpha = DEFAULT_ALPHA,
  resolution = 0.001,
): number {
  if (base.length === 0 || candidate.length === 0) return 0;
  if (!significantlySlower(base, candidate, 1, alpha)) return 0;
  let lo = 0;
  // With candidate × (1 + hi) ≥ every base sample, U = 0 and nothing is significant.
  const minCandidate = Math.min(...candidate);
  if (!(minCandidate > 0)) return 0;
  let hi = Math.max(...base) / minCandidate;
  while (hi - lo > resolution) {
    const mid = (lo + hi) / 2;
    if (significantlySlower(base, candidate, 1 + mid, alpha)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** One A/A comparison: two independent runs of the unchanged code. */
export interface AaPair {
  a: readonly number[];
  b: readonly number[];
}

/**
 * Significance level used to read A/A comparisons. At 0.5 the one-sided lower bound is the
 * Hodges–Lehmann point estimate (the median of the pairwise ratios): the speedup the noise
 * alone *produced*, not only the part of it that reached significance. A floor read at the
 * decision's α is 0 in ~95 % of A/A comparisons whatever the noise, so a few calibration runs
 * would almost never see it.
 */
export const DEFAULT_CALIBRATION_ALPHA = 0.5;

/**
 * The repository's noise floor from A/A calibration (the base against itself, several
 * comparisons): the largest lower-bound "speedup" any comparison produced, in either
 * direction (a vs b and b vs a), with both sides trimmed as `decide` trims them, read at
 * `calibrationAlpha` (default 0.5, see DEFAULT_CALIBRATION_ALPHA; pass the decision's α for
 * the strict "would A/A itself have passed" reading). The maximum rather than a quantile:
 * calibration has only a handful of comparisons (3–10), where a high quantile is the maximum
 * anyway, and the goal is zero false acceptances. 0 for no pairs.
 */
export function noiseFloor(
  aaPairs: readonly AaPair[],
  calibrationAlpha = DEFAULT_CALIBRATION_ALPHA,
): number {
  let floor = 0;
  for (const { a, b } of aaPairs) {
    const [ta, tb] = trimOutliersPooled(a, b);
    floor = Math.max(
      floor,
      lowerBoundSpeedup(ta, tb, calibrationAlpha),
      lowerBoundSpeedup(tb, ta, calibrationAlpha),
    );
  }
  return floor;
}

export interface DecideInput {
  /** Process-level times of the base (lower is better). */
  base: readonly number[];
  candidate: readonly number[];
  alpha?: number;
  /** The minimum claimed speedup, as a fraction (0.03 = 3 %). */
  minSpeedup?: number;
  /** The repository's A/A floor (`noiseFloor`), as a fraction. */
  noiseFloor?: number;
  /** Added to a non-zero floor before it becomes the bar. */
  noiseMargin?: number;
}

/**
 * The bar a speedup (and, the other way round, a slowdown) must clear: max(minSpeedup, A/A
 * floor + margin), with the words that say which applied.
 */
export function speedupBar(input: {
  minSpeedup?: number;
  noiseFloor?: number;
  noiseMargin?: number;
}): { threshold: number; floor: number; text: string } {
  const minSpeedup = input.minSpeedup ?? DEFAULT_MIN_SPEEDUP;
  const floor = Math.max(0, input.noiseFloor ?? 0);
  const margin = input.noiseMargin ?? DEFAULT_NOISE_MARGIN;
  const raisedBar = floor > 0 ? floor + margin : 0;
  const threshold = Math.max(minSpeedup, raisedBar);
  const text =
    raisedBar > minSpeedup
      ? `bar ${percent(threshold)} (A/A noise floor ${percent(floor)} + margin ${percent(margin)})`
      : `bar ${percent(threshold)} (minimum speedup)`;
  return { threshold, floor, text };
}

export function percent(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}

export function formatP(p: number): string {
  return p < 0.001 ? p.toExponential(1) : p.toFixed(3);
}

/**
 * The verdict on one candidate: drops non-finite samples, trims both sides (1×IQR, shared
 * fences: see trimOutliersPooled), tests base slower than candidate,
 * and accepts iff the lower-bound speedup reaches the bar max(minSpeedup, noiseFloor +
 * noiseMargin) — so a speedup the A/A calibration could have produced on its own never passes.
 * The reason says which bar applied and why the candidate passed or not.
 */
export function decide(input: DecideInput): SpeedupVerdict {
  const alpha = input.alpha ?? DEFAULT_ALPHA;
  const minSpeedup = input.minSpeedup ?? DEFAULT_MIN_SPEEDUP;
  const { threshold, floor, text: barText } = speedupBar({ ...input, minSpeedup });

  // A crashed or unparsable process leaves NaN: it is no sample, not an outlier.
  const [base, candidate] = trimOutliersPooled(
    input.base.filter(Number.isFinite),
    input.candidate.filter(Number.isFinite),
  );
  const common = {
    baseSamples: base.length,
    candidateSamples: candidate.length,
    baseMedian: base.length > 0 ? median(base) : 0,
    candidateMedian: candidate.length > 0 ? median(candidate) : 0,
    threshold,
    noiseFloor: floor,
  };
  if (base.length < 2 || candidate.length < 2) {
    return {
      ...common,
      pValue: 1,
      lowerBoundSpeedup: 0,
      accepted: false,
      reason: `too few samples to test (${base.length} base, ${candidate.length} candidate after trimming)`,
    };
  }

  const { p } = mannWhitneyU(base, candidate, 'greater');
  const bound = lowerBoundSpeedup(base, candidate, alpha);
  const accepted = bound >= threshold;
  const test = `one-sided Mann–Whitney U p=${formatP(p)}, n=${base.length}/${candidate.length}`;
  let reason: string;
  if (accepted) reason = `lower bound ${percent(bound)} ≥ ${barText}; ${test}`;
  else if (p >= alpha) reason = `not significantly faster (p=${formatP(p)} ≥ α=${alpha}); ${test}`;
  else reason = `lower bound ${percent(bound)} < ${barText}; ${test}`;
  return { ...common, pValue: p, lowerBoundSpeedup: bound, accepted, reason };
}
