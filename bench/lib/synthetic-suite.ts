/**
 * A synthetic benchmark.js suite with a known, low noise: what one benchmark process of it
 * prints, so the optimizer's own reader and decision can be measured on thousands of
 * "processes" with no machine noise at all (the machine this runs on is shared and loaded;
 * the statistics are what is measured, not the machine).
 *
 * Each process draws one machine factor shared by all its benchmarks (load, frequency) and
 * one factor per benchmark, both log-normal; every measured line has a warm-up entry in front
 * of it on the same line (`x 0 ops/sec … (0 runs sampled)` and a `\r`), as some scripts print.
 */

export interface SuiteOptions {
  benchmarks: number;
  /** σ of log(time) shared by a process's benchmarks, and per benchmark. */
  machineSigma: number;
  benchmarkSigma: number;
  /** Probability that a process is hit by a slow spike (GC, a neighbour) on every benchmark. */
  spikeChance: number;
  spikeFactor: number;
}

export const LOW_NOISE: SuiteOptions = {
  benchmarks: 24,
  machineSigma: 0.015,
  benchmarkSigma: 0.015,
  spikeChance: 0.05,
  spikeFactor: 1.25,
};

/** Deterministic: xorshift32 uniforms, Box–Muller normals. */
export function createRandom(seed: number): { uniform: () => number; normal: () => number } {
  let s = seed >>> 0 || 1;
  const uniform = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 0.5) / 2 ** 32;
  };
  const normal = (): number =>
    Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

export function benchmarkName(i: number): string {
  return `suite/op-${String(i).padStart(2, '0')}`;
}

/**
 * One process's output. `speedup(i)` is the true speedup of benchmark i in this process's
 * code (0.1: its time divided by 1.1), 0 for the base.
 */
export function processOutput(
  options: SuiteOptions,
  random: ReturnType<typeof createRandom>,
  speedup: (i: number) => number = () => 0,
): string {
  const machine = Math.exp(options.machineSigma * random.normal());
  const spike = random.uniform() < options.spikeChance ? options.spikeFactor : 1;
  const lines = ['', '> synthetic@1.0.0 bench', '> node bench/index.js', ''];
  for (let i = 0; i < options.benchmarks; i++) {
    // Base throughputs from ~2 k to ~20 M ops/s.
    const baseHz = 2000 * 10 ** ((i % 8) / 2);
    const noise = Math.exp(options.benchmarkSigma * random.normal());
    const hz = (baseHz * (1 + speedup(i))) / (machine * noise * spike);
    const name = benchmarkName(i);
    const measured = `${name} x ${format(hz)} ops/sec ±${(0.5 + random.uniform()).toFixed(2)}% (${85 + Math.floor(random.uniform() * 12)} runs sampled)`;
    lines.push(`${name} x 0 ops/sec ±0.00% (0 runs sampled)\r${measured}`);
  }
  lines.push(`Fastest is ${benchmarkName(options.benchmarks - 1)}`, '');
  return lines.join('\n');
}

function format(hz: number): string {
  return hz >= 100
    ? Math.round(hz).toLocaleString('en-US')
    : hz.toLocaleString('en-US', { maximumFractionDigits: 2 });
}
