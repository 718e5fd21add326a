import { useState, type FormEvent } from 'react';
import { testIds } from '../../../src/contracts/test-ids.ts';
import type { ScheduleWithFires } from '../../../src/contracts/index.js';
import { api, errorText } from '../data/api.ts';
import { useResource } from '../data/use-resource.ts';
import { LoadState } from '../pages-lib/bits.tsx';
import { Link } from '../router.tsx';
import { formatTime } from '../runs/format.ts';
import { StatusBadge } from '../runs/status-badge.tsx';

const ids = testIds.schedules;

/** One schedule: what it runs, its fires (newest first), and the verbs: pause, edit, delete. */
export function ScheduleDetail({
  id,
  onChanged,
  onDeleted,
}: {
  id: string;
  onChanged: () => void;
  onDeleted: () => void;
}) {
  const detail = useResource(`schedule:${id}`, () => api.getSchedule(id));
  const [error, setError] = useState<string>();
  const [confirming, setConfirming] = useState(false);
  const act = (p: Promise<unknown>, after: () => void): void => {
    setError(undefined);
    p.then(after, (err: unknown) => setError(errorText(err)));
  };
  const s = detail.data;
  return (
    <section className="sched-detail" data-testid={ids.detail} aria-labelledby="sched-title">
      <h2 id="sched-title">{s?.name ?? id}</h2>
      <LoadState loading={detail.loading && !s} error={detail.error} />
      {s ? (
        <>
          <p className="mono sched-run">{describeRun(s)}</p>
          {s.pausedReason ? <p className="error">Paused: {s.pausedReason}</p> : null}
          <p>
            <button
              type="button"
              data-testid={ids.toggle}
              onClick={() =>
                act(api.updateSchedule(id, { enabled: !s.enabled }), () => {
                  detail.reload();
                  onChanged();
                })
              }
            >
              {s.enabled ? 'Disable' : 'Enable'}
            </button>{' '}
            {confirming ? (
              <span role="group" aria-label="Confirm delete">
                Delete this schedule?{' '}
                <button
                  type="button"
                  className="danger"
                  data-testid={ids.confirmRemove}
                  onClick={() => act(api.deleteSchedule(id), onDeleted)}
                >
                  Delete
                </button>{' '}
                <button type="button" onClick={() => setConfirming(false)}>
                  Keep
                </button>
              </span>
            ) : (
              <button
                type="button"
                className="danger"
                data-testid={ids.remove}
                onClick={() => setConfirming(true)}
              >
                Delete…
              </button>
            )}{' '}
            <Link to={`/runs?schedule=${encodeURIComponent(id)}`}>its runs</Link>
          </p>
          <EditCron
            key={s.updatedAt}
            schedule={s}
            onSaved={() => {
              detail.reload();
              onChanged();
            }}
            onError={setError}
          />
          {error ? (
            <p role="alert" className="error" data-testid={ids.error}>
              {error}
            </p>
          ) : null}
          <h3>History</h3>
          {s.fires.length === 0 ? <p className="muted">It has not fired yet.</p> : null}
          <ul className="sched-fires">
            {s.fires.map((f) => (
              <li key={f.tick} data-testid={ids.fire}>
                {formatTime(f.tick)} · {f.outcome}{' '}
                {f.runId ? <Link to={`/runs/${encodeURIComponent(f.runId)}`}>run</Link> : null}{' '}
                {f.runStatus ? <StatusBadge status={f.runStatus} /> : null}
                {f.error ? <span className="error"> {f.error.message}</span> : null}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}

function describeRun(s: ScheduleWithFires): string {
  const run = s.run;
  if (run.command?.length) return `${run.agent ?? 'shell'}: ${run.command.join(' ')}`;
  return `${run.agent ?? 'shell'}: ${run.prompt ?? ''}`;
}

function EditCron({
  schedule,
  onSaved,
  onError,
}: {
  schedule: ScheduleWithFires;
  onSaved: () => void;
  onError: (message: string) => void;
}) {
  const [cron, setCron] = useState(schedule.cron);
  const [timezone, setTimezone] = useState(schedule.timezone);
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    api
      .updateSchedule(schedule.id, { cron, timezone })
      .then(onSaved, (err: unknown) => onError(errorText(err)));
  };
  return (
    <form className="inline-form" onSubmit={submit} aria-label="Change when it fires">
      <label>
        Cron{' '}
        <input className="mono" value={cron} onChange={(e) => setCron(e.target.value)} required />
      </label>{' '}
      <label>
        Time zone <input value={timezone} onChange={(e) => setTimezone(e.target.value)} required />
      </label>{' '}
      <button type="submit">Save</button>
    </form>
  );
}
