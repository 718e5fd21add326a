import { describe, expect, it } from 'vitest';
import { SpeedupVerdict } from '../contracts/index.js';
import {
  decide,
  geometricMean,
  lowerBoundSpeedup,
  mannWhitneyU,
  median,
  noiseFloor,
  normalCdf,
  optimizedOut,
  quantile,
  trimOutliers,
  trimOutliersPooled,
  type AaPair,
} from './stats.js';

// --- a deterministic generator of process-level timings ----------------------------------

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Log-normal timings around `medianTime` with relative noise `sigma` (Box–Muller). */
function timings(random: () => number, medianTime: number, n: number, sigma: number): number[] {
  return Array.from({ length: n }, () => {
    const gaussian = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    return medianTime * Math.exp(gaussian * sigma);
  });
}

/** A candidate `speedup` faster than a base of 1000: base = candidate × (1 + speedup). */
const candidateTime = (speedup: number): number => 1000 / (1 + speedup);

function aaPairs(random: () => number, count: number, sigma: number): AaPair[] {
  return Array.from({ length: count }, () => ({
    a: timings(random, 1000, 20, sigma),
    b: timings(random, 1000, 20, sigma),
  }));
}

// --- descriptive ----------------------------------------------------------------------------

describe('descriptive statistics', () => {
  it('computes medians and interpolated quantiles', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(Number.isNaN(median([]))).toBe(true);
    expect(quantile([1, 2, 3, 4, 5], 0.25)).toBe(2);
    expect(quantile([1, 2, 3, 4], 0.75)).toBe(3.25);
  });

  it('trims outside 1×IQR and keeps the order of the rest', () => {
    // Q1 = 10.75, Q3 = 12.25, IQR = 1.5: fences 9.25 and 13.75.
    const samples = [12, 10, 11, 30, 13, 11, 12, 1];
    expect(trimOutliers(samples)).toEqual([12, 10, 11, 13, 11, 12]);
    expect(trimOutliers([1, 100, 1000])).toEqual([1, 100, 1000]);
  });

  it('trims two samples with shared fences', () => {
    const [a, b] = trimOutliersPooled([10, 11, 12, 40], [10, 11, 12, 13]);
    expect(a).toEqual([10, 11, 12]);
    expect(b).toEqual([10, 11, 12, 13]);
  });

  it('combines benchmarks with a geometric mean', () => {
    expect(geometricMean([2, 8])).toBeCloseTo(4, 12);
    expect(geometricMean([1.1, 1.1, 1.1])).toBeCloseTo(1.1, 12);
    expect(Number.isNaN(geometricMean([]))).toBe(true);
    expect(Number.isNaN(geometricMean([1.2, 0]))).toBe(true);
  });

  it('flags benchmarks too close to a no-op', () => {
    expect(optimizedOut(1.2, 1)).toBe(true);
    expect(optimizedOut(1.5, 1)).toBe(false);
    expect(optimizedOut(2, 1, 2.5)).toBe(true);
  });
});

// --- Mann–Whitney U -------------------------------------------------------------------------

