import { testIds } from '../../../src/contracts/test-ids.ts';
import type { Run } from '../../../src/contracts/index.js';
import { api } from '../data/api.ts';
import { useLiveEvents } from '../data/live.ts';
import { useResource } from '../data/use-resource.ts';
import { pagesApi } from '../pages-lib/api.ts';
import { LoadState } from '../pages-lib/bits.tsx';
import { Link, useQueryParam, withQuery } from '../router.tsx';
import { formatDuration, formatTime } from '../runs/format.ts';
import { StatusBadge } from '../runs/status-badge.tsx';
import { headline } from './stats.ts';
import '../pages-lib/pages.css';

const ids = testIds.optimizer;
const STAGES = ['detect', 'baseline', 'scan', 'patch', 'validate', 'propose'] as const;

/**
 * `/optimizer`: optimizations (newest first, `?repo=` narrows), and for the one in
 * `?optimization=` its six stages as they run and the proposals it made.
 */
export default function OptimizerPage() {
  const [repo, setRepo] = useQueryParam('repo');
  const [selected] = useQueryParam('optimization');
  const repos = useResource('repos', () => api.listRepos());
  const list = useResource(`optimizations:${repo}`, () =>
    pagesApi.listRuns({ kind: 'optimize.detect', repoId: repo || undefined, limit: 50 }),
  );
  const repoName = (id: string | null): string =>
    repos.data?.repos.find((r) => r.id === id)?.name ?? id ?? '—';
  return (
    <section className="opt-page">
      <h1>Optimizer</h1>
      <div className="filters">
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
      <LoadState loading={list.loading && !list.data} error={list.error} />
      <div className="opt-columns">
        <div>
          <h2>Optimizations</h2>
          {list.data && list.data.runs.length === 0 ? (
            <p className="muted">
              None yet: start one with “Optimize” on a <Link to="/repos">repository</Link>.
            </p>
          ) : null}
          <ul className="opt-list" data-testid={ids.list}>
            {list.data?.runs.map((run) => (
              <li key={run.id} data-testid={ids.row}>
                <Link
                  to={withQuery('/optimizer', { repo: repo || null, optimization: run.id })}
                  aria-current={run.id === selected ? 'page' : undefined}
                >
                  <span className="mono">{run.id}</span>
                </Link>{' '}
                <span className="muted">
                  {repoName(run.repoId)} · {formatTime(run.createdAt)}
                </span>
              </li>
            ))}
          </ul>
        </div>
        <div>
          {selected ? (
            <Optimization id={selected} />
          ) : (
            <Proposals repoId={repo || undefined} title="Latest proposals" />
          )}
        </div>
      </div>
    </section>
  );
}

function Optimization({ id }: { id: string }) {
  const stages = useResource(`stages:${id}`, () => pagesApi.listRuns({ parentId: id, limit: 20 }));
  const runs = stages.data?.runs ?? [];
  useLiveEvents((e) => {
    if (e.run.parentId === id || e.run.id === id) stages.reload();
  }, stages.reload);
  const byStage = new Map<string, Run>();
  // Newest first from the API: keep the latest try of each stage.
  for (const r of runs) {
    const stage = r.kind.replace(/^optimize\./, '');
    if (!byStage.has(stage)) byStage.set(stage, r);
  }
  return (
    <>
      <h2>
        Optimization <span className="mono">{id}</span>
      </h2>
      <LoadState loading={stages.loading && !stages.data} error={stages.error} />
      <ol className="opt-stages" data-testid={ids.stages}>
        {STAGES.map((stage) => {
          const run = byStage.get(stage);
          return (
            <li key={stage} data-testid={ids.stage} data-stage={stage}>
              <span className="opt-stage-name">{stage}</span>{' '}
              {run ? (
                <>
                  <StatusBadge status={run.status} />{' '}
                  <Link to={`/runs/${encodeURIComponent(run.id)}`}>log</Link>{' '}
                  <span className="muted">{formatDuration(run.durationMs)}</span>
                </>
              ) : (
                <span className="muted">not started</span>
              )}
            </li>
          );
        })}
      </ol>
      <Proposals optimizationId={id} title="Proposals" />
    </>
  );
}

function Proposals({
  optimizationId,
  repoId,
  title,
}: {
  optimizationId?: string;
  repoId?: string;
  title: string;
}) {
  const key = `proposals:${optimizationId ?? ''}:${repoId ?? ''}`;
  const list = useResource(key, () =>
    api.listProposals({
      ...(optimizationId ? { optimizationId } : {}),
      ...(repoId ? { repoId } : {}),
      limit: 50,
    }),
  );
  useLiveEvents((e) => {
    if (e.type !== 'proposalCreated') return;
    if (!optimizationId || e.optimizationId === optimizationId) list.reload();
  }, list.reload);
  return (
    <>
      <h2>{title}</h2>
      <LoadState loading={list.loading && !list.data} error={list.error} />
      {list.data && list.data.proposals.length === 0 ? (
        <p className="muted">No proposals.</p>
      ) : null}
      <ul className="opt-proposals" data-testid={ids.proposals}>
        {list.data?.proposals.map((p) => {
          const best = [...p.metrics].sort((a, b) => b.lowerBoundSpeedup - a.lowerBoundSpeedup)[0];
          return (
            <li key={p.id} data-testid={ids.proposalRow}>
              <Link to={`/optimizer/proposals/${encodeURIComponent(p.id)}`}>
                <span className="mono">{p.rule}</span> in{' '}
                <span className="mono">
                  {p.file}:{p.line}
                </span>
              </Link>{' '}
              <strong>
                {best ? headline(best.baseMedianNs, best.candidateMedianNs) : 'safe refactor'}
              </strong>{' '}
              <span className={`badge ${p.confidence === 'proven' ? 'ok' : 'warn'}`}>
                {p.confidence}
              </span>
            </li>
          );
        })}
      </ul>
    </>
  );
}
