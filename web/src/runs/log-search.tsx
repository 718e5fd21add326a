/**
 * Search over the run's whole log on the server (`GET /v1/runs/:id/log/search`), not only the
 * lines this page holds; every match links to its `?line=` permalink. The query is in the URL
 * (`?q=`). A server without the endpoint (404 that is not the run's) gets a search of the
 * lines loaded here, and says so.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { errorFromResponse } from '../../../src/client/index.js';
import { testIds } from '../../../src/contracts/test-ids.ts';
import { apiFetch, errorText } from '../data/api.ts';
import { Link, useQueryParam } from '../router.tsx';
import { stripAnsi } from './ansi.tsx';
import type { EventStore } from './event-store.ts';

/** The answer of the search endpoint (LogSearchResult in the server's contracts). */
interface SearchAnswer {
  matches: { line: number; text: string }[];
  truncated: boolean;
  local?: boolean;
}

const LIMIT = 200;

async function searchLog(runId: string, q: string, store: EventStore): Promise<SearchAnswer> {
  const params = new URLSearchParams({ q, limit: String(LIMIT) });
  const res = await apiFetch(`/v1/runs/${encodeURIComponent(runId)}/log/search?${params}`, {
    headers: { accept: 'application/json' },
  });
  const text = await res.text();
  if (res.ok) return JSON.parse(text) as SearchAnswer;
  const err = errorFromResponse(res.status, text);
  if (res.status !== 404 || err.code === 'RUN_NOT_FOUND') throw err;
  const needle = q.toLowerCase();
  const matches = store.lines
    .filter((l) => stripAnsi(l.text).toLowerCase().includes(needle))
    .map((l) => ({ line: l.n, text: l.text }));
  return { matches: matches.slice(0, LIMIT), truncated: matches.length > LIMIT, local: true };
}

export function LogSearch(props: {
  runId: string;
  store: EventStore;
  lineHref: (n: number) => string;
}) {
  const [q, setQ] = useQueryParam('q');
  const [draft, setDraft] = useState(q);
  const [answer, setAnswer] = useState<SearchAnswer | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const { runId, store } = props;

  useEffect(() => {
    setDraft(q);
    if (!q) {
      setAnswer(undefined);
      return;
    }
    let current = true;
    setBusy(true);
    searchLog(runId, q, store).then(
      (a) => {
        if (!current) return;
        setAnswer(a);
        setError(undefined);
        setBusy(false);
      },
      (err: unknown) => {
        if (!current) return;
        setError(errorText(err));
        setBusy(false);
      },
    );
    return () => {
      current = false;
    };
  }, [q, runId, store]);

  const submit = (event: FormEvent): void => {
    event.preventDefault();
    setQ(draft.trim() || null, { push: true });
  };

  return (
    <div className="log-search">
      <form role="search" aria-label="Search the log" onSubmit={submit} className="inline">
        <label htmlFor="log-search-q" className="visually-hidden">
          Search the whole log
        </label>
        <input
          id="log-search-q"
          type="search"
          placeholder="Search the log"
          value={draft}
          onChange={(e) => setDraft(e.target.value)}
          data-testid={testIds.log.search}
        />
        <button type="submit">Search</button>
      </form>
      {busy && <span aria-busy="true"> searching…</span>}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {answer && q && (
        <div className="search-results" aria-live="polite">
          <p className="muted">
            {answer.matches.length === 0
              ? 'No line matches.'
              : `${answer.matches.length}${answer.truncated ? '+' : ''} matching lines`}
            {answer.local ? ' (in the lines loaded here: this server has no log search)' : ''}
            {' · '}
            <button type="button" className="link" onClick={() => setQ(null, { push: true })}>
              Clear
            </button>
          </p>
          <ol className="mono">
            {answer.matches.map((m) => (
              <li key={m.line}>
                <Link
                  to={props.lineHref(m.line)}
                  data-testid={testIds.log.searchResult}
                  data-line={m.line}
                >
                  {m.line}
                </Link>{' '}
                {stripAnsi(m.text).slice(0, 300)}
              </li>
            ))}
          </ol>
        </div>
      )}
    </div>
  );
}
