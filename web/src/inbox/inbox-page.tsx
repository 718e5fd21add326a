/**
 * `/inbox`: the tasks of a horizon (`?horizon=today|week|month|past7d`), the top three first,
 * then the rest, each with its sources, people, due date and score breakdown. Triage by
 * keyboard on the selected task (`?task=`): j/k move, a accept, s snooze, m duplicate,
 * x decline (asks first), c complete, r run, h then t/w/m move it to today/this week/this
 * month (p: back to the proposed horizon), u undo the last action.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Horizon, InboxTask, TaskListItem } from '../../../src/contracts/index.js';
import { testIds } from '../../../src/contracts/test-ids.ts';
import { errorText } from '../data/api.ts';
import { useResource } from '../data/use-resource.ts';
import { LoadState } from '../pages-lib/bits.tsx';
import { Link, useQueryParam, withQuery } from '../router.tsx';
import { inboxApi, LANE_LABEL, LANES, type Lane, type TriageCall } from './inbox-api.ts';
import { TaskCard } from './task-card.tsx';
import { TriageDialog, type Asking, type DialogAnswer } from './triage-dialog.tsx';
import '../pages-lib/pages.css';
import './inbox.css';

const ids = testIds.inbox;

type Key = 'j' | 'k' | 'a' | 's' | 'm' | 'x' | 'c' | 'r' | 'h' | 'u';
const SHORTCUTS: ReadonlyArray<{ key: Key; label: string; action?: Action }> = [
  { key: 'j', label: 'next task' },
  { key: 'k', label: 'previous task' },
  { key: 'a', label: 'accept', action: 'accept' },
  { key: 's', label: 'snooze until…', action: 'snooze' },
  { key: 'm', label: 'mark duplicate of…', action: 'duplicate' },
  { key: 'x', label: 'decline (asks first)', action: 'decline' },
  { key: 'c', label: 'complete', action: 'complete' },
  { key: 'r', label: 'start a run…', action: 'run' },
  { key: 'h', label: 'move to… (then t today, w week, m month, p proposed)', action: 'horizon' },
  { key: 'u', label: 'undo the last action', action: 'undo' },
];
type Action =
  'accept' | 'snooze' | 'duplicate' | 'decline' | 'complete' | 'run' | 'horizon' | 'undo';
/** The second key after `h`: where the task goes (`p`: back to what its signals propose). */
const HORIZON_KEYS: ReadonlyArray<{ key: string; horizon: Horizon | null }> = [
  { key: 't', horizon: 'today' },
  { key: 'w', horizon: 'week' },
  { key: 'm', horizon: 'month' },
  { key: 'p', horizon: null },
];
const ASKS: Partial<Record<Action, Asking>> = {
  snooze: 'snooze',
  duplicate: 'duplicate',
  decline: 'decline',
  run: 'run',
};
const DONE_TEXT: Record<string, string> = {
  accept: 'Accepted',
  snooze: 'Snoozed',
  duplicate: 'Marked as a duplicate',
  decline: 'Declined',
  complete: 'Completed',
  undo: 'Undid the last action on',
};
const movedText = (title: string, horizon: Horizon | null): string =>
  horizon
    ? `Moved “${title}” to ${LANE_LABEL[horizon]}.`
    : `Moved “${title}” back to its proposed horizon.`;

const typing = (target: EventTarget | null): boolean =>
  target instanceof HTMLElement &&
  (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));

const isLane = (v: string): v is Lane => (LANES as readonly string[]).includes(v);

