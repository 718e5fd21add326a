import { useState, type FormEvent } from 'react';
import { testIds } from '../../../src/contracts/test-ids.ts';
import type { ConversationAgent } from '../../../src/contracts/index.js';
import { api, errorText } from '../data/api.ts';
import { useResource } from '../data/use-resource.ts';
import { LoadState } from '../pages-lib/bits.tsx';
import { Link, navigate, useQueryParam } from '../router.tsx';
import { formatTime } from '../runs/format.ts';
import '../pages-lib/pages.css';

const ids = testIds.conversations;
const AGENTS: readonly ConversationAgent[] = ['claude', 'cursor', 'codex', 'gemini', 'llm'];

/** `/conversations`: conversations newest first (`?agent=` narrows) and a form to start one. */
export default function ConversationsPage() {
  const [agent, setAgent] = useQueryParam('agent');
  const list = useResource('conversations', () => api.listConversations());
  const repos = useResource('repos', () => api.listRepos());
  const rows = (list.data?.conversations ?? []).filter((c) => !agent || c.agent === agent);
  const repoName = (id: string | null): string =>
    id ? (repos.data?.repos.find((r) => r.id === id)?.name ?? id) : '—';
  return (
    <section>
      <h1>Conversations</h1>
      <div className="filters">
        <label>
          Agent{' '}
          <select value={agent} onChange={(e) => setAgent(e.target.value || null)}>
            <option value="">all</option>
            {AGENTS.map((a) => (
              <option key={a}>{a}</option>
            ))}
          </select>
        </label>
      </div>
      <LoadState loading={list.loading && !list.data} error={list.error} />
      <ul className="conv-list" data-testid={ids.list}>
        {rows.map((c) => (
          <li key={c.id} data-testid={ids.row}>
            <Link to={`/conversations/${encodeURIComponent(c.id)}`}>{c.title ?? c.id}</Link>{' '}
            <span className="muted">
              {c.agent} · {repoName(c.repoId)} · {c.messageCount} messages ·{' '}
              {formatTime(c.updatedAt)}
            </span>
          </li>
        ))}
      </ul>
      {list.data && rows.length === 0 ? <p className="muted">No conversations.</p> : null}
      <NewConversation repos={repos.data?.repos ?? []} />
    </section>
  );
}

function NewConversation({ repos }: { repos: readonly { id: string; name: string }[] }) {
  const [agent, setAgent] = useState<ConversationAgent>('claude');
  const [title, setTitle] = useState('');
  const [repo, setRepo] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    api
      .createConversation({
        agent,
        ...(title.trim() ? { title: title.trim() } : {}),
        ...(repo ? { repo } : {}),
      })
      .then(
        (c) => navigate(`/conversations/${encodeURIComponent(c.id)}`),
        (err: unknown) => {
          setBusy(false);
          setError(errorText(err));
        },
      );
  };
  return (
    <form className="stack-form" onSubmit={submit} aria-labelledby="conv-new">
      <h2 id="conv-new">New conversation</h2>
      <label>
        Agent
        <select
          data-testid={ids.newAgent}
          value={agent}
          onChange={(e) => setAgent(e.target.value as ConversationAgent)}
        >
          {AGENTS.map((a) => (
            <option key={a}>{a}</option>
          ))}
        </select>
      </label>
      <label>
        Title (optional)
        <input
          data-testid={ids.newTitle}
          value={title}
          onChange={(e) => setTitle(e.target.value)}
        />
      </label>
      <label>
        Repository (optional)
        <select value={repo} onChange={(e) => setRepo(e.target.value)}>
          <option value="">none (a fresh directory)</option>
          {repos.map((r) => (
            <option key={r.id} value={r.id}>
              {r.name}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" className="primary" disabled={busy} data-testid={ids.newSubmit}>
        {busy ? 'Starting…' : 'Start'}
      </button>
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
    </form>
  );
}
