/**
 * `/connectors`: Gmail, Jira Cloud, GitHub and Google Drive with their status and what to do
 * about an error (reconnect, grant a missing scope, wait out a rate limit); connect (opens the
 * provider's authorize URL), a GitHub token, test, sync now, disconnect (asks first), and
 * "test all" with each connector's steps appearing as they happen (`?kind=` selects one).
 */
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import type { InboxConnector, InboxConnectorKind } from '../../../src/contracts/index.js';
import { testIds } from '../../../src/contracts/test-ids.ts';
import { errorText } from '../data/api.ts';
import { useResource } from '../data/use-resource.ts';
import { ago, LoadState, until } from '../pages-lib/bits.tsx';
import { usePoll } from '../pages-lib/use-poll.ts';
import { useQueryParam } from '../router.tsx';
import { formatTime } from '../runs/format.ts';
import { inboxApi, type TestStep } from './inbox-api.ts';
import { useTestAll } from './test-all.ts';
import '../pages-lib/pages.css';
import './inbox.css';

const ids = testIds.connectors;

const NAMES: Record<InboxConnectorKind, string> = {
  gmail: 'Gmail',
  jira: 'Jira Cloud',
  github: 'GitHub',
  drive: 'Google Drive',
};

const STATUS_CLASS = { connected: 'ok', error: 'bad', disconnected: '' } as const;

/** What the user can do about a connector's error. */
function remedy(c: InboxConnector, now: number): string | null {
  const limited = c.blockedUntil ?? /rate limited until (\S+)/.exec(c.message ?? '')?.[1];
  if (limited && Date.parse(limited) > now) {
    return `Rate limited: nothing is sent to ${NAMES[c.kind]} before ${formatTime(limited)} (${until(limited)}); the next sync waits for it.`;
  }
  const m = c.message ?? '';
  if (/missing (the )?scope/i.test(m)) return 'Reconnect and grant the missing scope.';
  if (/reconnect|revoked|expired|unreadable|invalid/i.test(m)) return 'Reconnect to sign in again.';
  return null;
}

export default function ConnectorsPage() {
  const [selected, setSelected] = useQueryParam('kind');
  const list = useResource('connectors', () => inboxApi.connectors());
  const [waiting, setWaiting] = useState<InboxConnectorKind>();
  const [testAll, startTestAll] = useTestAll(list.reload);
  const [confirming, setConfirming] = useState<InboxConnectorKind>();
  const dialog = useRef<HTMLDialogElement>(null);
  // After "connect", the sign-in happens in another tab: watch for the status to change.
  usePoll(waiting !== undefined, 1500, list.reload);
  const waitedFor = list.data?.connectors.find((c) => c.kind === waiting);
  useEffect(() => {
    if (waitedFor?.status === 'connected') setWaiting(undefined);
  }, [waitedFor?.status]);
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (confirming && !d.open) d.showModal();
    if (!confirming && d.open) d.close();
  }, [confirming]);

  return (
    <section data-testid={ids.page}>
      <h1>Connectors</h1>
      <p className="muted">
        Where the inbox’s tasks come from. Tokens are sealed at rest and never shown.
      </p>
      <LoadState loading={list.loading && !list.data} error={list.error} />
      <ul className="ib-connectors">
        {list.data?.connectors.map((c) => (
          <ConnectorCard
            key={c.kind}
            connector={c}
            selected={c.kind === selected}
            onSelect={() => setSelected(c.kind)}
            onChanged={list.reload}
            onConnecting={() => setWaiting(c.kind)}
            onDisconnect={() => setConfirming(c.kind)}
          />
        ))}
      </ul>
      <section className="ib-test-all" aria-labelledby="ib-test-all-title">
        <h2 id="ib-test-all-title">Test all</h2>
        <p className="muted">
          Each connected connector: auth, scopes, one call, the cursor. Steps appear as they run.
        </p>
        <button
          type="button"
          className="primary"
          disabled={testAll.phase === 'running'}
          data-testid={ids.testAll}
          onClick={startTestAll}
        >
          Test all
        </button>
        <p role="status" data-testid={ids.testAllState} data-phase={testAll.phase}>
          {testAll.phase === 'running' ? `Testing… ${testAll.steps.length} steps so far` : null}
          {testAll.phase === 'done'
            ? `Done: ${testAll.connectors ?? 0} connectors tested, ${testAll.results.filter((r) => r.ok).length} passed.`
            : null}
          {testAll.phase === 'failed' ? `Test all failed: ${testAll.error}` : null}
        </p>
        {testAll.steps.length > 0 ? (
          <ol aria-label="Test steps">
            {testAll.steps.map((s, i) => (
              <StepItem key={i} step={s} showKind />
            ))}
          </ol>
        ) : null}
      </section>
      <dialog
        ref={dialog}
        aria-labelledby="ib-disconnect-title"
        onClose={() => setConfirming(undefined)}
      >
        <p id="ib-disconnect-title">
          Disconnect {confirming ? NAMES[confirming] : ''}? Its credentials and cursor are deleted;
          its tasks stay.
        </p>
        <form method="dialog" className="toolbar">
          <button type="submit" value="no" autoFocus>
            Keep it
          </button>
          <button
            type="button"
            className="danger"
            data-testid={ids.confirmYes}
            onClick={() => {
              const kind = confirming;
              setConfirming(undefined);
              if (kind) void inboxApi.disconnect(kind).then(list.reload, list.reload);
            }}
          >
            Disconnect
          </button>
        </form>
      </dialog>
    </section>
  );
}