export default function InboxPage() {
  const [horizonParam] = useQueryParam('horizon');
  const [kind, setKind] = useQueryParam('kind');
  const [selectedId, setSelected] = useQueryParam('task');
  const horizon: Lane = isLane(horizonParam) ? horizonParam : 'today';
  const list = useResource(
    `inbox:${horizon}`,
    async () => (await inboxApi.listTasks(horizon)).tasks,
  );
  const tasks = (list.data ?? []).filter((t) => !kind || t.kind === kind);
  const index = Math.max(
    0,
    tasks.findIndex((t) => t.id === selectedId),
  );
  const selected = tasks[index];
  const lastIndex = useRef(0);
  // A task that left the list (completed, declined…): keep the cursor where it was.
  useEffect(() => {
    if (!list.data || list.loading) return;
    if (selectedId && tasks.some((t) => t.id === selectedId)) {
      lastIndex.current = index;
      return;
    }
    const next = tasks[Math.min(lastIndex.current, tasks.length - 1)];
    if (next && next.id !== selectedId) setSelected(next.id);
  });

  const [asking, setAsking] = useState<Asking>();
  const [lastActed, setLastActed] = useState<InboxTask>();
  const [status, setStatus] = useState<{ text: string; runId?: string }>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  /** `h` was pressed: the next key (t/w/m/p) says where the selected task goes. */
  const [movingId, setMovingId] = useState<string>();

  const perform = useCallback(
    async (task: InboxTask, change: TriageCall | DialogAnswer): Promise<void> => {
      setBusy(true);
      setError(undefined);
      try {
        if (change.action === 'run') {
          const run = await inboxApi.runTask(task.id, change.body);
          setStatus({ text: `Started run ${run.id} from “${task.title}”.`, runId: run.id });
        } else {
          await inboxApi.triage(task.id, change);
          if (change.action !== 'undo') setLastActed(task);
          setStatus({
            text:
              change.action === 'horizon'
                ? movedText(task.title, change.horizon)
                : `${DONE_TEXT[change.action]} “${task.title}”.`,
          });
        }
        list.reload();
      } catch (err) {
        setError(errorText(err));
      } finally {
        setBusy(false);
      }
    },
    [list],
  );

  const request = (action: Action, task: InboxTask | undefined = selected): void => {
    if (busy) return;
    if (action === 'undo') {
      const target = lastActed ?? task;
      if (target) void perform(target, { action: 'undo' });
      return;
    }
    if (!task) return;
    if (task.id !== selected?.id) setSelected(task.id);
    if (action === 'horizon') {
      setMovingId(task.id);
      return;
    }
    const asks = ASKS[action];
    if (asks) setAsking(asks);
    else void perform(task, { action } as TriageCall);
  };
  const requestRef = useRef(request);
  requestRef.current = request;
  const moving = tasks.find((t) => t.id === movingId);
  const moveTo = (horizon: Horizon | null): void => {
    setMovingId(undefined);
    if (moving && !busy) void perform(moving, { action: 'horizon', horizon });
  };
  const movingRef = useRef({ active: false, moveTo, cancel: () => setMovingId(undefined) });
  movingRef.current = {
    active: moving !== undefined,
    moveTo,
    cancel: () => setMovingId(undefined),
  };
  const move = useRef<(step: number) => void>(() => undefined);
  move.current = (step: number) => {
    const next = tasks[Math.min(tasks.length - 1, Math.max(0, index + step))];
    if (!next) return;
    setSelected(next.id);
    document.querySelector<HTMLElement>(`[data-task-id="${next.id}"]`)?.focus();
  };

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
      if (document.querySelector('dialog[open]')) return;
      if (movingRef.current.active) {
        // The second key of `h`: a horizon, or anything else (Escape) cancels.
        e.preventDefault();
        const choice = HORIZON_KEYS.find((k) => k.key === e.key);
        if (choice) movingRef.current.moveTo(choice.horizon);
        else movingRef.current.cancel();
        return;
      }
      const shortcut = SHORTCUTS.find((s) => s.key === e.key);
      if (!shortcut) return;
      e.preventDefault();
      if (shortcut.key === 'j') move.current(1);
      else if (shortcut.key === 'k') move.current(-1);
      else if (shortcut.action) requestRef.current(shortcut.action);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const actionsFor = (task: InboxTask) => (
    <>
      {SHORTCUTS.filter((s) => s.action && s.action !== 'undo').map((s) => (
        <button
          key={s.key}
          type="button"
          className={s.action === 'decline' ? 'danger' : ''}
          disabled={busy}
          aria-keyshortcuts={s.key}
          data-testid={ids.action}
          data-action={s.action}
          onClick={() => request(s.action!, task)}
        >
          {s.label.replace(/ \(asks first\)|…/g, '')} <kbd>{s.key}</kbd>
        </button>
      ))}
    </>
  );
  const card = (t: TaskListItem, i: number) => (
    <TaskCard
      key={t.id}
      task={t}
      sources={t.sources ?? []}
      rank={i + 1}
      selected={t.id === selected?.id}
      onSelect={() => setSelected(t.id)}
      actions={actionsFor(t)}
    />
  );

  return (
    <section data-testid={ids.page}>
      <h1>Inbox</h1>
      <nav className="tabs" aria-label="Horizon">
        {LANES.map((lane) => (
          <Link
            key={lane}
            to={withQuery('/inbox', { horizon: lane, kind: kind || null })}
            aria-current={lane === horizon ? 'page' : undefined}
            data-testid={ids.horizonTab}
            data-lane={lane}
          >
            {LANE_LABEL[lane]}
          </Link>
        ))}
        <Link to={withQuery('/inbox/graph', { kind: kind || null })}>Graph</Link>
      </nav>
      <div className="filters">
        <label className="field">
          Source
          <select
            value={kind}
            data-testid={ids.kindFilter}
            onChange={(e) => setKind(e.target.value || null)}
          >
            <option value="">all sources</option>
            {['gmail', 'jira', 'github', 'drive'].map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        </label>
        <button type="button" disabled={busy} onClick={() => request('undo')}>
          Undo last action <kbd>u</kbd>
        </button>
      </div>
      <p role="status" className="ib-status" data-testid={ids.status}>
        {status?.text}
        {status?.runId ? (
          <>
            {' '}
            <Link to={`/runs/${status.runId}`}>Open the run</Link>
          </>
        ) : null}
      </p>
      {moving ? (
        <div
          role="group"
          aria-label={`Move “${moving.title}” to`}
          className="ib-horizon-picker"
          data-testid={ids.horizonPicker}
        >
          Move to:{' '}
          {HORIZON_KEYS.map((k) => (
            <button
              key={k.key}
              type="button"
              disabled={busy}
              aria-keyshortcuts={k.key}
              data-horizon={k.horizon ?? 'proposed'}
              onClick={() => moveTo(k.horizon)}
            >
              {k.horizon ? LANE_LABEL[k.horizon] : 'proposed'} <kbd>{k.key}</kbd>
            </button>
          ))}
          <button type="button" onClick={() => setMovingId(undefined)}>
            Cancel <kbd>Esc</kbd>
          </button>
        </div>
      ) : null}
      {error ? (
        <p role="alert" className="error" data-testid={ids.error}>
          {error}
        </p>
      ) : null}
      <LoadState loading={list.loading && !list.data} error={list.error} />
      <div className="ib-layout">
        <div>
          <h2 id="ib-top">Top three</h2>
          <ol className="ib-list" aria-labelledby="ib-top" data-testid={ids.top}>
            {tasks.slice(0, 3).map(card)}
          </ol>
          {list.data && tasks.length === 0 ? (
            <p className="muted" data-testid={ids.empty}>
              Nothing here.
            </p>
          ) : null}
          {tasks.length > 3 ? (
            <>
              <h2 id="ib-rest">The rest</h2>
              <ol className="ib-list" start={4} aria-labelledby="ib-rest" data-testid={ids.rest}>
                {tasks.slice(3).map((t, i) => card(t, i + 3))}
              </ol>
            </>
          ) : null}
        </div>
        <aside className="ib-keys" aria-labelledby="ib-keys-title" data-testid={ids.shortcuts}>
          <h2 id="ib-keys-title">Keyboard</h2>
          <dl>
            {SHORTCUTS.map((s) => (
              <div key={s.key}>
                <dt>
                  <kbd>{s.key}</kbd>
                </dt>
                <dd>{s.label}</dd>
              </div>
            ))}
          </dl>
        </aside>
      </div>
      <TriageDialog
        asking={asking}
        task={selected}
        candidates={list.data ?? []}
        onCancel={() => setAsking(undefined)}
        onAnswer={(answer) => {
          setAsking(undefined);
          if (selected) void perform(selected, answer);
        }}
      />
    </section>
  );
}
