/**
 * One task of the inbox: title, source links, people, due date, the model's summary and labels
 * (the optional LLM pass, marked as the model's), the linked run, and the score's breakdown (each stored input with its points) shown as a small table, readable
 * without hovering.
 */
import type { ReactNode } from 'react';
import type { InboxTask, ScoreInputs, TaskSource } from '../../../src/contracts/index.js';
import { testIds } from '../../../src/contracts/test-ids.ts';
import { Link } from '../router.tsx';
import { formatTime } from '../runs/format.ts';

const ids = testIds.inbox;

const SIGNALS: ReadonlyArray<{
  key: string;
  label: string;
  value: (i: ScoreInputs) => string;
}> = [
  {
    key: 'due',
    label: 'Due',
    value: (i) =>
      i.dueInDays === null
        ? 'no due date'
        : i.dueInDays < 0
          ? `overdue by ${days(-i.dueInDays)}`
          : `in ${days(i.dueInDays)}`,
  },
  { key: 'priority', label: 'Explicit priority', value: (i) => i.priority ?? 'none' },
  { key: 'asksUser', label: 'Direct ask', value: (i) => (i.asksUser ? 'asks you' : 'no') },
  {
    key: 'waitingOnUser',
    label: 'Waiting on me',
    value: (i) => (i.waitingOnUser ? 'yes' : 'no'),
  },
  {
    key: 'senderAffinity',
    label: 'Sender affinity',
    value: (i) => `${i.sender ?? 'unknown sender'} · weight ${i.senderAffinity}`,
  },
  { key: 'recency', label: 'Recency', value: (i) => `changed ${days(i.ageDays)} ago` },
  {
    key: 'blocks',
    label: 'Blocks',
    value: (i) => `${i.blocks} task${i.blocks === 1 ? '' : 's'} point here`,
  },
  { key: 'source', label: 'Source', value: (i) => `${i.source} · prior ${i.sourcePrior}` },
];

function days(d: number): string {
  if (d < 1) return `${Math.round(d * 24)} h`;
  return `${Math.round(d * 10) / 10} d`;
}

const signed = (n: number): string => (n > 0 ? `+${n}` : n < 0 ? `−${-n}` : '0');

export function ScoreBreakdown({ task }: { task: InboxTask }) {
  const points = task.scoreInputs.points;
  const max = Math.max(40, ...Object.values(points).map(Math.abs));
  return (
    <table className="ib-breakdown" data-testid={ids.breakdown}>
      <caption className="visually-hidden">Score breakdown of {task.title}</caption>
      <tbody>
        {SIGNALS.map((s) => {
          const p = points[s.key] ?? 0;
          return (
            <tr key={s.key} data-signal={s.key} className={p === 0 ? 'ib-zero' : undefined}>
              <th scope="row">{s.label}</th>
              <td className="ib-value">{s.value(task.scoreInputs)}</td>
              <td className="ib-points mono">{signed(p)}</td>
              <td className="ib-bar-cell" aria-hidden="true">
                <span
                  className={p < 0 ? 'ib-bar ib-neg' : 'ib-bar'}
                  style={{ width: `${(Math.abs(p) / max) * 100}%` }}
                />
              </td>
            </tr>
          );
        })}
      </tbody>
      <tfoot>
        <tr>
          <th scope="row">Score</th>
          <td />
          <td className="ib-points mono" data-testid={ids.score}>
            {task.score}
          </td>
          <td />
        </tr>
      </tfoot>
    </table>
  );
}

const STATE_CLASS: Record<string, string> = {
  todo: '',
  accepted: 'ok',
  snoozed: 'warn',
  duplicate: 'warn',
  declined: 'bad',
  done: 'ok',
};

export interface TaskCardProps {
  task: InboxTask;
  /** Its source links (the list's `include=sources`). */
  sources: readonly TaskSource[];
  rank: number;
  selected: boolean;
  onSelect: () => void;
  /** The action buttons (the page owns what they do). */
  actions: ReactNode;
}

