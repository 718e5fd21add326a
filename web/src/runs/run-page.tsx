/**
 * One run: header, controls, the stream's state, and tabs (`?tab=`) for the live log, the
 * events and the diff (its own chunk). Conversations get a follow-up box.
 */
import { lazy, Suspense, useCallback, useEffect, useState } from 'react';
import type { Run, RunEvent } from '../../../src/contracts/index.js';
import { testIds } from '../../../src/contracts/test-ids.ts';
import { api } from '../data/api.ts';
import { useResource } from '../data/use-resource.ts';
import type { PageProps } from '../routes.ts';
import { Link, useLocation, useQueryParam, withQuery } from '../router.tsx';
import { EventsView } from './events-view.tsx';
import { FollowUp } from './follow-up.tsx';
import { formatDuration, formatTime, isTerminal, runTitle } from './format.ts';
import { LogView } from './log-view.tsx';
import { notifyEnabled, notifyRun, notifySupported, setNotify } from './notify.ts';
import { RunControls } from './run-controls.tsx';
import { StatusBadge } from './status-badge.tsx';
import { useRunStream, type RunStream } from './use-run-stream.ts';

const DiffView = lazy(() => import('./diff-view.tsx'));

const TABS = [
  { id: 'log', label: 'Log' },
  { id: 'events', label: 'Events' },
  { id: 'diff', label: 'Diff' },
] as const;

export default function RunPage({ params }: PageProps) {
  const id = params.id ?? '';
  const loaded = useResource(id, () => api.getRun(id));
  const [run, setRun] = useState<Run | undefined>();
  useEffect(() => setRun(loaded.data), [loaded.data]);

  const onEvents = useCallback(
    (batch: RunEvent[]) => {
      const status = batch.filter((e) => e.type === 'status').at(-1);
      if (!status) return;
      // The status event says what changed; the run itself has the rest (exit code, times).
      void api.getRun(id).then(setRun, () => undefined);
      const s = String(status.data.status);
      if (s === 'paused' || isTerminal(s as Run['status'])) notifyRun(`Run ${s}`, id, `${id}:${s}`);
    },
    [id],
  );
  const stream = useRunStream(id, onEvents);

  if (loaded.error) {
    return (
      <p role="alert" className="error">
        {loaded.error}
      </p>
    );
  }
  if (!run) return <p aria-busy="true">Loading…</p>;
  return <RunView run={run} stream={stream} onChanged={setRun} />;
}

function RunView({
  run,
  stream,
  onChanged,
}: {
  run: Run;
  stream: RunStream;
  onChanged: (r: Run) => void;
}) {
  const location = useLocation();
  const [tabParam] = useQueryParam('tab');
  const tab = TABS.some((t) => t.id === tabParam) ? tabParam : 'log';
  const live = !isTerminal(run.status);
  return (
    <section data-testid={testIds.run.page} data-run-id={run.id}>
      <p className="crumbs">
        <Link to="/runs">Runs</Link> / <span className="mono">{run.id}</span>
      </p>
      <h1>{runTitle(run).slice(0, 200)}</h1>
      <div className="run-meta">
        <StatusBadge status={run.status} testId={testIds.run.status} />
        <span>{run.agent}</span>
        <span>created {formatTime(run.createdAt)}</span>
        <span>{formatDuration(run.durationMs)}</span>
        {run.exitCode != null && <span>exit {run.exitCode}</span>}
        {run.error && <span className="error">{run.error.message}</span>}
        <StreamState stream={stream} />
        <NotifyToggle />
      </div>
      <RunControls run={run} onChanged={onChanged} />
      <nav className="tabs" aria-label="Run views">
        {TABS.map((t) => (
          <Link
            key={t.id}
            to={withQuery(location.href, { tab: t.id === 'log' ? null : t.id })}
            aria-current={tab === t.id ? 'page' : undefined}
            data-testid={testIds.run.tab}
            data-tab={t.id}
          >
            {t.label}
          </Link>
        ))}
      </nav>
      {tab === 'log' && (
        <LogView runId={run.id} store={stream.store} version={stream.version} live={live} />
      )}
      {tab === 'events' && <EventsView store={stream.store} version={stream.version} />}
      {tab === 'diff' && (
        <Suspense fallback={<p aria-busy="true">Loading…</p>}>
          <DiffView runId={run.id} />
        </Suspense>
      )}
      {run.conversationId && (
        <FollowUp conversationId={run.conversationId} disabled={!isTerminal(run.status)} />
      )}
    </section>
  );
}

const STATE_TEXT: Record<RunStream['state'], string> = {
  loading: 'loading history',
  connecting: 'connecting',
  live: 'live',
  reconnecting: 'reconnecting',
  ended: 'complete',
  error: 'stream failed',
};

function StreamState({ stream }: { stream: RunStream }) {
  const text =
    stream.state === 'reconnecting'
      ? `reconnecting (attempt ${stream.attempt})`
      : STATE_TEXT[stream.state];
  return (
    <span
      className={`stream stream-${stream.state}`}
      data-testid={testIds.app.streamState}
      data-state={stream.state}
      role="status"
      title={stream.error}
    >
      ● {text}
    </span>
  );
}

function NotifyToggle() {
  const [on, setOn] = useState(notifyEnabled);
  if (!notifySupported()) return null;
  return (
    <label className="check">
      <input
        type="checkbox"
        checked={on}
        onChange={(e) => void setNotify(e.target.checked).then(setOn)}
        data-testid={testIds.app.notifyToggle}
      />
      Notify when it ends or waits
    </label>
  );
}
