import { describe, expect, it } from 'vitest';
import { holmAdjust, judgeFamily, type FamilyMember } from './family.js';
import { mannWhitneyU } from './stats.js';

/** Deterministic normal noise (xorshift32 + Box–Muller), so the figures below never flake. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  const uniform = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 0.5) / 2 ** 32;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

function suite(
  normal: () => number,
  count: number,
  n: number,
  cv: number,
  speedup: (i: number) => number = () => 0,
): FamilyMember[] {
  return Array.from({ length: count }, (_, i) => {
    const mu = 1000 * (i + 1);
    const draw = (factor: number): number[] =>
      Array.from({ length: n }, () => (mu / factor) * (1 + cv * normal()));
    return { name: `b${i}`, base: draw(1), candidate: draw(1 + speedup(i)) };
  });
}

describe('holmAdjust', () => {
  it('multiplies the k-th smallest p by M − k + 1 and keeps the adjusted values monotone', () => {
    const close = (got: number[], want: number[]): void =>
      want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 12));
    close(holmAdjust([0.01, 0.04, 0.03]), [0.03, 0.06, 0.06]);
    close(holmAdjust([0.5, 0.001]), [0.5, 0.002]);
    close(holmAdjust([0.9, 0.8, 0.7]), [1, 1, 1]);
    expect(holmAdjust([])).toEqual([]);
  });
});

describe('judgeFamily', () => {
  it('without the correction one of 20 identical benchmarks often looks faster; with it, almost never', () => {
    const normal = rng(7);
    let uncorrected = 0;
    let corrected = 0;
    const trials = 200;
    for (let t = 0; t < trials; t++) {
      const members = suite(normal, 20, 20, 0.02);
      if (members.some((m) => mannWhitneyU(m.base, m.candidate, 'greater').p < 0.05)) uncorrected++;
      if (judgeFamily(members, { minSpeedup: 0 }).accepted) corrected++;
    }
    // About 1 − 0.95^20 ≈ 64 % of identical candidates get one "significant" benchmark.
    expect(uncorrected / trials).toBeGreaterThan(0.4);
    // Holm over the 40 hypotheses keeps the family-wise error at most α = 5 %.
    expect(corrected / trials).toBeLessThanOrEqual(0.05);
  });

  it('finds a 10 % speedup on the benchmarks that run the change, and says how much', () => {
    const normal = rng(11);
    const members = suite(normal, 24, 20, 0.01, (i) => (i < 4 ? 0.1 : 0));
    const verdict = judgeFamily(members, { noiseFloor: 0.02 });
    expect(verdict.accepted).toBe(true);
    expect(verdict.hypotheses).toBe(48);
    const wins = verdict.members.filter((m) => m.verdict.accepted).map((m) => m.name);
    expect(wins).toEqual(['b0', 'b1', 'b2', 'b3']);
    for (const m of verdict.members.filter((x) => x.verdict.accepted)) {
      expect(m.verdict.lowerBoundSpeedup).toBeGreaterThanOrEqual(m.verdict.threshold);
      expect(m.verdict.lowerBoundSpeedup).toBeLessThan(0.1);
      expect(m.verdict.adjustedPValue).toBeLessThan(0.05);
    }
    expect(verdict.reason).toMatch(/Holm over 48/);
  });

  it('a proven slowdown on any judged benchmark rejects the candidate, corrected the same way', () => {
    const normal = rng(13);
    const members = suite(normal, 20, 20, 0.01, (i) => (i === 0 ? 0.2 : i === 5 ? -0.15 : 0));
    const verdict = judgeFamily(members);
    expect(verdict.accepted).toBe(false);
    expect(verdict.reason).toMatch(
      /^slower by the bar 3\.0% \(minimum speedup\) on b5 \(adjusted p=/,
    );
    expect(verdict.members.filter((m) => m.regression).map((m) => m.name)).toEqual(['b5']);
  });

  it('noise alone is never called a regression: identical code under load stays unjudged', () => {
    const normal = rng(17);
    let regressions = 0;
    for (let t = 0; t < 100; t++) {
      // 8 % noise, like a loaded CI machine, and a bar raised by a 6 % A/A floor.
      const verdict = judgeFamily(suite(normal, 20, 10, 0.08), { noiseFloor: 0.06 });
      if (verdict.members.some((m) => m.regression)) regressions++;
    }
    expect(regressions).toBeLessThanOrEqual(1);
  });

  it('one benchmark faster while the rest of the family is slower overall is no speedup', () => {
    const normal = rng(19);
    const members = suite(normal, 16, 20, 0.005, (i) => (i === 0 ? 0.3 : -0.025));
    const verdict = judgeFamily(members, { minSpeedup: 0.03 });
    expect(verdict.members[0]!.verdict.accepted).toBe(true);
    expect(verdict.accepted).toBe(false);
    expect(verdict.reason).toMatch(/slower taken together \(geometric mean\)$/);
  });

  it('an empty family, and too few samples, prove nothing', () => {
    expect(judgeFamily([])).toMatchObject({ accepted: false, hypotheses: 0 });
    const verdict = judgeFamily([{ name: 'x', base: [1, Number.NaN], candidate: [0.5, 0.5] }]);
    expect(verdict.accepted).toBe(false);
    expect(verdict.members[0]!.verdict.reason).toMatch(/^too few samples/);
  });
});