export function TaskCard({ task, sources, rank, selected, onSelect, actions }: TaskCardProps) {
  const titleId = `task-${task.id}-title`;
  const people = task.people.filter((p) => !p.isUser);
  return (
    <li
      className="ib-task"
      data-testid={ids.task}
      data-task-id={task.id}
      data-state={task.state}
      aria-current={selected || undefined}
      aria-labelledby={titleId}
      tabIndex={-1}
      onClick={(e) => {
        if (!(e.target as HTMLElement).closest('a, button')) onSelect();
      }}
    >
      <div className="ib-head">
        <span className="ib-rank muted">{rank}.</span>
        <h3 id={titleId} className="ib-title" data-testid={ids.title}>
          {task.title}
        </h3>
        <span className="badge">{task.kind}</span>
        <span className={`badge ${STATE_CLASS[task.state] ?? ''}`} data-testid={ids.state}>
          {task.state}
          {task.state === 'snoozed' && task.snoozedUntil
            ? ` until ${formatTime(task.snoozedUntil)}`
            : ''}
        </span>
        <span className="ib-score" title="score">
          score <strong>{task.score}</strong>
        </span>
      </div>
      <p className="ib-meta muted">
        {task.dueAt ? <>due {formatTime(task.dueAt)}</> : 'no due date'}
        {people.length > 0 ? (
          <>
            {' · '}
            {people.map((p) => `${p.name ?? p.email ?? p.handle ?? '?'} (${p.role})`).join(', ')}
          </>
        ) : null}
        {task.labels.length > 0 ? <> · {task.labels.join(', ')}</> : null}
        {task.horizonOverride ? <> · horizon set to {task.horizonOverride}</> : null}
      </p>
      {task.snippet ? <p className="ib-snippet">{task.snippet}</p> : null}
      {task.aiSummary ? (
        <p className="ib-ai" data-testid={ids.aiSuggestion} title={`suggested by ${task.aiModel}`}>
          <span className="badge">model</span> {task.aiSummary}
          {task.aiLabels.length > 0 ? (
            <span className="muted"> · {task.aiLabels.join(', ')}</span>
          ) : null}
        </p>
      ) : null}
      <ul className="ib-sources" data-testid={ids.sources} aria-label="Sources">
        {sources.length === 0 && task.url ? (
          <li>
            <a href={task.url} target="_blank" rel="noreferrer">
              {task.kind}: {task.sourceRef}
            </a>
          </li>
        ) : null}
        {sources.map((s) => (
          <li key={`${s.kind}:${s.ref}`} className={s.removed ? 'muted' : undefined}>
            {s.url ? (
              <a href={s.url} target="_blank" rel="noreferrer">
                {s.kind}: {s.title}
              </a>
            ) : (
              <span>
                {s.kind}: {s.title} <span className="muted">(no link)</span>
              </span>
            )}
            {s.removed ? ' (removed at the source)' : ''}
          </li>
        ))}
      </ul>
      {task.suggestedDuplicateOf ? (
        <p className="muted">
          Maybe a duplicate of <code>{task.suggestedDuplicateOf}</code> (similarity{' '}
          {task.suggestedSimilarity?.toFixed(2)})
        </p>
      ) : null}
      {task.runId || task.prUrl ? (
        <p className="ib-run">
          {task.runId ? (
            <>
              Linked run{' '}
              <Link to={`/runs/${task.runId}`} data-testid={ids.runLink}>
                {task.runId}
              </Link>
            </>
          ) : null}
          {task.prUrl ? (
            <>
              {' · '}
              <a href={task.prUrl} target="_blank" rel="noreferrer">
                pull request
              </a>
            </>
          ) : null}
        </p>
      ) : null}
      <ScoreBreakdown task={task} />
      <div className="ib-actions">{actions}</div>
    </li>
  );
}
