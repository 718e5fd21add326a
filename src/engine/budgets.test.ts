import { describe, expect, it } from 'vitest';
import type { BudgetRecord, RunUsageRow } from '../store/index.js';
import {
  budgetExceeded,
  CONCURRENCY_RETRY_AFTER_SECONDS,
  dayWindow,
  estimateUsd,
  findViolation,
  summarizeUsage,
} from './budgets.js';

const prices = { input: 3, output: 15 };

function row(overrides: Partial<RunUsageRow>): RunUsageRow {
  return {
    id: 'run_x',
    agent: 'claude',
    model: null,
    createdAt: '2026-11-23T08:00:00.000Z',
    startedAt: null,
    finishedAt: null,
    costUsd: null,
    usage: null,
    ...overrides,
  };
}

function budget(overrides: Partial<BudgetRecord>): BudgetRecord {
  return {
    scope: 'global',
    maxConcurrentRuns: null,
    maxRunsPerDay: null,
    maxAgentMinutesPerDay: null,
    maxUsdPerDay: null,
    updatedAt: '2026-11-23T00:00:00.000Z',
    ...overrides,
  };
}

describe('dayWindow', () => {
  it('is the UTC day by default', () => {
    expect(dayWindow(Date.parse('2026-11-23T17:45:12.345Z'), 'UTC')).toEqual({
      start: '2026-11-23T00:00:00.000Z',
      resetAt: '2026-11-24T00:00:00.000Z',
    });
  });

  it('follows the local midnight of another timezone', () => {
    // 01:30 in Tokyo (UTC+9) on the 24th is still the 23rd in UTC.
    expect(dayWindow(Date.parse('2026-11-23T16:30:00Z'), 'Asia/Tokyo')).toEqual({
      start: '2026-11-23T15:00:00.000Z',
      resetAt: '2026-11-24T15:00:00.000Z',
    });
    expect(dayWindow(Date.parse('2026-11-23T03:00:00Z'), 'America/New_York')).toEqual({
      start: '2026-11-22T05:00:00.000Z',
      resetAt: '2026-11-23T05:00:00.000Z',
    });
  });

  it('has 23 hours on the day clocks go forward and 25 when they go back', () => {
    expect(dayWindow(Date.parse('2026-03-29T12:00:00Z'), 'Europe/Paris')).toEqual({
      start: '2026-03-28T23:00:00.000Z',
      resetAt: '2026-03-29T22:00:00.000Z',
    });
    expect(dayWindow(Date.parse('2026-10-25T12:00:00Z'), 'Europe/Paris')).toEqual({
      start: '2026-10-24T22:00:00.000Z',
      resetAt: '2026-10-25T23:00:00.000Z',
    });
  });
});

describe('usage', () => {
  it('estimates USD from tokens: cache reads at 10% and writes at 125% of the input price', () => {
    const usd = estimateUsd(
      { input: 1_000_000, output: 100_000, cacheRead: 1_000_000, cacheWrite: 1_000_000 },
      prices,
    );
    expect(usd).toBeCloseTo(3 + 1.5 + 0.3 + 3.75, 10);
  });

  it('sums minutes to now for a running run, reported cost, and estimates the rest', () => {
    const now = Date.parse('2026-11-23T10:00:00Z');
    const usage = summarizeUsage(
      2,
      [
        row({
          startedAt: '2026-11-23T09:00:00.000Z',
          finishedAt: '2026-11-23T09:30:00.000Z',
          costUsd: 1.25,
        }),
        row({
          startedAt: '2026-11-23T09:50:00.000Z',
          usage: { input: 1_000_000, output: 0, cacheRead: 0, cacheWrite: 0 },
        }),
        row({ agent: 'shell' }), // queued: no minutes, no cost
      ],
      now,
      prices,
    );
    expect(usage).toEqual({
      concurrentRuns: 2,
      runsToday: 3,
      agentMinutesToday: 40,
      usdToday: 4.25,
      estimatedUsdToday: 3,
    });
  });
});

describe('findViolation', () => {
  const now = Date.parse('2026-11-23T23:59:00Z');
  const window = dayWindow(now, 'UTC');
  const usage = {
    concurrentRuns: 3,
    runsToday: 10,
    agentMinutesToday: 30,
    usdToday: 2,
    estimatedUsdToday: 0,
  };

  it('allows a run while every limit has room', () => {
    const b = budget({
      maxConcurrentRuns: 4,
      maxRunsPerDay: 11,
      maxAgentMinutesPerDay: 31,
      maxUsdPerDay: 2.5,
    });
    expect(findViolation(b, usage, window, now)).toBeNull();
  });

  it('refuses at a per-day limit until the next midnight', () => {
    const v = findViolation(budget({ maxRunsPerDay: 10 }), usage, window, now);
    expect(v).toEqual({
      scope: 'global',
      limit: 'maxRunsPerDay',
      max: 10,
      used: 10,
      resetAt: '2026-11-24T00:00:00.000Z',
      retryAfterSeconds: 60,
    });
    expect(findViolation(budget({ maxAgentMinutesPerDay: 30 }), usage, window, now)?.limit).toBe(
      'maxAgentMinutesPerDay',
    );
    expect(findViolation(budget({ maxUsdPerDay: 1.5 }), usage, window, now)?.limit).toBe(
      'maxUsdPerDay',
    );
  });

  it('refuses at the concurrency limit with a short Retry-After and no reset', () => {
    const v = findViolation(budget({ scope: 'repo_1', maxConcurrentRuns: 3 }), usage, window, now);
    expect(v).toMatchObject({
      scope: 'repo_1',
      limit: 'maxConcurrentRuns',
      resetAt: null,
      retryAfterSeconds: CONCURRENCY_RETRY_AFTER_SECONDS,
    });
    const err = budgetExceeded(v!);
    expect(err.code).toBe('BUDGET_EXCEEDED');
    expect(err.status).toBe(429);
    expect(err.message).toBe(
      `budget of repository repo_1: at most 3 concurrent runs (3 queued, running or paused now); retry in ${CONCURRENCY_RETRY_AFTER_SECONDS}s`,
    );
  });
});
