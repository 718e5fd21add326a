/**
 * What one run may use: concurrency, time, output, a conversation's carried-over context, and
 * the daily budgets.
 */
import { z } from 'zod';
import { durationMs, positiveInt, setting } from './spec.js';

const MINUTE = 60_000;

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

export const runLimitSettings = {
  maxConcurrentRuns: setting({
    key: 'maxConcurrentRuns',
    env: 'PATCHBAY_MAX_CONCURRENT_RUNS',
    schema: positiveInt.default(4),
    defaultText: '4',
    description: 'Runs executing at once; extra runs wait as `queued` in FIFO order.',
  }),
  runTimeoutMs: setting({
    key: 'runTimeoutMs',
    env: 'PATCHBAY_RUN_TIMEOUT_MS',
    schema: durationMs.default(30 * MINUTE),
    defaultText: '1800000 (30 min)',
    description: 'Default total wall-clock limit of a run (a run may set `timeoutMs`).',
  }),
  idleTimeoutMs: setting({
    key: 'idleTimeoutMs',
    env: 'PATCHBAY_IDLE_TIMEOUT_MS',
    schema: durationMs.default(10 * MINUTE),
    defaultText: '600000 (10 min)',
    description:
      'Default limit on silence: a run that prints nothing for this long ends `timed_out`. Paused time does not count.',
  }),
  resultGraceMs: setting({
    key: 'resultGraceMs',
    env: 'PATCHBAY_RESULT_GRACE_MS',
    schema: durationMs.default(30_000),
    defaultText: '30000',
    description:
      'After an agent prints its final result line, how long it may take to exit before it is killed.',
  }),
  killGraceMs: setting({
    key: 'killGraceMs',
    env: 'PATCHBAY_KILL_GRACE_MS',
    schema: durationMs.default(5000),
    defaultText: '5000',
    description: 'Time between SIGTERM and SIGKILL when a run is cancelled or times out.',
  }),
  maxOutputBytes: setting({
    key: 'maxOutputBytes',
    env: 'PATCHBAY_MAX_OUTPUT_BYTES',
    schema: positiveInt.default(10 * 1024 * 1024),
    defaultText: '10485760 (10 MiB)',
    description: 'Default output cap of a run (stdout and stderr together).',
  }),
  outputPolicy: setting({
    key: 'outputPolicy',
    env: 'PATCHBAY_OUTPUT_POLICY',
    schema: z.enum(['kill', 'truncate']).default('truncate'),
    defaultText: 'truncate',
    description:
      'What happens past the cap: `truncate` keeps the head and a tail, drops the middle and lets the run go on; `kill` fails the run with OUTPUT_LIMIT_EXCEEDED.',
  }),
  outputTailBytes: setting({
    key: 'outputTailBytes',
    env: 'PATCHBAY_OUTPUT_TAIL_BYTES',
    schema: positiveInt.default(1024 * 1024),
    defaultText: '1048576 (1 MiB)',
    description:
      'With `truncate`, the size of the tail kept after the cap (at most a quarter of the cap).',
  }),
  outputDropRate: setting({
    key: 'outputDropRate',
    env: 'PATCHBAY_OUTPUT_DROP_RATE',
    schema: z.coerce
      .number()
      .int()
      .min(0)
      .default(4 * 1024 * 1024),
    defaultText: '4194304 (4 MiB/s)',
    description:
      'With `truncate`, past the cap: the most bytes per second read and dropped; a child printing faster waits on its full pipe. 0 = no limit.',
  }),
  gateTimeoutMs: setting({
    key: 'gateTimeoutMs',
    env: 'PATCHBAY_GATE_TIMEOUT_MS',
    schema: durationMs.default(15 * MINUTE),
    defaultText: '900000 (15 min)',
    description:
      "Wall-clock limit of each validation gate of a repository run (install, build, typecheck, lint, test); one that runs longer is stopped and recorded `timed_out`. Its silence limit is the run's `idleTimeoutMs`.",
  }),
  optimizeStageTimeoutMs: setting({
    key: 'optimizeStageTimeoutMs',
    env: 'PATCHBAY_OPTIMIZE_STAGE_TIMEOUT_MS',
    schema: durationMs.default(45 * MINUTE),
    defaultText: '2700000 (45 min)',
    description:
      "Time budget of each stage of an optimization (detect, baseline, scan, patch, propose; validate gets the optimization's `--max-minutes` on top, since it stops taking candidates then). The commands a stage runs are stopped at the budget and the stage fails with `OPTIMIZE_STAGE_TIMEOUT`, naming the stage and the step it was in.",
  }),
};

/** What a conversation carries into its next session. */
export const conversationSettings = {
  conversationSummaryMessages: setting({
    key: 'conversationSummaryMessages',
    env: 'PATCHBAY_CONVERSATION_SUMMARY_MESSAGES',
    schema: z.coerce.number().int().min(1).max(100).default(6),
    defaultText: '6',
    description:
      "When a conversation outgrows the agent's context window, how many of its last messages the summary that seeds the next session keeps (with the first prompt and the changed files).",
  }),
};

/** Daily budgets: when a day ends and what a token costs. */
export const budgetSettings = {
  budgetTimezone: setting({
    key: 'budgetTimezone',
    env: 'PATCHBAY_BUDGET_TIMEZONE',
    schema: z
      .string()
      .min(1)
      .refine(isTimeZone, 'an IANA timezone such as UTC or Europe/Paris')
      .default('UTC'),
    defaultText: 'UTC',
    description:
      'Timezone whose midnight ends a budget day: runs, agent minutes and USD per day count the runs created since then.',
  }),
  budgetInputUsdPerMtok: setting({
    key: 'budgetInputUsdPerMtok',
    env: 'PATCHBAY_BUDGET_INPUT_USD_PER_MTOK',
    schema: z.coerce.number().min(0).default(3),
    defaultText: '3',
    description:
      'USD per million input tokens, to estimate the cost of an agent run that reported token usage but no cost (cache reads at 10% of it, cache writes at 125%). An estimate for budgets only.',
  }),
  budgetOutputUsdPerMtok: setting({
    key: 'budgetOutputUsdPerMtok',
    env: 'PATCHBAY_BUDGET_OUTPUT_USD_PER_MTOK',
    schema: z.coerce.number().min(0).default(15),
    defaultText: '15',
    description:
      'USD per million output tokens, for the same estimate (see PATCHBAY_BUDGET_INPUT_USD_PER_MTOK).',
  }),
};
