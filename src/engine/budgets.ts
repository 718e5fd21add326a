import type { ResolvedConfig } from '../config/index.js';
import {
  isPatchbayError,
  PatchbayError,
  type Budget,
  type BudgetExceededDetails,
  type BudgetLimitName,
  type BudgetLimits,
  type BudgetList,
  type BudgetUsage,
  type BudgetUsageHistory,
  type Repo,
} from '../contracts/index.js';
import type { Metrics } from '../observability/index.js';
import type {
  BudgetRecord,
  RunRecord,
  RunUsageReader,
  RunUsageRow,
  Store,
} from '../store/index.js';
import { zoneOffsetMs } from './zone-time.js';

/**
 * Budgets: limits per scope (`global`, or a repository id) on runs at once, runs per day,
 * agent minutes per day and USD per day. A run counts against the global budget and, when it
 * has a repository, that repository's. The check and the insert of the run are one store
 * transaction (see RunRepository.insertChecked), so API nodes sharing a store never let two
 * runs into the last slot.
 *
 * Every per-day figure counts the runs *created* since midnight in PATCHBAY_BUDGET_TIMEZONE: a
 * run that goes on past midnight counts, minutes and cost included, toward the day it was
 * created.
 */

/**
 * Retry-After of a refusal by the concurrency limit. A slot frees whenever a run ends, which
 * nothing predicts, so clients are told to try again shortly rather than at a reset.
 */
export const CONCURRENCY_RETRY_AFTER_SECONDS = 15;

/** USD per million tokens for estimates; cache reads and writes are priced off `input`. */
export interface TokenPrices {
  input: number;
  output: number;
}

/** Cache reads and writes relative to the input price (the usual list-price ratios). */
const CACHE_READ_FACTOR = 0.1;
const CACHE_WRITE_FACTOR = 1.25;

/** A scope as the API names it: the global budget or one repository's. */
export type BudgetScopeRef = { kind: 'global' } | { kind: 'repo'; repo: string };

export interface DayWindow {
  /** Midnight that started the current day (ISO, UTC). */
  start: string;
  /** The next midnight, when per-day figures reset (ISO, UTC). */
  resetAt: string;
}

const offsetMs = (instant: number, timeZone: string): number => zoneOffsetMs(timeZone, instant);

/** The UTC instant of a wall-clock midnight (given as a UTC timestamp) in `timeZone`. */
function wallToInstant(wall: number, timeZone: string): number {
  // Two rounds settle the offset even when the day starts or ends at a DST change.
  const guess = wall - offsetMs(wall, timeZone);
  return wall - offsetMs(guess, timeZone);
}

/**
 * The budget day containing `nowMs` in `timeZone`: from its midnight to the next one.
 *
 * @example
 *   dayWindow(Date.parse('2026-03-29T12:00:00Z'), 'Europe/Paris')
 *   // { start: '2026-03-28T23:00:00.000Z', resetAt: '2026-03-29T22:00:00.000Z' } (a 23-hour day)
 */
export function dayWindow(nowMs: number, timeZone: string): DayWindow {
  const local = new Date(nowMs + offsetMs(nowMs, timeZone));
  const midnight = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate());
  const nextMidnight = Date.UTC(
    local.getUTCFullYear(),
    local.getUTCMonth(),
    local.getUTCDate() + 1,
  );
  return {
    start: new Date(wallToInstant(midnight, timeZone)).toISOString(),
    resetAt: new Date(wallToInstant(nextMidnight, timeZone)).toISOString(),
  };
}

/** Estimated USD of a run's token usage at `prices` (USD per million tokens). */
export function estimateUsd(usage: NonNullable<RunRecord['usage']>, prices: TokenPrices): number {
  return (
    (usage.input * prices.input +
      usage.cacheRead * prices.input * CACHE_READ_FACTOR +
      usage.cacheWrite * prices.input * CACHE_WRITE_FACTOR +
      usage.output * prices.output) /
    1_000_000
  );
}

