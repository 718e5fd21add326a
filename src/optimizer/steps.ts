import { AsyncLocalStorage } from 'node:async_hooks';
import type { ExitInfo } from '../exec/index.js';
import { supervise } from '../exec/index.js';
import type { Logger } from '../observability/index.js';

/** One shell command of a pipeline stage, as run: what it printed and how it ended. */
export interface StepResult {
  name: string;
  command: string;
  cwd: string;
  ok: boolean;
  exitCode: number | null;
  signal: string | null;
  /** exited, timeout, idle_timeout, spawn_failed, … (the supervisor's reason). */
  reason: ExitInfo['reason'];
  durationMs: number;
  startedAt: string;
  /** stdout and stderr interleaved as printed (capped at `maxOutputBytes`, head and tail). */
  output: string;
}

export interface StepOptions {
  name: string;
  command: string;
  cwd: string;
  env: Record<string, string>;
  log: Logger;
  timeoutMs?: number;
  /** A silent step this long is stopped (default 10 min). */
  idleTimeoutMs?: number;
  maxOutputBytes?: number;
}

/** A stage's time budget, as the steps it runs see it (pipeline.ts `runOptimizeStage`). */
export interface StageBudget {
  /** Epoch ms: no step of the stage runs past it. */
  readonly deadline: number;
  /** The step running now (`test: npm test`), for the error that names it. */
  current?: string;
}

const stageBudget = new AsyncLocalStorage<StageBudget>();

/** Runs `fn` with every step it starts (directly or not) stopped at `budget.deadline`. */
export function withStageBudget<T>(budget: StageBudget, fn: () => Promise<T>): Promise<T> {
  return stageBudget.run(budget, fn);
}

/** A step's own limit without a stage budget (a stage's steps have the stage's). */
const STEP_TIMEOUT_MS = 30 * 60_000;

/**
 * Runs `sh -c <command>` under the process supervisor (own process group, total and idle
 * clocks, capped output, the whole group killed at the end) and collects its output. Inside a
 * stage (`withStageBudget`) the step is stopped at the stage's deadline at the latest, and no
 * other limit of ours applies unless `timeoutMs` says: the repository's own test timeouts are
 * the only ones its tests meet.
 */
export async function runStep(options: StepOptions): Promise<StepResult> {
  const chunks: string[] = [];
  const startedAt = new Date().toISOString();
  const budget = stageBudget.getStore();
  if (budget) budget.current = `${options.name}: ${options.command}`;
  const timeoutMs = budget
    ? Math.max(1, Math.min(options.timeoutMs ?? Infinity, budget.deadline - Date.now()))
    : (options.timeoutMs ?? STEP_TIMEOUT_MS);
  const proc = supervise(
    { argv: ['sh', '-c', options.command], cwd: options.cwd, env: options.env },
    {
      timeoutMs,
      idleTimeoutMs: options.idleTimeoutMs ?? 10 * 60_000,
      resultGraceMs: 0,
      killGraceMs: 2000,
      maxOutputBytes: options.maxOutputBytes ?? 4 * 1024 * 1024,
      outputPolicy: 'truncate',
      tailBytes: 64 * 1024,
    },
    {
      output: (_stream, text) => chunks.push(text),
      dropped: (bytes, final) => {
        if (final) chunks.push(`\n[… ${bytes} bytes of output dropped …]\n`);
      },
      saturated: false,
      onDrain: (cb) => queueMicrotask(cb),
    },
    options.log,
  );
  const exit = await proc.exited;
  return {
    name: options.name,
    command: options.command,
    cwd: options.cwd,
    ok: exit.reason === 'exited' && exit.exitCode === 0,
    exitCode: exit.exitCode,
    signal: exit.signal,
    reason: exit.reason,
    durationMs: exit.durationMs,
    startedAt,
    output: chunks.join('') + (exit.error ? `\n${exit.error}\n` : ''),
  };
}

/**
 * The environment of a step of `kind`: build, typecheck, lint and test steps run with CI=true
 * (unless the environment already says), so that test runners do not start in watch mode or
 * wait for a key (vitest, jest, react-scripts) and tools print no interactive progress. Install
 * and bench steps get the environment as it is: some benchmark scripts measure less under CI.
 */
export function stepEnv(kind: string, env: Record<string, string>): Record<string, string> {
  if (kind === 'install' || kind === 'bench') return env;
  return { ...env, CI: env.CI ?? 'true' };
}

/** A step's entry in logs.txt: a header, the output, the outcome. */
export function formatStepLog(step: StepResult): string {
  const outcome = step.ok
    ? `ok in ${step.durationMs} ms`
    : `FAILED (${step.reason}, exit ${step.exitCode ?? '-'}${step.signal ? `, ${step.signal}` : ''}) after ${step.durationMs} ms`;
  return `==> ${step.name}: ${step.command}  [${step.cwd}]\n${step.output}${step.output.endsWith('\n') || !step.output ? '' : '\n'}<== ${step.name}: ${outcome}\n\n`;
}

/**
 * Runs a pipeline step through `run(name)`. A failing test step runs once more (named
 * `test (rerun)`): passing then marks the tests flaky, and the rerun is the step's result. Not
 * after the stage's budget ran out (the step was stopped for it).
 */
export async function runOnceMoreIfTests(
  kind: string,
  run: (name: string) => Promise<StepResult>,
): Promise<{ step: StepResult; flaky: boolean }> {
  const first = await run(kind);
  if (first.ok || kind !== 'test') return { step: first, flaky: false };
  // Stopped by the stage's budget: a rerun would have no time at all.
  const budget = stageBudget.getStore();
  if (budget && Date.now() >= budget.deadline) return { step: first, flaky: false };
  const rerun = await run(`${kind} (rerun)`);
  return rerun.ok ? { step: rerun, flaky: true } : { step: first, flaky: false };
}
