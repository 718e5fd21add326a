import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  Budget,
  BudgetLimits,
  BudgetList,
  BudgetRepoParams,
  BudgetUsageHistory,
  BudgetUsageQuery,
  ErrorBody,
} from '../../contracts/index.js';
import type { ServerDeps } from '../deps.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody };

export function budgetRoutes(deps: ServerDeps): FastifyPluginAsyncZod {
  const { budgets } = deps;
  return async (app) => {
    app.get(
      '/v1/budgets',
      {
        schema: {
          tags: ['budgets'],
          summary: 'Every budget with its usage now and today',
          response: { 200: BudgetList, ...errors },
        },
      },
      async () => budgets.list(),
    );
    app.get(
      '/v1/budgets/usage',
      {
        schema: {
          tags: ['budgets'],
          summary: 'Use per day (runs, agent minutes, USD) over the last days',
          description:
            'One entry per budget day (midnight to midnight in PATCHBAY_BUDGET_TIMEZONE), oldest first, today last; counted as budgets count (runs by the day they were created). With `repo`, only that repository’s runs.',
          querystring: BudgetUsageQuery,
          response: { 200: BudgetUsageHistory, ...errors },
        },
      },
      async (request) => budgets.usageHistory(request.query.days, request.query.repo),
    );
    app.put(
      '/v1/budgets/global',
      {
        schema: {
          tags: ['budgets'],
          summary: 'Set the global budget (replaces it; a limit left out is no limit)',
          body: BudgetLimits,
          response: { 200: Budget, ...errors },
        },
      },
      async (request) => budgets.put({ kind: 'global' }, request.body),
    );
    app.delete(
      '/v1/budgets/global',
      {
        schema: {
          tags: ['budgets'],
          summary: 'Remove the global budget',
          response: { 200: Budget, ...errors },
        },
      },
      async () => budgets.remove({ kind: 'global' }),
    );
    app.put(
      '/v1/budgets/repos/:repo',
      {
        schema: {
          tags: ['budgets'],
          summary: "Set a repository's budget (replaces it; a limit left out is no limit)",
          params: BudgetRepoParams,
          body: BudgetLimits,
          response: { 200: Budget, ...errors },
        },
      },
      async (request) => budgets.put({ kind: 'repo', repo: request.params.repo }, request.body),
    );
    app.delete(
      '/v1/budgets/repos/:repo',
      {
        schema: {
          tags: ['budgets'],
          summary: "Remove a repository's budget",
          params: BudgetRepoParams,
          response: { 200: Budget, ...errors },
        },
      },
      async (request) => budgets.remove({ kind: 'repo', repo: request.params.repo }),
    );
  };
}
