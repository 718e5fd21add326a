import { useState } from 'react';
import { testIds } from '../../../src/contracts/test-ids.ts';
import type { RunKind } from '../../../src/contracts/index.js';
import { api, errorText } from '../data/api.ts';
import { useResource } from '../data/use-resource.ts';
import { pagesApi } from '../pages-lib/api.ts';
import { LoadState } from '../pages-lib/bits.tsx';
import { Link, navigate, useQueryParam, withQuery } from '../router.tsx';
import type { PageProps } from '../routes.ts';
import { formatDuration, formatTime, runTitle } from '../runs/format.ts';
import { StatusBadge } from '../runs/status-badge.tsx';
import '../pages-lib/pages.css';

const ids = testIds.repo;
const TABS = [
  { key: 'files', label: 'Files' },
  { key: 'runs', label: 'Runs' },
] as const;

/**
 * `/repos/:id`: a repository's files (`?path=` is the directory shown) or its runs
 * (`?tab=runs`, `?kind=` narrows to agent runs or optimizer stages), and “Optimize”.
 */
export default function RepoPage({ params }: PageProps) {
  const id = params.id ?? '';
  const [tab, setTab] = useQueryParam('tab');
  const current = tab === 'runs' ? 'runs' : 'files';
  const repo = useResource(`repo:${id}`, () => pagesApi.getRepo(id));
  return (
    <section data-testid={ids.page}>
      <p className="muted">
        <Link to="/repos">Repositories</Link>
      </p>
      <h1>{repo.data?.name ?? id}</h1>
      <LoadState loading={repo.loading && !repo.data} error={repo.error} />
      {repo.data ? (
        <p className="muted mono repo-src">
          {repo.data.github ?? repo.data.url ?? repo.data.path} · {repo.data.defaultBranch}
        </p>
      ) : null}
      <OptimizeButton repoId={id} />
      <div role="tablist" aria-label="Repository views" className="tabs">
        {TABS.map((t) => (
          <button
            key={t.key}
            type="button"
            role="tab"
            data-testid={ids.tab}
            aria-selected={current === t.key}
            onClick={() => setTab(t.key === 'files' ? null : t.key, { push: true })}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" aria-label={current}>
        {current === 'files' ? <Files repoId={id} /> : <RepoRuns repoId={id} />}
      </div>
    </section>
  );
}

function Files({ repoId }: { repoId: string }) {
  const [path] = useQueryParam('path');
  const list = useResource(`files:${repoId}:${path}`, () => pagesApi.repoFiles(repoId, path));
  const parts = path.split('/').filter(Boolean);
  const href = (p: string): string => withQuery(window.location.href, { path: p || null });
  return (
    <>
      <nav aria-label="Folder" data-testid={ids.breadcrumb} className="crumbs mono">
        <Link to={href('')}>{'(root)'}</Link>
        {parts.map((part, i) => (
          <span key={i}>
            {' / '}
            <Link to={href(parts.slice(0, i + 1).join('/'))}>{part}</Link>
          </span>
        ))}
      </nav>
      <LoadState loading={list.loading && !list.data} error={list.error} />
      <ul className="file-list">
        {list.data?.entries.map((e) => (
          <li key={e.path} data-testid={ids.file} data-type={e.type}>
            {e.type === 'dir' ? (
              <Link to={href(e.path)}>
                <span aria-hidden="true">▸ </span>
                {e.name}/
              </Link>
            ) : (
              <span className="mono">
                <span aria-hidden="true">· </span>
                {e.name}
              </span>
            )}
          </li>
        ))}
      </ul>
      {list.data && list.data.entries.length === 0 ? <p className="muted">Empty.</p> : null}
    </>
  );
}

function RepoRuns({ repoId }: { repoId: string }) {
  const [kind, setKind] = useQueryParam('kind');
  const list = useResource(`repo-runs:${repoId}:${kind}`, () =>
    pagesApi.repoRuns(repoId, { limit: 50, ...(kind ? { kind: kind as RunKind } : {}) }),
  );
  return (
    <>
      <div className="filters">
        <label>
          Kind{' '}
          <select value={kind} onChange={(e) => setKind(e.target.value || null)}>
            <option value="">all</option>
            <option value="agent">agent runs</option>
            <option value="optimize.detect">optimizations</option>
          </select>
        </label>
      </div>
      <LoadState loading={list.loading && !list.data} error={list.error} />
      <div className="table-scroll" tabIndex={0} role="region" aria-label="Runs of this repository">
        <table data-testid={ids.runs}>
          <caption className="visually-hidden">Runs of this repository</caption>
          <thead>
            <tr>
              <th scope="col">run</th>
              <th scope="col">status</th>
              <th scope="col">kind</th>
              <th scope="col">created</th>
              <th scope="col">took</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.runs.map((r) => (
              <tr key={r.id}>
                <td>
                  <Link to={`/runs/${encodeURIComponent(r.id)}`}>{runTitle(r)}</Link>
                </td>
                <td>
                  <StatusBadge status={r.status} />
                </td>
                <td className="mono">{r.kind}</td>
                <td>{formatTime(r.createdAt)}</td>
                <td>{formatDuration(r.durationMs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {list.data && list.data.runs.length === 0 ? <p className="muted">No runs yet.</p> : null}
    </>
  );
}

function OptimizeButton({ repoId }: { repoId: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const start = (): void => {
    setBusy(true);
    setError(undefined);
    api.optimize(repoId).then(
      (run) => navigate(withQuery('/optimizer', { optimization: run.id })),
      (err: unknown) => {
        setBusy(false);
        setError(errorText(err));
      },
    );
  };
  return (
    <p>
      <button
        type="button"
        className="primary"
        onClick={start}
        disabled={busy}
        data-testid={ids.optimize}
      >
        {busy ? 'Starting…' : 'Optimize'}
      </button>{' '}
      <Link to={withQuery('/optimizer', { repo: repoId })}>optimizations</Link>
      {error ? (
        <span role="alert" className="error" data-testid={ids.error}>
          {' '}
          {error}
        </span>
      ) : null}
    </p>
  );
}