describe('mannWhitneyU', () => {
  it('matches the normal distribution at textbook points', () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 6);
    expect(normalCdf(1.96)).toBeCloseTo(0.975002, 6);
    expect(normalCdf(-1.644854)).toBeCloseTo(0.05, 6);
    expect(normalCdf(-3)).toBeCloseTo(0.0013499, 6);
  });

  it('gives the hand-computed exact p for complete separation', () => {
    // 3 vs 3, every a above every b: U = 9, the one arrangement in C(6,3) = 20.
    expect(mannWhitneyU([4, 5, 6], [1, 2, 3], 'greater')).toEqual({
      u: 9,
      p: 1 / 20,
      method: 'exact',
    });
    expect(mannWhitneyU([4, 5, 6], [1, 2, 3], 'less').p).toBe(1);
    // One pair inverted: U = 8, P(U ≥ 8) = 2/20.
    expect(mannWhitneyU([3, 5, 6], [1, 2, 4], 'greater').p).toBeCloseTo(0.1, 12);
  });

  it('reproduces the worked example of SciPy’s documentation (5 vs 4, exact)', () => {
    // Ages of male and female subjects; U1 = 17, exact two-sided p = 14/126 = 0.1111.
    const males = [19, 22, 16, 29, 24];
    const females = [20, 11, 17, 12];
    const twoSided = mannWhitneyU(males, females, 'two-sided');
    expect(twoSided.u).toBe(17);
    expect(twoSided.method).toBe('exact');
    expect(twoSided.p).toBeCloseTo(14 / 126, 12);
    expect(mannWhitneyU(males, females, 'greater').p).toBeCloseTo(7 / 126, 12);
    expect(mannWhitneyU(males, females, 'less').p).toBeCloseTo(122 / 126, 12);
  });

  it('agrees with a brute-force enumeration of the exact null distribution', () => {
    // All C(12, 6) = 924 ways to split ranks 1..12 into two groups of 6.
    const counts = new Array<number>(37).fill(0);
    for (let mask = 0; mask < 1 << 12; mask++) {
      let bits = 0;
      let rankSum = 0;
      for (let r = 0; r < 12; r++) {
        if (mask & (1 << r)) {
          bits++;
          rankSum += r + 1;
        }
      }
      if (bits === 6) counts[rankSum - 21] = (counts[rankSum - 21] as number) + 1;
    }
    const total = counts.reduce((s, c) => s + c, 0);
    expect(total).toBe(924);
    const b = [1.5, 3.5, 5.5, 7.5, 9.5, 11.5];
    for (const a of [
      [2, 4, 6, 8, 10, 12],
      [8, 9, 10, 11, 12, 13],
      [1, 2, 3, 12, 13, 14],
    ]) {
      const { u, p } = mannWhitneyU(a, b, 'greater');
      const tail = counts.slice(u).reduce((s, c) => s + c, 0) / total;
      expect(p).toBeCloseTo(tail, 12);
    }
  });

  it('uses the normal approximation with continuity correction beyond the exact range', () => {
    // 30 vs 30 without ties; reference values from SciPy 1.17 (method 'asymptotic').
    const a = Array.from({ length: 30 }, (_, i) => i * 1.1 + 3);
    const b = Array.from({ length: 30 }, (_, i) => i);
    const result = mannWhitneyU(a, b, 'greater');
    expect(result.method).toBe('normal');
    expect(result.u).toBe(568.5);
    expect(result.p).toBeCloseTo(0.040524, 5);
  });

  it('corrects the variance for ties', () => {
    // Integer timings with many ties; SciPy 1.17: U = 426, p(greater) = 0.092302,
    // p(less) = 0.910609, p(two-sided) = 0.184605.
    const a = [
      1, 2, 2, 3, 3, 3, 4, 5, 6, 7, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
    ];
    const b = [
      2, 3, 4, 4, 5, 6, 7, 8, 8, 9, 10, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
      25,
    ];
    const greater = mannWhitneyU(b, a, 'greater');
    expect(greater.u).toBe(426);
    expect(greater.method).toBe('normal');
    expect(greater.p).toBeCloseTo(0.092302, 5);
    expect(mannWhitneyU(b, a, 'less').p).toBeCloseTo(0.910609, 5);
    expect(mannWhitneyU(b, a, 'two-sided').p).toBeCloseTo(0.184605, 5);
  });

  it('falls back to the normal approximation for small samples with ties', () => {
    const result = mannWhitneyU([3, 3, 4, 5], [1, 2, 3, 3], 'greater');
    expect(result.method).toBe('normal');
    expect(result.u).toBe(14); // 4 + 4 + 2×(2 wins + 2 ties/2) = 4 + 4 + 3 + 3
    expect(result.p).toBeGreaterThan(0.01);
    expect(result.p).toBeLessThan(0.1);
  });

  it('returns p = 1 when nothing can be compared', () => {
    expect(mannWhitneyU([5, 5, 5], [5, 5, 5]).p).toBe(1);
    expect(mannWhitneyU([], [1, 2]).p).toBe(1);
  });
});

// --- the speedup claim ------------------------------------------------------------------------

