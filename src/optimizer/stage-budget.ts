import { PatchbayError, type OptimizeStage } from '../contracts/index.js';
import { withStageBudget, type StageBudget } from './steps.js';

/** The setting that raises the budget, as the error tells the user. */
const SETTING = 'PATCHBAY_OPTIMIZE_STAGE_TIMEOUT_MS';

/** After the deadline, how long the stopped step has to report before the stage gives up on it. */
const REPORT_GRACE_MS = 5000;

/**
 * A stage's budget: `stageTimeoutMs`, and for validate also the optimization's `maxMinutes`
 * (it stops taking candidates then, and the one under way must finish).
 */
export function stageBudgetMs(
  stage: OptimizeStage,
  stageTimeoutMs: number,
  maxMinutes: number,
): number {
  return stage === 'validate' ? stageTimeoutMs + maxMinutes * 60_000 : stageTimeoutMs;
}

function minutes(ms: number): string {
  const m = ms / 60_000;
  return m >= 1 ? `${Number(m.toFixed(1))} min` : `${Math.round(ms / 1000)} s`;
}

/**
 * Runs a stage within its budget: every step it starts is stopped at the deadline
 * (steps.ts), and whatever the stage then throws — a red baseline, a failed benchmark — or
 * not yet, it fails with OPTIMIZE_STAGE_TIMEOUT, naming the stage, the budget, the step it
 * was in and the setting that raises it.
 *
 * @throws PatchbayError OPTIMIZE_STAGE_TIMEOUT
 */
export async function runWithinBudget<T>(
  stage: OptimizeStage,
  budgetMs: number,
  fn: () => Promise<T>,
): Promise<T> {
  const budget: StageBudget = { deadline: Date.now() + budgetMs };
  const timedOut = (): PatchbayError =>
    new PatchbayError(
      'OPTIMIZE_STAGE_TIMEOUT',
      `the ${stage} stage ran past its budget of ${minutes(budgetMs)}${budget.current ? ` while running ${budget.current.split(':')[0]} (\`${budget.current.slice(budget.current.indexOf(':') + 2)}\`)` : ''}: raise ${SETTING} (now ${budgetMs} ms${stage === 'validate' ? ', with --max-minutes' : ''}) or make that step faster (see logs.txt)`,
      {
        stage,
        budgetMs,
        setting: SETTING,
        ...(budget.current ? { step: budget.current } : {}),
      },
    );
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timedOut()), budgetMs + REPORT_GRACE_MS);
  });
  try {
    return await Promise.race([withStageBudget(budget, fn), late]);
  } catch (err) {
    if (Date.now() >= budget.deadline) throw timedOut();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
