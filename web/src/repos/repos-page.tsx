import { useState, type FormEvent } from 'react';
import { testIds } from '../../../src/contracts/test-ids.ts';
import type { CreateRepoRequest } from '../../../src/contracts/index.js';
import { api, errorText } from '../data/api.ts';
import { useResource } from '../data/use-resource.ts';
import { LoadState } from '../pages-lib/bits.tsx';
import { Link, navigate, useQueryParam } from '../router.tsx';
import { formatTime } from '../runs/format.ts';
import '../pages-lib/pages.css';

const ids = testIds.repos;

/** `/repos`: registered repositories (`?q=` filters by name) and a form to register one. */
export default function ReposPage() {
  const [q, setQ] = useQueryParam('q');
  const list = useResource('repos', () => api.listRepos());
  const needle = q.trim().toLowerCase();
  const repos = (list.data?.repos ?? []).filter(
    (r) => !needle || r.name.toLowerCase().includes(needle),
  );
  return (
    <section>
      <h1>Repositories</h1>
      <div className="filters">
        <label>
          Filter <input type="search" value={q} onChange={(e) => setQ(e.target.value || null)} />
        </label>
      </div>
      <LoadState loading={list.loading && !list.data} error={list.error} />
      <div className="table-scroll" tabIndex={0} role="region" aria-label="Registered repositories">
        <table data-testid={ids.list}>
          <caption className="visually-hidden">Registered repositories</caption>
          <thead>
            <tr>
              <th scope="col">name</th>
              <th scope="col">source</th>
              <th scope="col">branch</th>
              <th scope="col">registered</th>
            </tr>
          </thead>
          <tbody>
            {repos.map((r) => (
              <tr key={r.id} data-testid={ids.row}>
                <td>
                  <Link to={`/repos/${encodeURIComponent(r.id)}`}>{r.name}</Link>
                </td>
                <td className="mono repo-src">{r.github ?? r.url ?? r.path}</td>
                <td className="mono">{r.defaultBranch}</td>
                <td>{formatTime(r.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {list.data && repos.length === 0 ? <p className="muted">No repositories.</p> : null}
      <RegisterForm />
    </section>
  );
}

function RegisterForm() {
  const [source, setSource] = useState('');
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    const value = source.trim();
    const body: CreateRepoRequest = /^https?:\/\//.test(value)
      ? { url: value }
      : /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/.test(value) && !value.startsWith('/')
        ? { github: value }
        : { path: value };
    if (name.trim()) body.name = name.trim();
    setBusy(true);
    setError(undefined);
    api.createRepo(body).then(
      (repo) => navigate(`/repos/${encodeURIComponent(repo.id)}`),
      (err: unknown) => {
        setBusy(false);
        setError(errorText(err));
      },
    );
  };
  return (
    <form className="stack-form" onSubmit={submit} aria-labelledby="repo-register">
      <h2 id="repo-register">Register a repository</h2>
      <label>
        Path, https URL or GitHub owner/name
        <input
          data-testid={ids.registerPath}
          required
          value={source}
          onChange={(e) => setSource(e.target.value)}
          placeholder="/srv/code/app"
        />
      </label>
      <label>
        Name (optional)
        <input value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <button type="submit" className="primary" disabled={busy} data-testid={ids.registerSubmit}>
        {busy ? 'Registering…' : 'Register'}
      </button>
      {error ? (
        <p role="alert" className="error" data-testid={ids.error}>
          {error}
        </p>
      ) : null}
    </form>
  );
}
