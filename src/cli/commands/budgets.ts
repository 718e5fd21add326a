import { InvalidArgumentError, type Command } from 'commander';
import type { Budget, BudgetLimits } from '../../contracts/index.js';
import { createContext } from '../context.js';
import { formatSeconds, out } from '../output.js';

/** A limit flag: a number, or `none` to lift that limit. */
function limitValue(integer: boolean) {
  return (text: string): number | null => {
    if (text === 'none') return null;
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
      throw new InvalidArgumentError(
        `expected a ${integer ? 'whole ' : ''}number >= 0, or none to lift the limit`,
      );
    }
    return n;
  };
}

const limitNames: [keyof BudgetLimits, string][] = [
  ['maxConcurrentRuns', 'concurrent'],
  ['maxRunsPerDay', 'runs/day'],
  ['maxAgentMinutesPerDay', 'agent min/day'],
  ['maxUsdPerDay', 'USD/day'],
];

function describeBudget(b: Budget): string[] {
  const who = b.scope === 'global' ? 'global' : `repo ${b.repoName ?? '(removed)'} ${b.scope}`;
  const used: Record<keyof BudgetLimits, number> = {
    maxConcurrentRuns: b.usage.concurrentRuns,
    maxRunsPerDay: b.usage.runsToday,
    maxAgentMinutesPerDay: b.usage.agentMinutesToday,
    maxUsdPerDay: b.usage.usdToday,
  };
  const limits = limitNames.map(([key, label]) => {
    const max = b[key];
    return `  ${label.padEnd(14)} ${String(used[key]).padStart(8)} / ${max === null ? '-' : max}`;
  });
  const estimated =
    b.usage.estimatedUsdToday > 0
      ? [`  (${b.usage.estimatedUsdToday} USD estimated from tokens)`]
      : [];
  const resetIn = formatSeconds((Date.parse(b.resetAt) - Date.now()) / 1000);
  return [`${who}  (day resets in ${resetIn}, at ${b.resetAt})`, ...limits, ...estimated];
}

export function registerBudgets(program: Command): void {
  const budgets = program
    .command('budgets')
    .description(
      'Limits on runs at once, runs, agent minutes and USD per day (global or per repository)',
    );
  budgets
    .command('list')
    .description('Show every budget with what it has used now and today')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const list = await createContext(command).client.listBudgets();
      if (opts.json) out.json(list);
      else if (list.budgets.length === 0) out.note('no budgets (patchbay budgets set --help)');
      else for (const b of list.budgets) for (const line of describeBudget(b)) out.line(line);
    });
  budgets
    .command('set')
    .description(
      'Set limits of the global budget, or of a repository with --repo; limits not given are kept (none lifts one)',
    )
    .option('--repo <repo>', 'repository id or name (default: the global budget)')
    .option('--max-concurrent <n>', 'runs queued, running or paused at once', limitValue(true))
    .option('--max-runs-per-day <n>', 'runs created per day', limitValue(true))
    .option('--max-agent-minutes-per-day <n>', 'minutes of run time per day', limitValue(false))
    .option(
      '--max-usd-per-day <x>',
      'USD per day (reported, or estimated from tokens)',
      limitValue(false),
    )
    .option('--json', 'print JSON')
    .action(
      async (
        opts: {
          repo?: string;
          maxConcurrent?: number | null;
          maxRunsPerDay?: number | null;
          maxAgentMinutesPerDay?: number | null;
          maxUsdPerDay?: number | null;
          json?: boolean;
        },
        command: Command,
      ) => {
        const { client } = createContext(command);
        const given: BudgetLimits = {
          ...(opts.maxConcurrent !== undefined && { maxConcurrentRuns: opts.maxConcurrent }),
          ...(opts.maxRunsPerDay !== undefined && { maxRunsPerDay: opts.maxRunsPerDay }),
          ...(opts.maxAgentMinutesPerDay !== undefined && {
            maxAgentMinutesPerDay: opts.maxAgentMinutesPerDay,
          }),
          ...(opts.maxUsdPerDay !== undefined && { maxUsdPerDay: opts.maxUsdPerDay }),
        };
        if (Object.keys(given).length === 0) {
          command.error('give at least one limit (--max-concurrent, --max-runs-per-day, …)');
        }
        // PUT replaces a budget; the CLI changes only the limits given and keeps the others.
        const current = (await client.listBudgets()).budgets.find((b) =>
          opts.repo === undefined
            ? b.scope === 'global'
            : b.repoId === opts.repo || b.repoName === opts.repo,
        );
        const limits: BudgetLimits = {
          maxConcurrentRuns: current?.maxConcurrentRuns ?? null,
          maxRunsPerDay: current?.maxRunsPerDay ?? null,
          maxAgentMinutesPerDay: current?.maxAgentMinutesPerDay ?? null,
          maxUsdPerDay: current?.maxUsdPerDay ?? null,
          ...given,
        };
        const budget = await client.setBudget(limits, opts.repo);
        if (opts.json) out.json(budget);
        else for (const line of describeBudget(budget)) out.line(line);
      },
    );
  budgets
    .command('rm')
    .description("Remove the global budget, or a repository's with --repo")
    .option('--repo <repo>', 'repository id or name')
    .action(async (opts: { repo?: string }, command: Command) => {
      const budget = await createContext(command).client.deleteBudget(opts.repo);
      out.line(
        `removed the ${budget.scope === 'global' ? 'global budget' : `budget of ${budget.scope}`}`,
      );
    });
}
