import { useEffect, useMemo, useRef, useState } from 'react';
import { testIds } from '../../../src/contracts/test-ids.ts';
import type { Worker } from '../../../src/contracts/index.js';
import { api } from '../data/api.ts';
import { SLOW_POLL_MS, throttled, useLiveEvents } from '../data/live.ts';
import { useResource } from '../data/use-resource.ts';
import { ago, LoadState } from '../pages-lib/bits.tsx';
import { usePoll } from '../pages-lib/use-poll.ts';
import { Link, useQueryParam } from '../router.tsx';
import { formatTime } from '../runs/format.ts';
import '../pages-lib/pages.css';

const ids = testIds.workers;
const STATES: readonly Worker['state'][] = ['active', 'draining', 'stopped', 'lost'];

/**
 * `/workers`: the processes taking runs (heartbeat age, the runs they hold; `?state=` narrows)
 * and every run queue's depth: re-read when a run moves (the live feed), and every 30 s for
 * what the feed does not tell (heartbeats, a worker lost or draining).
 */
export default function WorkersPage() {
  const [state, setState] = useQueryParam('state');
  const workers = useResource('workers', () => api.listWorkers());
  const queue = useResource('queue', () => api.queue());
  const reload = (): void => {
    workers.reload();
    queue.reload();
  };
  const reloadRef = useRef(reload);
  reloadRef.current = reload;
  const [onRunMoved] = useState(() => throttled(() => reloadRef.current(), 1000));
  useLiveEvents(onRunMoved, reload);
  usePoll(true, SLOW_POLL_MS, reload);
  const now = useNow(1000);
  // Ages by the server's clock (heartbeatAgeMs) plus the time since its answer arrived.
  const answeredAt = useMemo(() => Date.now(), [workers.data]);
  const ageOf = (w: Worker): string =>
    w.heartbeatAgeMs === undefined
      ? ago(w.heartbeatAt, now)
      : ago(new Date(answeredAt - w.heartbeatAgeMs).toISOString(), now);
  const rows = (workers.data?.workers ?? []).filter((w) => !state || w.state === state);
  const queues = Object.entries(queue.data?.queues ?? {});
  return (
    <section>
      <h1>Workers &amp; queues</h1>
      <div className="filters">
        <label>
          State{' '}
          <select value={state} onChange={(e) => setState(e.target.value || null)}>
            <option value="">all</option>
            {STATES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
      </div>
      <LoadState loading={workers.loading && !workers.data} error={workers.error} />
      <div className="table-scroll" tabIndex={0} role="region" aria-label="Workers">
        <table data-testid={ids.list}>
          <caption className="visually-hidden">Workers</caption>
          <thead>
            <tr>
              <th scope="col">process</th>
              <th scope="col">state</th>
              <th scope="col">heartbeat</th>
              <th scope="col">queues</th>
              <th scope="col">running</th>
              <th scope="col">started</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((w) => (
              <tr key={w.id} data-testid={ids.row}>
                <td>
                  <span className="mono">{w.hostname}</span>{' '}
                  <span className="muted">
                    pid {w.pid} · {w.role} · v{w.version}
                  </span>
                </td>
                <td>
                  <span className={`badge ${stateClass(w.state)}`}>{w.state}</span>
                </td>
                <td data-testid={ids.heartbeat} title={w.heartbeatAt}>
                  {ageOf(w)}
                </td>
                <td className="mono">{w.queues.join(', ')}</td>
                <td>
                  {w.running.length}/{w.concurrency}
                  {w.running.map((id) => (
                    <span key={id}>
                      {' '}
                      <Link to={`/runs/${encodeURIComponent(id)}`} className="mono">
                        {id.slice(-6)}
                      </Link>
                    </span>
                  ))}
                </td>
                <td>{formatTime(w.startedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {workers.data && rows.length === 0 ? <p className="muted">No workers.</p> : null}

      <h2>Queues</h2>
      <LoadState loading={queue.loading && !queue.data} error={queue.error} />
      {queue.data ? (
        <p className="muted">
          This process: {queue.data.queue.running} running, {queue.data.queue.waiting} waiting,
          limit {queue.data.queue.limit}.
        </p>
      ) : null}
      <div className="table-scroll" tabIndex={0} role="region" aria-label="Run queues">
        <table data-testid={ids.queues}>
          <caption className="visually-hidden">Run queues</caption>
          <thead>
            <tr>
              <th scope="col">queue</th>
              <th scope="col">waiting</th>
              <th scope="col">delayed</th>
              <th scope="col">active</th>
              <th scope="col">failed</th>
            </tr>
          </thead>
          <tbody>
            {queues.map(([name, q]) => (
              <tr key={name} data-testid={ids.queueRow}>
                <th scope="row" className="mono">
                  {name}
                </th>
                <td>{q.waiting}</td>
                <td>{q.delayed}</td>
                <td>{q.active}</td>
                <td>{q.failed}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function stateClass(state: Worker['state']): string {
  switch (state) {
    case 'active':
      return 'ok';
    case 'draining':
      return 'warn';
    case 'stopped':
      return '';
    case 'lost':
      return 'bad';
  }
}

/** The current time, ticking every `ms`: heartbeat ages count up between refreshes. */
function useNow(ms: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Date.now()), ms);
    return () => window.clearInterval(timer);
  }, [ms]);
  return now;
}
