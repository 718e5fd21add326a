import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { isPatchbayError } from '../contracts/index.js';
import { createSilentLogger } from '../observability/index.js';
import { runWithinBudget, stageBudgetMs } from './stage-budget.js';
import { runStep } from './steps.js';

const run = promisify(execFile);
const CLI = join(import.meta.dirname, '..', 'cli', 'main.ts');
const dir = mkdtempSync(join(tmpdir(), 'patchbay-stage-budget-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: dir };

describe('stage budgets', () => {
  it('stops the step running at the deadline and names stage, budget, step and setting', async () => {
    const started = Date.now();
    const err = await runWithinBudget('baseline', 1500, async () => {
      await runStep({ name: 'install', command: 'true', cwd: dir, env, log: createSilentLogger() });
      const step = await runStep({
        name: 'test',
        command: 'sleep 60',
        cwd: dir,
        env,
        log: createSilentLogger(),
      });
      // What baseline.ts does with a step that did not pass: its own error, replaced below.
      throw new Error(`test ${step.reason}`);
    }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(isPatchbayError(err) && err.code).toBe('OPTIMIZE_STAGE_TIMEOUT');
    const e = err as { message: string; details: Record<string, unknown> };
    expect(e.details).toEqual({
      stage: 'baseline',
      budgetMs: 1500,
      setting: 'PATCHBAY_OPTIMIZE_STAGE_TIMEOUT_MS',
      step: 'test: sleep 60',
    });
    expect(e.message).toContain('the baseline stage ran past its budget of 2 s');
    expect(e.message).toContain('while running test (`sleep 60`)');
    expect(e.message).toContain('raise PATCHBAY_OPTIMIZE_STAGE_TIMEOUT_MS');
  }, 60_000);

  it('a stage within its budget keeps its own result and errors', async () => {
    await expect(runWithinBudget('scan', 60_000, () => Promise.resolve(7))).resolves.toBe(7);
    await expect(
      runWithinBudget('scan', 60_000, () => Promise.reject(new Error('its own'))),
    ).rejects.toThrow('its own');
  });

  it('validate gets --max-minutes on top of the budget', () => {
    expect(stageBudgetMs('validate', 1000, 2)).toBe(121_000);
    expect(stageBudgetMs('baseline', 1000, 2)).toBe(1000);
  });

  it('the real stage process reads the setting and reports OPTIMIZE_STAGE_TIMEOUT, not INTERNAL_ERROR', async () => {
    const repo = join(dir, 'repo');
    mkdirSync(repo);
    writeFileSync(
      join(repo, '.patchbay.json'),
      JSON.stringify({ commands: { install: 'true', test: 'sleep 120' } }),
    );
    const git = (...args: string[]) =>
      run('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: repo });
    await git('init', '-q', '-b', 'main');
    await git('add', '.');
    await git('commit', '-q', '-m', 'fixture');
    const stageEnv = {
      ...env,
      PATCHBAY_DATA_DIR: join(dir, 'data'),
      PATCHBAY_OPTIMIZE_STAGE_TIMEOUT_MS: '3000',
    };
    const stage = (...args: string[]) =>
      run(
        process.execPath,
        ['--import', import.meta.resolve('tsx'), CLI, 'optimize-stage', ...args],
        { env: stageEnv, cwd: dir, timeout: 120_000 },
      ).catch((e: { stdout: string; code: number }) => e);
    const runDir = join(dir, 'run');
    await stage('detect', '--dir', runDir, '--source', repo);
    const started = Date.now();
    const baseline = await stage('baseline', '--dir', runDir);
    expect(Date.now() - started).toBeLessThan(60_000);
    const error = baseline.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.type === 'error');
    expect(error).toMatchObject({
      code: 'OPTIMIZE_STAGE_TIMEOUT',
      details: { stage: 'baseline', budgetMs: 3000, step: 'test: sleep 120' },
    });
  }, 180_000);
});
