import { z } from 'zod';

const count = z.number().int().min(0).max(1_000_000_000).nullable();

/**
 * Body of `PUT /v1/budgets/global` and `PUT /v1/budgets/repos/:repo`. PUT replaces the
 * budget: a limit left out (or null) is no limit. At least one limit must be set; to lift
 * them all, DELETE the budget.
 */
export const BudgetLimits = z
  .object({
    maxConcurrentRuns: count
      .optional()
      .describe('Runs queued, running or paused at once (0 refuses every run).'),
    maxRunsPerDay: count.optional().describe('Runs created per day.'),
    maxAgentMinutesPerDay: z
      .number()
      .min(0)
      .max(1_000_000_000)
      .nullable()
      .optional()
      .describe("Minutes the day's runs have been running (finished or now, minus started)."),
    maxUsdPerDay: z
      .number()
      .min(0)
      .max(1_000_000_000)
      .nullable()
      .optional()
      .describe("USD the day's runs reported, or an estimate from their token usage."),
  })
  .strict()
  .refine((b) => Object.values(b).some((v) => v !== null && v !== undefined), {
    message: 'set at least one limit (DELETE the budget to lift them all)',
    path: ['maxConcurrentRuns'],
  });
export type BudgetLimits = z.infer<typeof BudgetLimits>;

/** The four limits, by the names used in `details.limit` of BUDGET_EXCEEDED. */
export const BudgetLimitName = z.enum([
  'maxConcurrentRuns',
  'maxRunsPerDay',
  'maxAgentMinutesPerDay',
  'maxUsdPerDay',
]);
export type BudgetLimitName = z.infer<typeof BudgetLimitName>;

/** What a scope has used: now (concurrency) and in the current day (the rest). */
export const BudgetUsage = z.object({
  concurrentRuns: z.number().int(),
  runsToday: z.number().int(),
  agentMinutesToday: z.number(),
  usdToday: z.number(),
  /** The part of `usdToday` estimated from token usage (the agent reported no cost). */
  estimatedUsdToday: z.number(),
});
export type BudgetUsage = z.infer<typeof BudgetUsage>;

export const Budget = z.object({
  /** `global`, or the id of the repository the budget applies to. */
  scope: z.string(),
  repoId: z.string().nullable(),
  repoName: z.string().nullable(),
  maxConcurrentRuns: z.number().int().nullable(),
  maxRunsPerDay: z.number().int().nullable(),
  maxAgentMinutesPerDay: z.number().nullable(),
  maxUsdPerDay: z.number().nullable(),
  usage: BudgetUsage,
  /** When the per-day figures start again from zero (next midnight in the budget timezone). */
  resetAt: z.string(),
  updatedAt: z.string(),
});
export type Budget = z.infer<typeof Budget>;

export const BudgetList = z.object({
  /** The timezone whose midnight ends a budget day (PATCHBAY_BUDGET_TIMEZONE). */
  timezone: z.string(),
  budgets: z.array(Budget),
});
export type BudgetList = z.infer<typeof BudgetList>;

export const BudgetRepoParams = z.object({
  repo: z.string().min(1).max(100).describe('Repository id or name.'),
});

/** `details` of a BUDGET_EXCEEDED error. */
export interface BudgetExceededDetails {
  scope: string;
  limit: BudgetLimitName;
  /** The limit's value. */
  max: number;
  used: number;
  /** Next reset of a per-day limit; null for the concurrency limit. */
  resetAt: string | null;
  retryAfterSeconds: number;
}
