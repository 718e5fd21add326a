import { describe, expect, it } from 'vitest';
import {
  MIN_CALIBRATION_RUNS,
  TIGHT_FLOOR_RUNS,
  calibrationShareEnd,
  calibrationStop,
  leastCandidateMs,
} from './calibrate.js';

const at = (over: Partial<Parameters<typeof calibrationStop>[0]>) =>
  calibrationStop({
    done: 0,
    total: 12,
    now: 1000,
    deadline: 10_000,
    floor: () => 0.5,
    ...over,
  });

describe('calibrationStop', () => {
  it('goes on until every run is done when nothing else stops it', () => {
    expect(at({ done: 11 })).toBeUndefined();
    expect(at({ done: 12 })).toBe('complete');
  });

  it('stops at the deadline, even before the minimum of runs', () => {
    expect(at({ done: 1, now: 10_000 })).toBe('deadline');
  });

  it('ends its share only once the minimum of runs is done', () => {
    expect(at({ done: MIN_CALIBRATION_RUNS - 1, shareEnd: 500 })).toBeUndefined();
    expect(at({ done: MIN_CALIBRATION_RUNS, shareEnd: 500 })).toBe('share');
    expect(at({ done: MIN_CALIBRATION_RUNS, shareEnd: 5000 })).toBeUndefined();
  });

  it('stops on a tight floor only after enough runs, an even number, and a floor under the bound', () => {
    const tight = { tightFloor: 0.015, floor: () => 0.01 };
    expect(at({ ...tight, done: TIGHT_FLOOR_RUNS - 2 })).toBeUndefined();
    expect(at({ ...tight, done: TIGHT_FLOOR_RUNS + 1 })).toBeUndefined();
    expect(at({ ...tight, done: TIGHT_FLOOR_RUNS })).toBe('tight-floor');
    // A floor above the bound, or no bound: all the runs.
    expect(at({ tightFloor: 0.015, floor: () => 0.02, done: TIGHT_FLOOR_RUNS })).toBeUndefined();
    expect(at({ floor: () => 0, done: TIGHT_FLOOR_RUNS })).toBeUndefined();
  });
});

describe('calibrationShareEnd', () => {
  it('gives calibration what one candidate gets of the time left', () => {
    expect(calibrationShareEnd(0, 1200, 3)).toBe(300);
    expect(calibrationShareEnd(0, 1200, 1)).toBe(600);
    // No candidate counts as one; a passed deadline leaves no share.
    expect(calibrationShareEnd(0, 1200, 0)).toBe(600);
    expect(calibrationShareEnd(2000, 1200, 3)).toBe(2000);
  });
});

describe('leastCandidateMs', () => {
  it('is the tests plus a coverage run and three pairs at the calibration pace', () => {
    const baseline = {
      steps: [
        { kind: 'install', durationMs: 50_000 },
        { kind: 'test', durationMs: 4000 },
        { kind: 'bench', durationMs: 9000 },
      ],
    };
    expect(leastCandidateMs(baseline, { ms: 60_000, runs: 6 })).toBe(4000 + 10_000 * 7);
    // No calibration runs (a stored one): no estimate, nothing refused for it.
    expect(leastCandidateMs(baseline, { ms: 0, runs: 0 })).toBe(0);
  });
});