const round = (n: number, digits: number): number => Number(n.toFixed(digits));

/**
 * Usage of a scope from its active count and the runs it created today. Minutes run from
 * `startedAt` to `finishedAt` (or now, for a run still going; paused time included). USD is
 * what a run reported, or, for a run that reported tokens but no cost, an estimate, plus
 * `llmUsd`: today's model calls in the ledger that no run's reported cost covers.
 */
export function summarizeUsage(
  activeRuns: number,
  today: RunUsageRow[],
  nowMs: number,
  prices: TokenPrices,
  llmUsd = 0,
): BudgetUsage {
  let ms = 0;
  let usd = llmUsd;
  let estimated = 0;
  for (const run of today) {
    if (run.startedAt) {
      const end = run.finishedAt ? Date.parse(run.finishedAt) : nowMs;
      ms += Math.max(0, end - Date.parse(run.startedAt));
    }
    if (run.costUsd !== null) usd += run.costUsd;
    else if (run.usage) {
      const e = estimateUsd(run.usage, prices);
      usd += e;
      estimated += e;
    }
  }
  return {
    concurrentRuns: activeRuns,
    runsToday: today.length,
    agentMinutesToday: round(ms / 60_000, 2),
    usdToday: round(usd, 4),
    estimatedUsdToday: round(estimated, 4),
  };
}

const limitText: Record<BudgetLimitName, (max: number, used: number) => string> = {
  maxConcurrentRuns: (max, used) =>
    `at most ${max} concurrent runs (${used} queued, running or paused now)`,
  maxRunsPerDay: (max, used) => `at most ${max} runs per day (${used} created today)`,
  maxAgentMinutesPerDay: (max, used) => `at most ${max} agent minutes per day (${used} used today)`,
  maxUsdPerDay: (max, used) => `at most ${max} USD per day (${used} spent today)`,
};

const usageOf: Record<BudgetLimitName, (u: BudgetUsage) => number> = {
  maxConcurrentRuns: (u) => u.concurrentRuns,
  maxRunsPerDay: (u) => u.runsToday,
  maxAgentMinutesPerDay: (u) => u.agentMinutesToday,
  maxUsdPerDay: (u) => u.usdToday,
};

/**
 * The first limit of `budget` that one more run would exceed, or null. A per-day limit is
 * reached once the day's usage is at it: a new run's minutes and cost are unknown up front.
 */
export function findViolation(
  budget: BudgetRecord,
  usage: BudgetUsage,
  window: DayWindow,
  nowMs: number,
): BudgetExceededDetails | null {
  for (const limit of Object.keys(usageOf) as BudgetLimitName[]) {
    const max = budget[limit];
    const used = usageOf[limit](usage);
    if (max === null || used < max) continue;
    if (limit === 'maxConcurrentRuns') {
      return {
        scope: budget.scope,
        limit,
        max,
        used,
        resetAt: null,
        retryAfterSeconds: CONCURRENCY_RETRY_AFTER_SECONDS,
      };
    }
    return {
      scope: budget.scope,
      limit,
      max,
      used,
      resetAt: window.resetAt,
      retryAfterSeconds: Math.max(1, Math.ceil((Date.parse(window.resetAt) - nowMs) / 1000)),
    };
  }
  return null;
}

export function budgetExceeded(details: BudgetExceededDetails): PatchbayError {
  const who =
    details.scope === 'global' ? 'global budget' : `budget of repository ${details.scope}`;
  const when =
    details.resetAt === null
      ? `retry in ${details.retryAfterSeconds}s`
      : `it resets at ${details.resetAt}`;
  return new PatchbayError(
    'BUDGET_EXCEEDED',
    `${who}: ${limitText[details.limit](details.max, details.used)}; ${when}`,
    details,
  );
}

export interface BudgetsOptions {
  store: Store;
  config: Pick<
    ResolvedConfig,
    'budgetTimezone' | 'budgetInputUsdPerMtok' | 'budgetOutputUsdPerMtok'
  >;
  metrics?: Metrics;
  /** The clock (tests move it). */
  now?: () => number;
}

