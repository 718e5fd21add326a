/**
 * A/A and planted-speedup trials of the optimizer's statistics on the synthetic suite
 * (synthetic-suite.ts). Everything that decides is the product's own code: the harness reader
 * (`validationMath().read`, readBenchOutput), the calibration (`calibrationFloor`), and the
 * decision validation makes after its interleaved runs (`judgeCandidate` with
 * `validationMath().judge`, i.e. Holm over the family). Only the processes are simulated.
 */
import type { CoverageFinding } from '../../src/optimizer/coverage.js';
import { judgeCandidate } from '../../src/optimizer/decision.js';
import { calibrationFloor, validationMath } from '../../src/optimizer/pipeline.js';
import { decide } from '../../src/optimizer/stats.js';
import {
  benchmarkName,
  createRandom,
  processOutput,
  type SuiteOptions,
} from './synthetic-suite.js';

export interface TrialSettings {
  suite: SuiteOptions;
  /** Process-level samples per side (the optimizer's default is 20). */
  samples: number;
  alpha: number;
  minSpeedup: number;
  /** Use this floor instead of calibrating (e.g. 0: a calibration that read the noise low). */
  forceFloor?: number;
}

export interface TrialOutcome {
  accepted: boolean;
  reason: string;
  noiseFloor: number;
  /** The decision before issue 21: any one benchmark whose own `decide` cleared the bar. */
  uncorrectedAccepted: boolean;
  /** Lower bounds of the benchmarks proven faster. */
  bounds: number[];
  judged: number;
}

type Readings = Map<string, number[]>;

function collect(into: Readings, output: string, read: ReturnType<typeof validationMath>['read']) {
  for (const r of read(output, 1000)) into.set(r.name, [...(into.get(r.name) ?? []), r.value]);
}

/**
 * One trial: calibration (2 × samples base processes, as the validate stage runs it), then
 * `samples` interleaved base/candidate pairs, then the decision. `speedup(i)` is the
 * candidate's true speedup on benchmark i; `exercised` the benchmarks coverage says run the
 * change (undefined: coverage cannot tell benchmarks apart, every one is judged).
 */
export function runTrial(
  settings: TrialSettings,
  seed: number,
  speedup: (i: number) => number,
  exercised?: number[],
): TrialOutcome {
  const random = createRandom(seed);
  const read = validationMath(settings, 0).read;
  const calibration: Readings = new Map();
  for (let i = 0; i < settings.samples * 2; i++) {
    collect(calibration, processOutput(settings.suite, random), read);
  }
  const floor = settings.forceFloor ?? calibrationFloor(calibration);
  const math = validationMath(settings, floor);

  const base: Readings = new Map();
  const candidate: Readings = new Map();
  for (let i = 0; i < settings.samples; i++) {
    const pair: [Readings, (j: number) => number][] = [
      [base, () => 0],
      [candidate, speedup],
    ];
    if (i % 2 === 1) pair.reverse();
    for (const [into, effect] of pair) {
      collect(into, processOutput(settings.suite, random, effect), math.read);
    }
  }
  const coverage: Pick<CoverageFinding, 'executed' | 'benchmarks'> = {
    executed: true,
    ...(exercised ? { benchmarks: exercised.map(benchmarkName) } : {}),
  };
  const judged = judgeCandidate({
    base,
    candidate,
    optimizedOut: () => false,
    coverage,
    math,
  });
  const uncorrectedAccepted = [...base].some(
    ([name, b]) =>
      decide({
        base: b,
        candidate: candidate.get(name) ?? [],
        alpha: settings.alpha,
        minSpeedup: settings.minSpeedup,
        noiseFloor: floor,
      }).accepted,
  );
  return {
    accepted: judged.status === 'accepted',
    reason: judged.reason,
    noiseFloor: floor,
    uncorrectedAccepted,
    bounds: judged.benchmarks
      .filter((b) => b.judged && b.verdict.accepted)
      .map((b) => b.verdict.lowerBoundSpeedup),
    judged: judged.benchmarks.filter((b) => b.judged).length,
  };
}
