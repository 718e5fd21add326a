import { useState, type FormEvent } from 'react';
import { testIds } from '../../../src/contracts/test-ids.ts';
import type { Budget, BudgetLimits } from '../../../src/contracts/index.js';
import { api, errorText } from '../data/api.ts';
import { useResource } from '../data/use-resource.ts';
import { LoadState } from '../pages-lib/bits.tsx';
import { useQueryParam } from '../router.tsx';
import { formatTime } from '../runs/format.ts';
import { METRICS, UsageChart, type UsageMetric } from './usage-chart.tsx';
import '../pages-lib/pages.css';

const ids = testIds.budgets;
const DAYS = ['7', '30', '90'] as const;
const LIMIT_OF: Readonly<Record<UsageMetric, keyof BudgetLimits>> = {
  runs: 'maxRunsPerDay',
  agentMinutes: 'maxAgentMinutesPerDay',
  usd: 'maxUsdPerDay',
};

/**
 * `/budgets`: every budget's limits and today's use, a chart of use per day (`?metric=`,
 * `?days=`, `?repo=` pick what it shows) and the global limits' form.
 */
export default function BudgetsPage() {
  const [metricParam, setMetric] = useQueryParam('metric');
  const [daysParam, setDays] = useQueryParam('days');
  const [repo, setRepo] = useQueryParam('repo');
  const metric: UsageMetric = metricParam in METRICS ? (metricParam as UsageMetric) : 'runs';
  const days = (DAYS as readonly string[]).includes(daysParam) ? Number(daysParam) : 30;
  const list = useResource('budgets', () => api.listBudgets());
  const repos = useResource('repos', () => api.listRepos());
  const usage = useResource(`usage:${days}:${repo}`, () =>
    api.budgetUsage({ days, ...(repo ? { repo } : {}) }),
  );
  const scope = repo ? list.data?.budgets.find((b) => b.repoId === repo) : undefined;
  const global = list.data?.budgets.find((b) => b.scope === 'global');
  const limitBudget = repo ? scope : global;
  const limit = limitBudget ? ((limitBudget[LIMIT_OF[metric]] as number | null) ?? null) : null;
  return (
    <section>
      <h1>Budgets</h1>
      <LoadState loading={list.loading && !list.data} error={list.error} />
      {list.data ? <p className="muted">Days end at midnight {list.data.timezone}.</p> : null}
      <div
        className="table-scroll"
        tabIndex={0}
        role="region"
        aria-label="Budgets: limits and today’s use"
      >
        <table data-testid={ids.list}>
          <caption className="visually-hidden">Budgets: limits and today’s use</caption>
          <thead>
            <tr>
              <th scope="col">scope</th>
              <th scope="col">running now</th>
              <th scope="col">runs today</th>
              <th scope="col">agent minutes today</th>
              <th scope="col">USD today</th>
              <th scope="col">resets</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.budgets.map((b) => (
              <tr key={b.scope} data-testid={ids.row}>
                <th scope="row">{b.scope === 'global' ? 'all runs' : (b.repoName ?? b.scope)}</th>
                <td>
                  <Use used={b.usage.concurrentRuns} max={b.maxConcurrentRuns} />
                </td>
                <td>
                  <Use used={b.usage.runsToday} max={b.maxRunsPerDay} />
                </td>
                <td>
                  <Use used={b.usage.agentMinutesToday} max={b.maxAgentMinutesPerDay} digits={1} />
                </td>
                <td>
                  <Use used={b.usage.usdToday} max={b.maxUsdPerDay} digits={2} />
                  {b.usage.estimatedUsdToday > 0 ? (
                    <span className="muted">
                      {' '}
                      (≈{b.usage.estimatedUsdToday.toFixed(2)} estimated)
                    </span>
                  ) : null}
                </td>
                <td>{formatTime(b.resetAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {list.data && list.data.budgets.length === 0 ? (
        <p className="muted">No budgets: runs are not limited.</p>
      ) : null}

      <h2>Use over time</h2>
      <div className="filters">
        <label>
          Show{' '}
          <select value={metric} onChange={(e) => setMetric(e.target.value)}>
            {Object.entries(METRICS).map(([key, m]) => (
              <option key={key} value={key}>
                {m.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Days{' '}
          <select value={String(days)} onChange={(e) => setDays(e.target.value)}>
            {DAYS.map((d) => (
              <option key={d}>{d}</option>
            ))}
          </select>
        </label>
        <label>
          Repository{' '}
          <select value={repo} onChange={(e) => setRepo(e.target.value || null)}>
            <option value="">all</option>
            {repos.data?.repos.map((r) => (
              <option key={r.id} value={r.id}>
                {r.name}
              </option>
            ))}
          </select>
        </label>
      </div>
      <LoadState loading={usage.loading && !usage.data} error={usage.error} />
      {usage.data ? (
        <UsageChart days={usage.data.days} metric={metric} limit={limit} testId={ids.chart} />
      ) : null}
      {list.data ? (
        <GlobalLimits key={global?.updatedAt ?? 'none'} budget={global} onSaved={list.reload} />
      ) : null}
    </section>
  );
}

function Use({ used, max, digits = 0 }: { used: number; max: number | null; digits?: number }) {
  const text = used.toFixed(digits);
  if (max === null) return <span>{text}</span>;
  return (
    <span className="use">
      <meter
        min={0}
        max={max || 1}
        value={Math.min(used, max || 1)}
        high={(max || 1) * 0.8}
        optimum={0}
      >
        {text} of {max}
      </meter>{' '}
      {text} / {max}
    </span>
  );
}

const FIELDS: readonly { key: keyof BudgetLimits; label: string; step: string }[] = [
  { key: 'maxConcurrentRuns', label: 'Runs at once', step: '1' },
  { key: 'maxRunsPerDay', label: 'Runs per day', step: '1' },
  { key: 'maxAgentMinutesPerDay', label: 'Agent minutes per day', step: 'any' },
  { key: 'maxUsdPerDay', label: 'USD per day', step: 'any' },
];

function GlobalLimits({ budget, onSaved }: { budget: Budget | undefined; onSaved: () => void }) {
  const initial = (key: keyof BudgetLimits): string => {
    const v = budget?.[key];
    return v === null || v === undefined ? '' : String(v);
  };
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(FIELDS.map((f) => [f.key, initial(f.key)])),
  );
  const [error, setError] = useState<string>();
  const [saved, setSaved] = useState(false);
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    const limits: BudgetLimits = {};
    for (const f of FIELDS) {
      const raw = values[f.key]?.trim();
      limits[f.key] = raw ? Number(raw) : null;
    }
    setError(undefined);
    setSaved(false);
    api.setBudget(limits).then(
      () => {
        setSaved(true);
        onSaved();
      },
      (err: unknown) => setError(errorText(err)),
    );
  };
  return (
    <form className="stack-form" onSubmit={submit} aria-labelledby="budget-global">
      <h2 id="budget-global">Limits for all runs</h2>
      <p className="muted">Empty means no limit.</p>
      {FIELDS.map((f) => (
        <label key={f.key}>
          {f.label}
          <input
            type="number"
            min={0}
            step={f.step}
            data-testid={ids.limit}
            data-limit={f.key}
            value={values[f.key] ?? ''}
            onChange={(e) => setValues((v) => ({ ...v, [f.key]: e.target.value }))}
          />
        </label>
      ))}
      <button type="submit" className="primary" data-testid={ids.save}>
        Save limits
      </button>
      <p aria-live="polite">{saved ? 'Saved.' : null}</p>
      {error ? (
        <p role="alert" className="error" data-testid={ids.error}>
          {error}
        </p>
      ) : null}
    </form>
  );
}
