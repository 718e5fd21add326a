import { PatchbayError } from '../contracts/index.js';

/** What the cap reads: the USD the ledger holds for a run so far. */
export interface RunSpendReader {
  sumUsdOfRun(runId: string): Promise<number>;
}

/**
 * Refuses the next call of a run once its calls have cost `maxCostUsd`. Checked before every
 * call, so a run stops within one call of its cap (the call that crosses it is the last).
 *
 * @throws PatchbayError BUDGET_EXCEEDED with `{ limit: 'maxCostUsd', max, used, runId }`.
 * @example
 *   await assertWithinCostCap(store.llmCalls, run.id, 0.5); // before each model call
 */
export async function assertWithinCostCap(
  ledger: RunSpendReader,
  runId: string,
  maxCostUsd: number,
): Promise<void> {
  const used = await ledger.sumUsdOfRun(runId);
  if (used >= maxCostUsd) {
    throw new PatchbayError(
      'BUDGET_EXCEEDED',
      `run ${runId}: its model calls cost ${used.toFixed(4)} USD, at or over its cap of ${maxCostUsd} USD (maxCostUsd)`,
      {
        scope: runId,
        limit: 'maxCostUsd',
        max: maxCostUsd,
        used: Number(used.toFixed(6)),
        runId,
        resetAt: null,
        retryAfterSeconds: null,
      },
    );
  }
}