describe('lowerBoundSpeedup', () => {
  it('is 0 when even no speedup is significant', () => {
    expect(lowerBoundSpeedup([1, 2, 3], [1, 2, 3])).toBe(0);
    expect(lowerBoundSpeedup([10, 11, 12], [20, 21, 22])).toBe(0);
  });

  it('stops where significance stops, to within the resolution', () => {
    const random = mulberry32(11);
    const base = timings(random, 1000, 20, 0.03);
    const candidate = timings(random, candidateTime(0.1), 20, 0.03);
    const x = lowerBoundSpeedup(base, candidate);
    const p = (factor: number): number =>
      mannWhitneyU(
        base,
        candidate.map((c) => c * factor),
        'greater',
      ).p;
    expect(p(1 + x)).toBeLessThan(0.05);
    expect(p(1 + x + 0.001)).toBeGreaterThanOrEqual(0.05);
  });

  it('equals the order statistic of the pairwise ratios the exact test implies', () => {
    // Without ties, base is significantly slower than candidate × f iff more than u* of the
    // ratios base_i / candidate_j exceed f, u* being the critical U of the exact test. For
    // 8 vs 8 at α = 0.05 one-sided, P(U ≥ 49) = 0.0415 and P(U ≥ 48) = 0.0524: U must be ≥ 49,
    // so the bound is the 49th largest ratio minus 1.
    const random = mulberry32(5);
    const base = timings(random, 1000, 8, 0.05);
    const candidate = timings(random, candidateTime(0.15), 8, 0.05);
    const ratios = base.flatMap((b) => candidate.map((c) => b / c)).sort((x, y) => y - x);
    const expected = (ratios[48] as number) - 1;
    const bound = lowerBoundSpeedup(base, candidate);
    expect(bound).toBeLessThanOrEqual(expected);
    expect(bound).toBeGreaterThan(expected - 0.001);
  });
});

