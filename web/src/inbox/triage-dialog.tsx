/**
 * The modal that asks before a triage action that needs more (snooze until, duplicate of,
 * start a run) or that is destructive (decline). Enter confirms; Escape cancels.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { InboxTask, Repo, TaskRunRequest } from '../../../src/contracts/index.js';
import { testIds } from '../../../src/contracts/test-ids.ts';
import { api } from '../data/api.ts';
import { useResource } from '../data/use-resource.ts';

const ids = testIds.inbox;

export type Asking = 'snooze' | 'duplicate' | 'decline' | 'run';

export type DialogAnswer =
  | { action: 'snooze'; until: string }
  | { action: 'duplicate'; of: string }
  | { action: 'decline' }
  | { action: 'run'; body: TaskRunRequest };

const AGENTS = ['claude', 'codex', 'cursor', 'gemini', 'llm'] as const;

/** Tomorrow 09:00 local, as a datetime-local value. */
function tomorrowMorning(): string {
  const d = new Date();
  d.setDate(d.getDate() + 1);
  d.setHours(9, 0, 0, 0);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T09:00`;
}

export function TriageDialog({
  asking,
  task,
  candidates,
  onAnswer,
  onCancel,
}: {
  asking: Asking | undefined;
  task: InboxTask | undefined;
  /** Tasks the current one could be a duplicate of. */
  candidates: readonly InboxTask[];
  onAnswer: (answer: DialogAnswer) => void;
  onCancel: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (asking && !d.open) d.showModal();
    if (!asking && d.open) d.close();
  }, [asking]);
  return (
    <dialog
      ref={dialog}
      className="ib-dialog"
      aria-labelledby="ib-dialog-title"
      data-testid={ids.dialog}
      onClose={onCancel}
    >
      {asking && task ? (
        <DialogBody
          key={`${asking}:${task.id}`}
          asking={asking}
          task={task}
          candidates={candidates.filter((c) => c.id !== task.id)}
          onAnswer={onAnswer}
          onCancel={() => dialog.current?.close()}
        />
      ) : null}
    </dialog>
  );
}

const TITLES: Record<Asking, string> = {
  snooze: 'Snooze until',
  duplicate: 'Mark as a duplicate of',
  decline: 'Decline this task?',
  run: 'Start a run from this task',
};

function DialogBody({
  asking,
  task,
  candidates,
  onAnswer,
  onCancel,
}: {
  asking: Asking;
  task: InboxTask;
  candidates: readonly InboxTask[];
  onAnswer: (answer: DialogAnswer) => void;
  onCancel: () => void;
}) {
  const [until, setUntil] = useState(tomorrowMorning);
  const [of, setOf] = useState(task.suggestedDuplicateOf ?? candidates[0]?.id ?? '');
  const [agent, setAgent] = useState<string>('claude');
  const [repo, setRepo] = useState('');
  const [instructions, setInstructions] = useState('');
  const [completeOnSuccess, setCompleteOnSuccess] = useState(false);
  const repos = useResource(asking === 'run' ? 'repos' : 'no-repos', () =>
    asking === 'run' ? api.listRepos() : Promise.resolve({ repos: [] as Repo[] }),
  );
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    if (asking === 'snooze') onAnswer({ action: 'snooze', until: new Date(until).toISOString() });
    else if (asking === 'duplicate') onAnswer({ action: 'duplicate', of });
    else if (asking === 'decline') onAnswer({ action: 'decline' });
    else {
      onAnswer({
        action: 'run',
        body: {
          agent,
          ...(repo ? { repo } : {}),
          ...(instructions.trim() ? { instructions: instructions.trim() } : {}),
          completeOnSuccess,
        },
      });
    }
  };
  return (
    <form className="ib-dialog-form" onSubmit={submit}>
      <h2 id="ib-dialog-title">{TITLES[asking]}</h2>
      <p className="muted">{task.title}</p>
      {asking === 'snooze' ? (
        <label>
          Back in the inbox at
          <input
            type="datetime-local"
            required
            autoFocus
            value={until}
            data-testid={ids.snoozeUntil}
            onChange={(e) => setUntil(e.target.value)}
          />
        </label>
      ) : null}
      {asking === 'duplicate' ? (
        <label>
          The task this one duplicates
          <select
            required
            autoFocus
            value={of}
            data-testid={ids.duplicateOf}
            onChange={(e) => setOf(e.target.value)}
          >
            {candidates.length === 0 ? <option value="">no other task here</option> : null}
            {candidates.map((c) => (
              <option key={c.id} value={c.id}>
                {c.title}
              </option>
            ))}
          </select>
        </label>
      ) : null}
      {asking === 'decline' ? <p>It leaves the inbox (undo brings it back).</p> : null}
      {asking === 'run' ? (
        <>
          <label>
            Agent
            <select
              autoFocus
              value={agent}
              data-testid={ids.runAgent}
              onChange={(e) => setAgent(e.target.value)}
            >
              {AGENTS.map((a) => (
                <option key={a}>{a}</option>
              ))}
            </select>
          </label>
          <label>
            Repository
            <select
              value={repo}
              data-testid={ids.runRepo}
              onChange={(e) => setRepo(e.target.value)}
            >
              <option value="">none (the server’s workspace)</option>
              {repos.data?.repos.map((r) => (
                <option key={r.id} value={r.id}>
                  {r.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Extra instructions
            <textarea
              rows={3}
              value={instructions}
              onChange={(e) => setInstructions(e.target.value)}
            />
          </label>
          <label className="check">
            <input
              type="checkbox"
              checked={completeOnSuccess}
              onChange={(e) => setCompleteOnSuccess(e.target.checked)}
            />
            Mark the task done when the run succeeds
          </label>
        </>
      ) : null}
      <div className="toolbar">
        <button
          type="submit"
          className={asking === 'decline' ? 'danger' : 'primary'}
          autoFocus={asking === 'decline'}
          disabled={asking === 'duplicate' && !of}
          data-testid={ids.dialogConfirm}
        >
          {asking === 'run' ? 'Start run' : asking === 'decline' ? 'Decline' : 'Confirm'}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