function StepItem({ step, showKind }: { step: TestStep; showKind?: boolean }) {
  return (
    <li data-testid={ids.step} data-kind={step.kind} data-step={step.step} data-ok={step.ok}>
      <span className={step.ok ? 'ib-ok' : 'ib-fail'}>{step.ok ? '✓ passed' : '✗ failed'}</span>{' '}
      {showKind ? `${NAMES[step.kind]} · ` : ''}
      <strong>{step.step}</strong>: {step.detail}
    </li>
  );
}

function ConnectorCard({
  connector: c,
  selected,
  onSelect,
  onChanged,
  onConnecting,
  onDisconnect,
}: {
  connector: InboxConnector;
  selected: boolean;
  onSelect: () => void;
  onChanged: () => void;
  onConnecting: () => void;
  onDisconnect: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ text?: string; steps?: TestStep[]; error?: string }>();
  const [authorizeUrl, setAuthorizeUrl] = useState<string>();
  const [token, setToken] = useState('');
  const act = useCallback(
    async (work: () => Promise<{ text?: string; steps?: TestStep[] } | void>) => {
      setBusy(true);
      setResult(undefined);
      onSelect();
      try {
        setResult((await work()) ?? undefined);
      } catch (err) {
        setResult({ error: errorText(err) });
      } finally {
        setBusy(false);
        onChanged();
      }
    },
    [onChanged, onSelect],
  );
  const connect = (): void =>
    void act(async () => {
      const { authorizeUrl: url } = await inboxApi.connect(c.kind);
      setAuthorizeUrl(url);
      onConnecting();
      window.open(url, '_blank', 'noopener');
      return { text: `Sign in at ${NAMES[c.kind]} in the new tab; this page updates when done.` };
    });
  const submitToken = (e: FormEvent): void => {
    e.preventDefault();
    void act(async () => {
      await inboxApi.connectToken(c.kind, token);
      setToken('');
      return { text: 'Connected with the token; a sync follows.' };
    });
  };
  const hint = remedy(c, Date.now());
  const titleId = `connector-${c.kind}`;
  return (
    <li
      className="ib-connector"
      data-testid={ids.row}
      data-kind={c.kind}
      aria-current={selected || undefined}
      aria-labelledby={titleId}
    >
      <h2 id={titleId}>
        {NAMES[c.kind]}
        <span className={`badge ${STATUS_CLASS[c.status]}`} data-testid={ids.status}>
          {c.status}
        </span>
      </h2>
      {c.message ? (
        <p className={c.status === 'error' ? 'error' : 'muted'} data-testid={ids.message}>
          {c.message}
        </p>
      ) : null}
      {hint ? <p>{hint}</p> : null}
      {!c.configured ? (
        <p className="muted">
          No OAuth app configured (PATCHBAY_INBOX_APPS)
          {c.kind === 'github' ? '; a token works' : ''}.
        </p>
      ) : null}
      <p className="muted">
        Last sync {c.lastSyncAt ? ago(c.lastSyncAt) : 'never'}
        {c.nextSyncAt ? ` · next ${until(c.nextSyncAt)}` : ''}
      </p>
      <div className="ib-actions">
        <button
          type="button"
          className={c.status === 'connected' ? '' : 'primary'}
          disabled={busy || !c.configured}
          data-testid={ids.connect}
          onClick={connect}
        >
          {c.status === 'disconnected' ? 'Connect' : 'Reconnect'}
        </button>
        <button
          type="button"
          disabled={busy || c.status === 'disconnected'}
          data-testid={ids.test}
          onClick={() =>
            void act(async () => {
              const r = await inboxApi.test(c.kind);
              return { text: r.ok ? 'All steps passed.' : 'A step failed.', steps: r.steps };
            })
          }
        >
          Test
        </button>
        <button
          type="button"
          disabled={busy || c.status === 'disconnected'}
          data-testid={ids.sync}
          onClick={() =>
            void act(async () => {
              const r = await inboxApi.sync(c.kind);
              return {
                text: r
                  ? `Synced ${r.items} items: ${r.created} new, ${r.updated} updated, ${r.merged} merged.`
                  : 'No sync now (not connected, or rate limited).',
              };
            })
          }
        >
          Sync now
        </button>
        <button
          type="button"
          className="danger"
          disabled={busy || c.status === 'disconnected'}
          data-testid={ids.disconnect}
          onClick={onDisconnect}
        >
          Disconnect
        </button>
      </div>
      {c.kind === 'github' ? (
        <details>
          <summary>Use a token instead</summary>
          <form className="inline-form" onSubmit={submitToken}>
            <label className="field">
              Personal access token (read-only)
              <input
                type="password"
                autoComplete="off"
                required
                value={token}
                data-testid={ids.token}
                onChange={(e) => setToken(e.target.value)}
              />
            </label>
            <button type="submit" disabled={busy} data-testid={ids.tokenSubmit}>
              Connect with token
            </button>
          </form>
        </details>
      ) : null}
      <div role="status" data-testid={ids.result}>
        {result?.text ? <p>{result.text}</p> : null}
        {authorizeUrl && c.status !== 'connected' ? (
          <p>
            <a href={authorizeUrl} target="_blank" rel="noreferrer" data-testid={ids.authorizeLink}>
              Open the {NAMES[c.kind]} sign-in page
            </a>
          </p>
        ) : null}
        {result?.steps ? (
          <ul className="ib-steps">
            {result.steps.map((s, i) => (
              <StepItem key={i} step={s} />
            ))}
          </ul>
        ) : null}
      </div>
      {result?.error ? (
        <p role="alert" className="error" data-testid={ids.error}>
          {result.error}
        </p>
      ) : null}
    </li>
  );
}
