import type { AgentFacts } from '../agents/index.js';
import type { RunRecord, RunUsage } from '../store/index.js';

/** A run's usage and cost as stored: its own share, and the session's when reported so. */
export interface UsageShare {
  usage: RunUsage | null;
  costUsd: number | null;
  sessionUsage: RunUsage | null;
  sessionCostUsd: number | null;
}

const minus = (a: number, b: number): number => Math.max(0, a - b);

/**
 * What one run used. A CLI that reports figures for its whole session (Claude's result
 * `total_cost_usd`, Codex's `turn.completed` after a resume) would make a conversation's k-th
 * run count runs 1..k again in budgets and costs: its share is the session's figures minus
 * those the run it continued left (`previous`, the last run that ended on the same session).
 * The session's own figures are kept beside it. A session that shrank (a new session under an
 * old id) counts whole.
 */
export function usageShare(
  facts: Pick<AgentFacts, 'usage' | 'costUsd' | 'usageScope'>,
  previous: Pick<RunRecord, 'sessionUsage' | 'sessionCostUsd'> | undefined,
): UsageShare {
  const usage = facts.usage ?? null;
  const costUsd = facts.costUsd ?? null;
  if (facts.usageScope !== 'session') {
    return { usage, costUsd, sessionUsage: null, sessionCostUsd: null };
  }
  const base = previous?.sessionUsage;
  const shrank =
    base !== undefined &&
    base !== null &&
    usage !== null &&
    (usage.input < base.input || usage.output < base.output);
  const share =
    usage && base && !shrank
      ? {
          input: minus(usage.input, base.input),
          output: minus(usage.output, base.output),
          cacheRead: minus(usage.cacheRead, base.cacheRead),
          cacheWrite: minus(usage.cacheWrite, base.cacheWrite),
        }
      : usage;
  const baseCost = previous?.sessionCostUsd;
  const costShare =
    costUsd !== null && baseCost !== undefined && baseCost !== null && !shrank
      ? Math.max(0, costUsd - baseCost)
      : costUsd;
  return { usage: share, costUsd: costShare, sessionUsage: usage, sessionCostUsd: costUsd };
}
