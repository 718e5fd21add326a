import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isPatchbayError } from '../contracts/index.js';
import { createSilentLogger } from '../observability/index.js';
import { missingProgram, runBaseline } from './baseline.js';
import { detectedWith } from '../../test/helpers/optimizer.js';

const FIXTURE = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'repos', 'lib-text');
// node and npm from the running Node's directory; nothing else of the caller's environment.
const env = { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: tmpdir(), BENCH_MS: '30' };
const dirs: string[] = [];

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function workspace(): { root: string; artifacts: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pb-baseline-'));
  dirs.push(dir);
  const root = join(dir, 'repo');
  cpSync(FIXTURE, root, { recursive: true });
  return { root, artifacts: join(dir, 'artifacts') };
}

describe('optimizer baseline', () => {
  it('runs install, tests and the benchmark of a real library, with logs, timings and a trace', async () => {
    const { root, artifacts } = workspace();
    const baseline = await runBaseline({
      root,
      detect: detectedWith({
        install: 'npm install --no-audit --no-fund',
        test: 'npm test',
        bench: 'npm run bench',
      }),
      artifactsDir: artifacts,
      env,
      log: createSilentLogger(),
    });
    expect(baseline.steps.map((s) => [s.kind, s.ok])).toEqual([
      ['install', true],
      ['test', true],
      ['bench', true],
    ]);
    expect(baseline.flakyTests).toBe(false);
    expect(baseline.benchOutput).toMatch(/countKeywords x [\d,]+ ops\/sec/);
    const logs = readFileSync(join(artifacts, 'logs.txt'), 'utf8');
    expect(logs).toContain('==> test: npm test');
    expect(logs).toMatch(/<== bench: ok in \d+ ms/);
    const saved = JSON.parse(readFileSync(join(artifacts, 'baseline.json'), 'utf8'));
    expect(saved.steps).toHaveLength(3);
    const trace = JSON.parse(readFileSync(join(artifacts, 'trace.json'), 'utf8'));
    expect(trace.traceEvents.map((e: { name: string }) => e.name)).toEqual([
      'install',
      'test',
      'bench',
    ]);
    expect(trace.traceEvents.every((e: { dur: number }) => e.dur > 0)).toBe(true);
  }, 60_000);

  it('stops at a red step with OPTIMIZE_BASELINE_FAILED naming it, artifacts written', async () => {
    const { root, artifacts } = workspace();
    const err = await runBaseline({
      root,
      detect: detectedWith({ build: 'echo compiling; exit 3', test: 'npm test' }),
      artifactsDir: artifacts,
      env,
      log: createSilentLogger(),
    }).catch((e: unknown) => e);
    expect(isPatchbayError(err) && err.code).toBe('OPTIMIZE_BASELINE_FAILED');
    expect((err as Error).message).toContain('build step');
    expect((err as { details: { step: string } }).details.step).toBe('build');
    expect(readFileSync(join(artifacts, 'logs.txt'), 'utf8')).toMatch(
      /compiling\n<== build: FAILED \(exited, exit 3\)/,
    );
    // The tests never ran.
    expect(JSON.parse(readFileSync(join(artifacts, 'baseline.json'), 'utf8')).steps).toHaveLength(
      1,
    );
  });

  it('names a package manager that is not installed, and how to get past it', async () => {
    const { root, artifacts } = workspace();
    const err = await runBaseline({
      root,
      detect: detectedWith({ install: 'pnpm-not-installed install --frozen-lockfile' }),
      artifactsDir: artifacts,
      env,
      log: createSilentLogger(),
    }).catch((e: unknown) => e);
    expect(isPatchbayError(err) && err.code).toBe('OPTIMIZE_BASELINE_FAILED');
    expect((err as Error).message).toContain(
      'needs `pnpm-not-installed`, which is not installed on this machine',
    );
    expect((err as Error).message).toContain('commands.install in .patchbay.json');
    expect((err as { details: unknown }).details).toMatchObject({
      step: 'install',
      exitCode: 127,
      missing: 'pnpm-not-installed',
    });
  });

  it('reruns failing tests once: passing then is recorded as flaky, failing twice stops', async () => {
    const flaky = workspace();
    // Fails the first time only (a marker file remembers the first try).
    const once = 'if [ -e .tried ]; then exit 0; else touch .tried; exit 1; fi';
    const baseline = await runBaseline({
      root: flaky.root,
      detect: detectedWith({ test: once }),
      artifactsDir: flaky.artifacts,
      env,
      log: createSilentLogger(),
    });
    expect(baseline.flakyTests).toBe(true);
    expect(baseline.steps[0]).toMatchObject({ kind: 'test', ok: true, flaky: true });

    const red = workspace();
    const err = await runBaseline({
      root: red.root,
      detect: detectedWith({ test: 'echo "1 failing"; exit 1' }),
      artifactsDir: red.artifacts,
      env,
      log: createSilentLogger(),
    }).catch((e: unknown) => e);
    expect(isPatchbayError(err) && err.code).toBe('OPTIMIZE_BASELINE_FAILED');
    expect((err as Error).message).toContain('twice');
    expect(readFileSync(join(red.artifacts, 'logs.txt'), 'utf8')).toContain('==> test (rerun)');
    expect(existsSync(join(red.artifacts, 'trace.json'))).toBe(true);
  });
});

describe('missingProgram', () => {
  it("reads dash's and bash's not-found lines, only with exit 127", () => {
    expect(missingProgram({ exitCode: 127, output: 'sh: 1: pnpm: not found\n' })).toBe('pnpm');
    expect(
      missingProgram({ exitCode: 127, output: 'bash: line 1: yarn: command not found\n' }),
    ).toBe('yarn');
    expect(missingProgram({ exitCode: 127, output: 'bash: bun: command not found' })).toBe('bun');
    expect(missingProgram({ exitCode: 1, output: 'sh: 1: pnpm: not found\n' })).toBeUndefined();
    // A test that prints "not found" and exits 127 itself names no program of ours.
    expect(
      missingProgram({ exitCode: 127, output: 'user 42 not found in fixture\n' }),
    ).toBeUndefined();
  });
});