/** Budgets: what the API reads and writes, and the check every new run goes through. */
export function createBudgets(options: BudgetsOptions) {
  const { store, config, metrics } = options;
  const now = options.now ?? Date.now;
  const prices: TokenPrices = {
    input: config.budgetInputUsdPerMtok,
    output: config.budgetOutputUsdPerMtok,
  };

  const repoOf = (scope: string): string | undefined => (scope === 'global' ? undefined : scope);

  async function usage(
    reader: RunUsageReader,
    budget: BudgetRecord | undefined,
    scope: string,
    window: DayWindow,
    nowMs: number,
  ): Promise<BudgetUsage> {
    const repoId = repoOf(scope);
    // A check needs the day's runs only when a per-day limit is set; a listing always does.
    const perDay =
      budget === undefined ||
      budget.maxRunsPerDay !== null ||
      budget.maxAgentMinutesPerDay !== null ||
      budget.maxUsdPerDay !== null;
    const active = await reader.countActive(repoId);
    const today = perDay ? await reader.listUsageSince(window.start, repoId) : [];
    const llmUsd = perDay ? await reader.llmUsdSince(window.start, repoId) : 0;
    return summarizeUsage(active, today, nowMs, prices, llmUsd);
  }

  async function resolveRepo(ref: string): Promise<Repo> {
    const byId = await store.repos.get(ref);
    if (byId) return byId;
    const named = (await store.repos.list()).filter((r) => r.name === ref);
    if (named.length === 1) return named[0]!;
    if (named.length > 1) {
      throw new PatchbayError(
        'VALIDATION_FAILED',
        `${named.length} repositories are named ${ref}: give the repository id`,
        { fields: [{ location: 'params', path: 'repo', message: 'ambiguous name' }] },
      );
    }
    throw new PatchbayError('REPO_NOT_FOUND', `no repository ${ref}`, { id: ref });
  }

  async function scopeOf(ref: BudgetScopeRef): Promise<{ scope: string; repo: Repo | null }> {
    if (ref.kind === 'global') return { scope: 'global', repo: null };
    const repo = await resolveRepo(ref.repo);
    return { scope: repo.id, repo };
  }

  async function describe(budget: BudgetRecord, repo: Repo | null | undefined): Promise<Budget> {
    const t = now();
    const window = dayWindow(t, config.budgetTimezone);
    const repoId = repoOf(budget.scope) ?? null;
    if (repo === undefined) repo = repoId ? ((await store.repos.get(repoId)) ?? null) : null;
    return {
      scope: budget.scope,
      repoId,
      repoName: repo?.name ?? null,
      maxConcurrentRuns: budget.maxConcurrentRuns,
      maxRunsPerDay: budget.maxRunsPerDay,
      maxAgentMinutesPerDay: budget.maxAgentMinutesPerDay,
      maxUsdPerDay: budget.maxUsdPerDay,
      usage: await usage(store.runs, undefined, budget.scope, window, t),
      resetAt: window.resetAt,
      updatedAt: budget.updatedAt,
    };
  }

  return {
    /**
     * Use per budget day over the last `days` days (today included, so far), of every run or
     * one repository's: what a chart of use over time needs. Figures count as the budget
     * checks count them (runs by the day they were created).
     */
    async usageHistory(days: number, repo?: string): Promise<BudgetUsageHistory> {
      const scope = repo === undefined ? 'global' : (await resolveRepo(repo)).id;
      const repoId = repoOf(scope);
      const t = now();
      const windows: DayWindow[] = [dayWindow(t, config.budgetTimezone)];
      while (windows.length < days) {
        windows.unshift(dayWindow(Date.parse(windows[0]!.start) - 1, config.budgetTimezone));
      }
      const rows = await store.runs.listUsageSince(windows[0]!.start, repoId);
      // The ledger's model calls no run's cost covers, per day: differences of "since".
      const llmSince = await Promise.all(
        windows.map((w) => store.runs.llmUsdSince(w.start, repoId)),
      );
      return {
        timezone: config.budgetTimezone,
        scope,
        days: windows.map((w, i) => {
          const inDay = rows.filter((r) => r.createdAt >= w.start && r.createdAt < w.resetAt);
          const llmUsd = Math.max(0, llmSince[i]! - (llmSince[i + 1] ?? 0));
          const u = summarizeUsage(0, inDay, t, prices, llmUsd);
          const local = new Date(
            Date.parse(w.start) + offsetMs(Date.parse(w.start), config.budgetTimezone),
          );
          return {
            day: local.toISOString().slice(0, 10),
            start: w.start,
            runs: u.runsToday,
            agentMinutes: u.agentMinutesToday,
            usd: u.usdToday,
            estimatedUsd: u.estimatedUsdToday,
          };
        }),
      };
    },

    async list(): Promise<BudgetList> {
      const budgets = await store.budgets.list();
      return {
        timezone: config.budgetTimezone,
        budgets: await Promise.all(budgets.map((b) => describe(b, undefined))),
      };
    },

    /** Creates or replaces a scope's budget (PUT: a limit left out is no limit). */
    async put(ref: BudgetScopeRef, limits: BudgetLimits): Promise<Budget> {
      const { scope, repo } = await scopeOf(ref);
      const record: BudgetRecord = {
        scope,
        maxConcurrentRuns: limits.maxConcurrentRuns ?? null,
        maxRunsPerDay: limits.maxRunsPerDay ?? null,
        maxAgentMinutesPerDay: limits.maxAgentMinutesPerDay ?? null,
        maxUsdPerDay: limits.maxUsdPerDay ?? null,
        updatedAt: new Date(now()).toISOString(),
      };
      await store.budgets.put(record);
      return describe(record, repo);
    },

    /** Removes a scope's budget; returns it as it was. */
    async remove(ref: BudgetScopeRef): Promise<Budget> {
      let target: { scope: string; repo: Repo | null };
      try {
        target = await scopeOf(ref);
      } catch (err) {
        // A budget outlives its repository: the id of a removed repository still names it.
        if (ref.kind !== 'repo' || !isPatchbayError(err) || err.code !== 'REPO_NOT_FOUND')
          throw err;
        target = { scope: ref.repo, repo: null };
      }
      const [budget] = await store.budgets.getMany([target.scope]);
      if (!budget || !(await store.budgets.delete(target.scope))) {
        throw new PatchbayError('BUDGET_NOT_FOUND', `no budget for ${target.scope}`, {
          scope: target.scope,
        });
      }
      return describe(budget, target.repo);
    },

    /**
     * Stores a new run if every budget it counts against allows one more: the global budget
     * and its repository's. Without budgets it is a plain insert.
     *
     * @throws PatchbayError BUDGET_EXCEEDED naming the scope and limit; details carry
     *   `retryAfterSeconds` (the HTTP layer's Retry-After).
     */
    async insertRun(record: RunRecord): Promise<void> {
      const scopes = ['global', ...(record.repoId ? [record.repoId] : [])];
      const budgets = await store.budgets.getMany(scopes);
      if (budgets.length === 0) return store.runs.insert(record);
      budgets.sort((a, b) => scopes.indexOf(a.scope) - scopes.indexOf(b.scope));
      await store.runs.insertChecked(
        record,
        budgets.map((b) => b.scope),
        async (reader) => {
          const t = now();
          const window = dayWindow(t, config.budgetTimezone);
          for (const budget of budgets) {
            const used = await usage(reader, budget, budget.scope, window, t);
            const violation = findViolation(budget, used, window, t);
            if (violation) {
              metrics?.budgetRefusals.inc({ scope: violation.scope, limit: violation.limit });
              throw budgetExceeded(violation);
            }
          }
        },
      );
    },
  };
}

export type Budgets = ReturnType<typeof createBudgets>;