describe('decide', () => {
  it('detects a known 10% speedup with a lower bound near but below 10%', () => {
    const random = mulberry32(2026);
    const bounds: number[] = [];
    for (let trial = 0; trial < 40; trial++) {
      const verdict = decide({
        base: timings(random, 1000, 20, 0.02),
        candidate: timings(random, candidateTime(0.1), 20, 0.02),
      });
      expect(SpeedupVerdict.parse(verdict)).toEqual(verdict);
      expect(verdict.accepted).toBe(true);
      expect(verdict.reason).toMatch(/^lower bound \d+\.\d% ≥ bar 3\.0% \(minimum speedup\)/);
      bounds.push(verdict.lowerBoundSpeedup);
    }
    // A 95 % lower bound: below the truth in about 95 % of trials, and not far below it.
    expect(bounds.filter((b) => b <= 0.1).length).toBeGreaterThanOrEqual(36);
    expect(median(bounds)).toBeGreaterThan(0.08);
    expect(median(bounds)).toBeLessThan(0.1);
    expect(Math.min(...bounds)).toBeGreaterThan(0.06);
  });

  it('rejects a candidate with no effect, and says it was not significant', () => {
    const random = mulberry32(3);
    const verdict = decide({
      base: timings(random, 1000, 20, 0.03),
      candidate: timings(random, 1000, 20, 0.03),
    });
    expect(verdict.accepted).toBe(false);
    expect(verdict.pValue).toBeGreaterThanOrEqual(0.05);
    expect(verdict.lowerBoundSpeedup).toBe(0);
    expect(verdict.reason).toMatch(/^not significantly faster \(p=0\.\d+ ≥ α=0\.05\)/);
  });

  it('rejects a real but small speedup below the minimum', () => {
    const random = mulberry32(4);
    const verdict = decide({
      base: timings(random, 1000, 20, 0.005),
      candidate: timings(random, candidateTime(0.02), 20, 0.005),
    });
    expect(verdict.pValue).toBeLessThan(1e-6);
    expect(verdict.lowerBoundSpeedup).toBeGreaterThan(0.01);
    expect(verdict.accepted).toBe(false);
    expect(verdict.reason).toMatch(/^lower bound 1\.\d% < bar 3\.0% \(minimum speedup\)/);
  });

  it('trims process-level outliers before testing', () => {
    const random = mulberry32(8);
    const base = timings(random, 1000, 20, 0.02);
    const candidate = timings(random, candidateTime(0.1), 20, 0.02);
    // Two hiccups (a GC storm, a noisy neighbour) on the candidate side.
    candidate[3] = 5000;
    candidate[9] = 4000;
    const verdict = decide({ base, candidate });
    expect(verdict.candidateSamples).toBe(18);
    expect(verdict.accepted).toBe(true);
  });

  it('refuses to judge on too few samples, not counting failed processes', () => {
    const verdict = decide({ base: [1, Number.NaN], candidate: [0.5, 0.4] });
    expect(verdict.baseSamples).toBe(1);
    expect(verdict.accepted).toBe(false);
    expect(verdict.reason).toMatch(/^too few samples to test \(1 base, 2 candidate/);
  });

  it('raises the bar to a noisy repository’s A/A floor and flips a borderline accept', () => {
    // A noisy repository: 10 % process-to-process noise.
    const random = mulberry32(20);
    const floor = noiseFloor(aaPairs(random, 5, 0.1));
    expect(floor).toBeGreaterThan(0.03);

    const base = timings(random, 1000, 20, 0.1);
    const candidate = timings(random, candidateTime(0.08), 20, 0.1);
    const naive = decide({ base, candidate });
    expect(naive.accepted).toBe(true);
    expect(naive.threshold).toBe(0.03);

    const calibrated = decide({ base, candidate, noiseFloor: floor });
    expect(calibrated.noiseFloor).toBe(floor);
    expect(calibrated.threshold).toBeCloseTo(floor + 0.01, 12);
    expect(calibrated.lowerBoundSpeedup).toBe(naive.lowerBoundSpeedup);
    expect(calibrated.accepted).toBe(false);
    expect(calibrated.reason).toMatch(
      /^lower bound \d\.\d% < bar \d\.\d% \(A\/A noise floor \d\.\d% \+ margin 1\.0%\)/,
    );
  });

  it('keeps the minimum when the A/A floor is well below it', () => {
    const verdict = decide({ base: [3, 4, 5], candidate: [1, 2, 3], noiseFloor: 0.005 });
    expect(verdict.threshold).toBe(0.03);
  });
});

// --- A/A: the unchanged code against itself --------------------------------------------------

describe('A/A calibration', () => {
  it('finds a floor that grows with the noise', () => {
    const quiet = noiseFloor(aaPairs(mulberry32(21), 5, 0.01));
    const noisy = noiseFloor(aaPairs(mulberry32(21), 5, 0.1));
    expect(quiet).toBeLessThan(0.01);
    expect(noisy).toBeGreaterThan(3 * quiet);
    expect(noiseFloor([])).toBe(0);
  });

  it('reads the strict floor at the decision’s α when asked', () => {
    const pairs = aaPairs(mulberry32(21), 5, 0.05);
    expect(noiseFloor(pairs, 0.05)).toBeLessThanOrEqual(noiseFloor(pairs));
  });

  it.each([0.01, 0.03, 0.05])(
    'never accepts in 20 independent A/A trials with the default bar (noise %s)',
    (sigma) => {
      const random = mulberry32(Math.round(sigma * 1000));
      for (let trial = 0; trial < 20; trial++) {
        const verdict = decide({
          base: timings(random, 1000, 20, sigma),
          candidate: timings(random, 1000, 20, sigma),
        });
        expect(verdict.accepted, verdict.reason).toBe(false);
      }
    },
  );

  it('never accepts in 20 A/A trials of a noisy repository once calibrated', () => {
    // At 10 % noise the 3 % bar alone lets a few A/A comparisons in 1000 through; the
    // calibrated floor is what makes 0 of 20 dependable.
    const random = mulberry32(77);
    const floor = noiseFloor(aaPairs(random, 5, 0.1));
    for (let trial = 0; trial < 20; trial++) {
      const verdict = decide({
        base: timings(random, 1000, 20, 0.1),
        candidate: timings(random, 1000, 20, 0.1),
        noiseFloor: floor,
      });
      expect(verdict.accepted, verdict.reason).toBe(false);
    }
  });

  it('keeps the false-acceptance rate at zero and the test at its level over many A/A trials', () => {
    // The guarantee behind "never in 20": at 5 % noise, 1000 trials, not one acceptance; and
    // about α of them "significant" (binomial sd 0.7 %), which per-side trimming breaks (9 %).
    const random = mulberry32(4242);
    let accepted = 0;
    let significant = 0;
    for (let trial = 0; trial < 1000; trial++) {
      const verdict = decide({
        base: timings(random, 1000, 20, 0.05),
        candidate: timings(random, 1000, 20, 0.05),
      });
      if (verdict.accepted) accepted++;
      if (verdict.pValue < 0.05) significant++;
    }
    expect(accepted).toBe(0);
    expect(significant / 1000).toBeGreaterThan(0.035);
    expect(significant / 1000).toBeLessThan(0.065);
  });
});
