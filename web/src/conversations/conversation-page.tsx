import { useEffect, useState, type FormEvent, type KeyboardEvent } from 'react';
import { testIds } from '../../../src/contracts/test-ids.ts';
import type { ConversationMessage } from '../../../src/contracts/index.js';
import { api, errorText } from '../data/api.ts';
import { useLiveEvents } from '../data/live.ts';
import { useResource } from '../data/use-resource.ts';
import { LoadState } from '../pages-lib/bits.tsx';
import { Link } from '../router.tsx';
import type { PageProps } from '../routes.ts';
import { formatTime } from '../runs/format.ts';
import { StatusBadge } from '../runs/status-badge.tsx';
import '../pages-lib/pages.css';

const ids = testIds.conversation;

/**
 * `/conversations/:id`: the chat: prompts and answers in order, each linked to the run that
 * answered it. Sending a message starts a run; the live feed says when it moves and ends (the
 * answer is stored before the end is announced).
 */
export default function ConversationPage({ params }: PageProps) {
  const id = params.id ?? '';
  const conv = useResource(`conversation:${id}`, () => api.getConversation(id));
  const messages = conv.data?.messages ?? [];
  const [sent, setSent] = useState<string | null>(null);
  useLiveEvents((e) => {
    if (e.run.conversationId === id) conv.reload();
  }, conv.reload);
  const answered = sent !== null && messages.some((m) => m.runId === sent && m.role !== 'user');
  useEffect(() => {
    if (answered) setSent(null);
  }, [answered]);
  return (
    <section data-testid={ids.page} className="conv-page">
      <p className="muted">
        <Link to="/conversations">Conversations</Link>
      </p>
      <h1>{conv.data?.title ?? id}</h1>
      <LoadState loading={conv.loading && !conv.data} error={conv.error} />
      {conv.data ? (
        <p className="muted">
          {conv.data.agent}
          {conv.data.model ? ` · ${conv.data.model}` : ''}
          {conv.data.repoId ? (
            <>
              {' · '}
              <Link to={`/repos/${encodeURIComponent(conv.data.repoId)}`}>repository</Link>
            </>
          ) : null}
          {conv.data.workspaceRunId ? (
            <>
              {' · '}
              <Link to={`/runs?conversation=${encodeURIComponent(id)}`}>all runs</Link>
            </>
          ) : null}
        </p>
      ) : null}
      <ol className="chat" aria-label="Messages">
        {messages.map((m) => (
          <Message key={m.seq} message={m} />
        ))}
      </ol>
      {conv.data && messages.length === 0 ? (
        <p className="muted">No messages yet: the first one starts the agent’s session.</p>
      ) : null}
      <Composer conversationId={id} onSent={(runId) => (setSent(runId), conv.reload())} />
    </section>
  );
}

function Message({ message }: { message: ConversationMessage }) {
  return (
    <li
      className={`chat-msg chat-${message.role}`}
      data-testid={ids.message}
      data-role={message.role}
    >
      <div className="chat-meta muted">
        {message.role === 'user' ? 'you' : message.role} · {formatTime(message.createdAt)}
        {message.runId ? (
          <>
            {' · '}
            <Link to={`/runs/${encodeURIComponent(message.runId)}`} data-testid={ids.messageRun}>
              run
            </Link>
          </>
        ) : null}
        {message.runStatus ? (
          <>
            {' '}
            <StatusBadge status={message.runStatus} />
          </>
        ) : null}
      </div>
      <div className="chat-body">{message.content}</div>
    </li>
  );
}

function Composer({
  conversationId,
  onSent,
}: {
  conversationId: string;
  onSent: (runId: string) => void;
}) {
  const [prompt, setPrompt] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const send = (): void => {
    if (!prompt.trim() || busy) return;
    setBusy(true);
    setError(undefined);
    api.postMessage(conversationId, { prompt }).then(
      (run) => {
        setBusy(false);
        setPrompt('');
        onSent(run.id);
      },
      (err: unknown) => {
        setBusy(false);
        setError(errorText(err));
      },
    );
  };
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    send();
  };
  // Ctrl/Cmd+Enter sends, as in most chat boxes; Enter alone is a new line.
  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>): void => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      send();
    }
  };
  return (
    <form className="composer" onSubmit={submit}>
      <label htmlFor="conv-prompt" className="visually-hidden">
        Message
      </label>
      <textarea
        id="conv-prompt"
        data-testid={ids.prompt}
        rows={3}
        value={prompt}
        placeholder="Message (Ctrl+Enter sends)"
        onChange={(e) => setPrompt(e.target.value)}
        onKeyDown={onKey}
      />
      <button
        type="submit"
        className="primary"
        disabled={busy || !prompt.trim()}
        data-testid={ids.send}
      >
        {busy ? 'Sending…' : 'Send'}
      </button>
      {error ? (
        <p role="alert" className="error" data-testid={ids.error}>
          {error}
        </p>
      ) : null}
    </form>
  );
}
