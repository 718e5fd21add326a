/**
 * The numbers of a proposal page, from the proposal and the validation's samples: the
 * headline ("1.74× faster, −42.5 % time"), box-plot summaries and the proven interval.
 */

/** `1.74× faster, −42.5 % time` from the two medians (lower is better). */
export function headline(baseMedian: number, candidateMedian: number): string {
  if (!(baseMedian > 0) || !(candidateMedian > 0)) return 'no measured change';
  const ratio = baseMedian / candidateMedian;
  const timeChange = (candidateMedian / baseMedian - 1) * 100;
  const sign = timeChange < 0 ? '−' : '+';
  const verb = ratio >= 1 ? 'faster' : 'slower';
  const shown = ratio >= 1 ? ratio : 1 / ratio;
  return `${shown.toFixed(2)}× ${verb}, ${sign}${Math.abs(timeChange).toFixed(1)} % time`;
}

export interface BoxStats {
  min: number;
  q1: number;
  median: number;
  q3: number;
  max: number;
}

/** Linear-interpolated quantile of sorted values (the R-7 / numpy default). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

export function boxStats(samples: readonly number[]): BoxStats | null {
  if (samples.length === 0) return null;
  const s = [...samples].sort((x, y) => x - y);
  return {
    min: s[0] as number,
    q1: quantile(s, 0.25),
    median: quantile(s, 0.5),
    q3: quantile(s, 0.75),
    max: s[s.length - 1] as number,
  };
}

/** A readable duration per operation from nanoseconds. */
export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return '—';
  if (ns >= 1e9) return `${(ns / 1e9).toPrecision(3)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toPrecision(3)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toPrecision(3)} µs`;
  return `${ns.toPrecision(3)} ns`;
}

/** A fraction as a percentage with one decimal: 0.425 → `42.5 %`. */
export function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)} %`;
}

/** Round, readable ticks covering [lo, hi]: about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi <= lo) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    ticks.push(Number(t.toPrecision(12)));
  }
  return ticks;
}

export interface Scale {
  /** Value → pixel. */
  at: (v: number) => number;
  ticks: number[];
  log: boolean;
}

/**
 * A linear scale over [lo, hi], or a logarithmic one when the values span more than 8×
 * (a 100× speedup would squeeze the faster side into one pixel column on a linear axis).
 */
export function scaleFor(lo: number, hi: number, px0: number, px1: number, count = 5): Scale {
  if (lo > 0 && hi / lo > 8) {
    const a = Math.log10(lo) - 0.05;
    const b = Math.log10(hi) + 0.05;
    const at = (v: number): number => px0 + ((Math.log10(v) - a) / (b - a)) * (px1 - px0);
    const ticks: number[] = [];
    for (let e = Math.floor(a); e <= Math.ceil(b); e++) {
      for (const m of [1, 2, 5]) {
        const t = m * 10 ** e;
        if (t >= 10 ** a && t <= 10 ** b) ticks.push(Number(t.toPrecision(6)));
      }
    }
    return {
      at,
      ticks: ticks.length > 8 ? ticks.filter((t) => isPowerOfTen(t)) : ticks,
      log: true,
    };
  }
  const pad = (hi - lo) * 0.06 || Math.abs(hi) * 0.05 || 1;
  const ticks = niceTicks(lo - pad, hi + pad, count);
  const min = Math.min(ticks[0] ?? lo, lo - pad);
  const max = Math.max(ticks[ticks.length - 1] ?? hi, hi + pad);
  const at = (v: number): number => px0 + ((v - min) / (max - min || 1)) * (px1 - px0);
  return { at, ticks: ticks.filter((t) => t >= min && t <= max), log: false };
}

function isPowerOfTen(v: number): boolean {
  const e = Math.log10(v);
  return Math.abs(e - Math.round(e)) < 1e-9;
}
