import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../observability/index.js';
import { optimizerTestEnv, detectedWith } from '../../test/helpers/optimizer.js';
import { calibrate } from './calibrate.js';
import { resolveSettings, runOptimizeStage, startOptimization } from './pipeline.js';
import { createTrace } from './trace.js';

const dir = mkdtempSync(join(tmpdir(), 'patchbay-calibrate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = optimizerTestEnv();
const log = createSilentLogger();

/** A benchmark that counts its runs in `runs.txt` and prints one benchmark.js line. */
function countingBench(root: string): string {
  writeFileSync(
    join(root, 'bench.mjs'),
    [
      "import { appendFileSync } from 'node:fs';",
      "appendFileSync('runs.txt', 'x');",
      'const hz = 1000 + Math.floor(Math.random() * 20);',
      "console.log(`op x ${hz.toLocaleString('en-US')} ops/sec ±1.00% (50 runs sampled)`);",
    ].join('\n'),
  );
  return 'node bench.mjs';
}
const runsOf = (root: string): number =>
  existsSync(join(root, 'runs.txt')) ? readFileSync(join(root, 'runs.txt'), 'utf8').length : 0;

describe('calibrate', () => {
  it('stores a complete calibration and reuses it for the same repository and commit', async () => {
    const root = join(dir, 'cached');
    await mkdir(root);
    const bench = countingBench(root);
    const base = {
      root,
      bench,
      samples: 3,
      env,
      log,
      trace: createTrace(),
      deadline: Date.now() + 120_000,
      cacheDir: join(dir, 'store'),
      source: '/repos/lib',
      commit: 'a'.repeat(40),
    };
    const first = await calibrate(base);
    expect(first).toMatchObject({ source: 'run' });
    expect(first.runs.op).toHaveLength(6);
    expect(runsOf(root)).toBe(6);

    const again = await calibrate(base);
    expect(again).toMatchObject({ source: 'cache', noiseFloor: first.noiseFloor });
    expect(runsOf(root)).toBe(6);

    // Another commit is other code: calibrated anew.
    const other = await calibrate({ ...base, commit: 'b'.repeat(40) });
    expect(other.source).toBe('run');
    expect(runsOf(root)).toBe(12);
  }, 120_000);

  it('starts no run after the deadline, and then there is no floor to judge with', async () => {
    const root = join(dir, 'late');
    await mkdir(root);
    const result = await calibrate({
      root,
      bench: countingBench(root),
      samples: 3,
      env,
      log,
      trace: createTrace(),
      deadline: Date.now() - 1,
      cacheDir: join(dir, 'store'),
      source: '/repos/late',
      commit: 'c'.repeat(40),
    });
    expect(runsOf(root)).toBe(0);
    expect(result.unavailable).toMatch(/left 0 of 6 calibration runs/);
    expect(existsSync(join(dir, 'store', `${result.key}.json`))).toBe(false);
  });
});

describe('calibrate within a budget', () => {
  it('stops after 6 runs when the floor is tight, stores that, and reuses it', async () => {
    const root = join(dir, 'tight');
    await mkdir(root);
    const base = {
      root,
      bench: countingBench(root),
      samples: 6,
      env,
      log,
      trace: createTrace(),
      deadline: Date.now() + 120_000,
      // The bench's spread is 2 %: its floor is far under 50 %.
      tightFloor: 0.5,
      cacheDir: join(dir, 'store'),
      source: '/repos/tight',
      commit: 'd'.repeat(40),
    };
    const first = await calibrate(base);
    expect(first).toMatchObject({ stopped: 'tight-floor', source: 'run' });
    expect(first.partial).toBeUndefined();
    expect(runsOf(root)).toBe(6);
    expect(first.noiseFloor).toBeLessThanOrEqual(0.5);
    const again = await calibrate(base);
    expect(again.source).toBe('cache');
    expect(runsOf(root)).toBe(6);
  }, 120_000);

  it('leaves the rest to the candidates once its share is spent, after the minimum of runs', async () => {
    const root = join(dir, 'share');
    await mkdir(root);
    const result = await calibrate({
      root,
      bench: countingBench(root),
      samples: 6,
      env,
      log,
      trace: createTrace(),
      deadline: Date.now() + 120_000,
      shareEnd: Date.now(),
      source: '/repos/share',
      commit: 'e'.repeat(40),
    });
    expect(result).toMatchObject({ stopped: 'share', partial: true });
    expect(runsOf(root)).toBe(4);
    expect(result.unavailable).toBeUndefined();
    expect(result.durationMs).toBeGreaterThan(0);
  }, 120_000);
});

describe('the validate stage', () => {
  it('does not calibrate when there is no candidate to judge', async () => {
    const runDir = join(dir, 'run');
    const root = join(runDir, 'repo');
    await mkdir(root, { recursive: true });
    const bench = countingBench(root);
    await startOptimization(runDir, { source: root, settings: resolveSettings({ samples: 3 }) });
    const artifacts = join(runDir, 'artifacts');
    writeFileSync(
      join(artifacts, 'candidates.json'),
      JSON.stringify({ candidates: [], refused: [] }),
    );
    writeFileSync(
      join(artifacts, 'baseline.json'),
      JSON.stringify({ root, detect: detectedWith({ bench }), steps: [] }),
    );
    await runOptimizeStage('validate', { runDir, env, log, calibrationDir: join(dir, 'store') });
    expect(runsOf(root)).toBe(0);
    const calibration = JSON.parse(readFileSync(join(artifacts, 'calibration.json'), 'utf8'));
    expect(calibration).toMatchObject({ source: 'skipped', noiseFloor: 0 });
  });
});
