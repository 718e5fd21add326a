import { useState, type FormEvent } from 'react';
import { testIds } from '../../../src/contracts/test-ids.ts';
import type { Schedule } from '../../../src/contracts/index.js';
import { api, errorText } from '../data/api.ts';
import { useResource } from '../data/use-resource.ts';
import { LoadState, until } from '../pages-lib/bits.tsx';
import { Link, useQueryParam, withQuery } from '../router.tsx';
import { formatTime } from '../runs/format.ts';
import { ScheduleDetail } from './schedule-detail.tsx';
import '../pages-lib/pages.css';

const ids = testIds.schedules;

/**
 * `/schedules`: every schedule with its next fire and what its last one did; `?id=` opens one
 * (its history, pause/resume, edit, delete); the form below creates one.
 */
export default function SchedulesPage() {
  const [selected, setSelected] = useQueryParam('id');
  const list = useResource('schedules', () => api.listSchedules());
  return (
    <section>
      <h1>Schedules</h1>
      <LoadState loading={list.loading && !list.data} error={list.error} />
      <div className="table-scroll" tabIndex={0} role="region" aria-label="Schedules">
        <table data-testid={ids.list}>
          <caption className="visually-hidden">Schedules</caption>
          <thead>
            <tr>
              <th scope="col">name</th>
              <th scope="col">cron</th>
              <th scope="col">state</th>
              <th scope="col">next fire</th>
              <th scope="col">last fire</th>
            </tr>
          </thead>
          <tbody>
            {list.data?.schedules.map((s) => (
              <tr key={s.id} data-testid={ids.row} aria-current={s.id === selected || undefined}>
                <td>
                  <Link to={withQuery('/schedules', { id: s.id })}>{s.name ?? s.id}</Link>
                </td>
                <td className="mono">
                  {s.cron} <span className="muted">{s.timezone}</span>
                </td>
                <td>
                  <ScheduleState schedule={s} />
                </td>
                <td>
                  {s.nextRunAt ? (
                    <>
                      {formatTime(s.nextRunAt)} <span className="muted">{until(s.nextRunAt)}</span>
                    </>
                  ) : (
                    '—'
                  )}
                </td>
                <td>
                  {s.lastFire ? `${s.lastFire.outcome} · ${formatTime(s.lastFire.firedAt)}` : '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {list.data && list.data.schedules.length === 0 ? (
        <p className="muted">No schedules.</p>
      ) : null}
      {selected ? (
        <ScheduleDetail
          id={selected}
          onChanged={list.reload}
          onDeleted={() => {
            setSelected(null);
            list.reload();
          }}
        />
      ) : null}
      <NewSchedule onCreated={(s) => (list.reload(), setSelected(s.id, { push: true }))} />
    </section>
  );
}

export function ScheduleState({ schedule }: { schedule: Schedule }) {
  if (schedule.enabled) return <span className="badge ok">enabled</span>;
  return (
    <span className="badge warn" title={schedule.pausedReason ?? undefined}>
      {schedule.pausedReason ? 'paused' : 'disabled'}
    </span>
  );
}

function NewSchedule({ onCreated }: { onCreated: (s: Schedule) => void }) {
  const [name, setName] = useState('');
  const [cron, setCron] = useState('0 9 * * 1-5');
  const [timezone, setTimezone] = useState('UTC');
  const [command, setCommand] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    api
      .createSchedule({
        ...(name.trim() ? { name: name.trim() } : {}),
        cron: cron.trim(),
        timezone: timezone.trim() || 'UTC',
        run: { agent: 'shell', command: ['sh', '-c', command] },
      })
      .then(
        (s) => {
          setBusy(false);
          setName('');
          setCommand('');
          onCreated(s);
        },
        (err: unknown) => {
          setBusy(false);
          setError(errorText(err));
        },
      );
  };
  return (
    <form className="stack-form" onSubmit={submit} aria-labelledby="sched-new">
      <h2 id="sched-new">New schedule</h2>
      <label>
        Name
        <input data-testid={ids.name} value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <label>
        Cron (minute hour day month weekday)
        <input
          data-testid={ids.cron}
          required
          className="mono"
          value={cron}
          onChange={(e) => setCron(e.target.value)}
        />
      </label>
      <label>
        Time zone
        <input value={timezone} onChange={(e) => setTimezone(e.target.value)} />
      </label>
      <label>
        Shell command
        <input
          data-testid={ids.command}
          required
          className="mono"
          value={command}
          onChange={(e) => setCommand(e.target.value)}
          placeholder="npm test"
        />
      </label>
      <button type="submit" className="primary" disabled={busy} data-testid={ids.save}>
        {busy ? 'Creating…' : 'Create'}
      </button>
      {error ? (
        <p role="alert" className="error" data-testid={ids.error}>
          {error}
        </p>
      ) : null}
    </form>
  );
}
