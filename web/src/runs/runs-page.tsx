/**
 * The runs list. Every filter is a query parameter (status, agent, repo, conversation,
 * schedule, since), so a filtered view is a link. Status changes and new runs arrive through
 * the live feed (data/live.ts) and change the rows in place: no polling while it is up.
 */
import { useEffect, useState } from 'react';
import type {
  AgentName,
  LiveEvent,
  Run,
  RunList,
  RunStatus,
} from '../../../src/contracts/index.js';
import { testIds } from '../../../src/contracts/test-ids.ts';
import { api } from '../data/api.ts';
import { useLiveEvents } from '../data/live.ts';
import { useResource } from '../data/use-resource.ts';
import { Link, useLocation, useQueryParam } from '../router.tsx';
import {
  AGENTS,
  formatDuration,
  formatTime,
  isTerminal,
  RUN_STATUSES,
  runTitle,
  SINCE,
} from './format.ts';
import { NewRunForm } from './new-run-form.tsx';
import { StatusBadge } from './status-badge.tsx';

const PAGE = 100;

interface Filters {
  status: string;
  agent: string;
  repo: string;
  conversation: string;
  schedule: string;
  since: string;
}

/** Filters the server does not apply (yet) are applied here, on the page it answered. */
function matches(run: Run, f: Filters, now: number): boolean {
  if (f.agent && run.agent !== f.agent) return false;
  if (f.repo && run.repoId !== f.repo) return false;
  if (f.conversation && run.conversationId !== f.conversation) return false;
  if (f.schedule && run.scheduleId !== f.schedule) return false;
  const since = SINCE[f.since];
  if (since && now - Date.parse(run.createdAt) > since.ms) return false;
  return true;
}

/**
 * The list after a live event: the run's row replaced where it is listed (or removed when it
 * no longer passes the status filter), a run that now passes the filters put in its place in
 * the server's order (newest id first) when it falls within the loaded pages. Runs the list does not reach stay out.
 */
function applyLiveEvent(list: RunList, event: LiveEvent, f: Filters): RunList {
  const { run } = event;
  const passes =
    (!f.status || f.status.split(',').includes(run.status)) && matches(run, f, Date.now());
  const rest = list.runs.filter((r) => r.id !== run.id);
  if (!passes) return rest.length === list.runs.length ? list : { ...list, runs: rest };
  const oldest = list.runs.at(-1);
  // Beyond the last loaded run of a paged list: it belongs to a page not loaded.
  if (list.nextCursor && oldest && run.id < oldest.id) return list;
  const at = rest.findIndex((r) => r.id < run.id);
  const runs = at < 0 ? [...rest, run] : [...rest.slice(0, at), run, ...rest.slice(at)];
  return { ...list, runs };
}

async function loadRuns(f: Filters, pages: number): Promise<RunList> {
  const status = f.status ? (f.status.split(',') as RunStatus[]) : undefined;
  const runs: Run[] = [];
  let cursor: string | undefined;
  const since = SINCE[f.since];
  // The server filters by all of these once it knows them (a server that does not yet
  // ignores them: `matches` then filters the page it answered).
  const query = {
    limit: PAGE,
    ...(status ? { status } : {}),
    ...(f.schedule ? { scheduleId: f.schedule } : {}),
    ...(f.repo ? { repoId: f.repo } : {}),
    ...(f.conversation ? { conversationId: f.conversation } : {}),
    ...(f.agent ? { agent: f.agent as AgentName } : {}),
    ...(since ? { createdAfter: new Date(Date.now() - since.ms).toISOString() } : {}),
  };
  for (let i = 0; i < pages; i++) {
    const page = await api.listRuns({ ...query, ...(cursor ? { cursor } : {}) });
    runs.push(...page.runs);
    cursor = page.nextCursor ?? undefined;
    if (!cursor) break;
  }
  return { runs, nextCursor: cursor ?? null };
}

export default function RunsPage() {
  const { query } = useLocation();
  const [status, setStatus] = useQueryParam('status');
  const [agent, setAgent] = useQueryParam('agent');
  const [repo, setRepo] = useQueryParam('repo');
  const [conversation, setConversation] = useQueryParam('conversation');
  const [schedule, setSchedule] = useQueryParam('schedule');
  const [since, setSince] = useQueryParam('since');
  const pages = Math.max(1, Number(query.get('pages') ?? '1') || 1);
  const [, setPages] = useQueryParam('pages');
  const filters: Filters = { status, agent, repo, conversation, schedule, since };
  const key = JSON.stringify([filters, pages]);
  const runs = useResource(key, () => loadRuns(filters, pages));
  const [showNew, setShowNew] = useState(false);

  useLiveEvents(
    (event) => runs.update((list) => applyLiveEvent(list, event, filters)),
    runs.reload,
  );

  const now = Date.now();
  const shown = (runs.data?.runs ?? []).filter((r) => matches(r, filters, now));

  return (
    <section>
      <div className="toolbar" style={{ justifyContent: 'space-between' }}>
        <h1>Runs</h1>
        <button
          type="button"
          className="primary"
          data-testid={testIds.runs.newRun}
          aria-expanded={showNew}
          onClick={() => setShowNew((v) => !v)}
        >
          New run
        </button>
      </div>
      {showNew && <NewRunForm onClose={() => setShowNew(false)} />}
      <form
        className="toolbar"
        role="search"
        aria-label="Filter runs"
        onSubmit={(e) => e.preventDefault()}
      >
        <label className="field">
          Status
          <select
            value={status}
            onChange={(e) => setStatus(e.target.value)}
            data-testid={testIds.runs.filterStatus}
          >
            <option value="">Any</option>
            <option value="queued,running,paused">Active</option>
            {RUN_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.replace('_', ' ')}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          Agent
          <select
            value={agent}
            onChange={(e) => setAgent(e.target.value)}
            data-testid={testIds.runs.filterAgent}
          >
            <option value="">Any</option>
            {AGENTS.map((a: AgentName) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </label>
        <TextFilter
          label="Repository id"
          value={repo}
          onChange={setRepo}
          testId={testIds.runs.filterRepo}
        />
        <TextFilter
          label="Conversation id"
          value={conversation}
          onChange={setConversation}
          testId={testIds.runs.filterConversation}
        />
        <TextFilter
          label="Schedule id"
          value={schedule}
          onChange={setSchedule}
          testId={testIds.runs.filterSchedule}
        />
        <label className="field">
          Created
          <select
            value={since}
            onChange={(e) => setSince(e.target.value)}
            data-testid={testIds.runs.filterSince}
          >
            <option value="">Any time</option>
            {Object.entries(SINCE).map(([k, v]) => (
              <option key={k} value={k}>
                {v.label}
              </option>
            ))}
          </select>
        </label>
      </form>
      {runs.error && (
        <p role="alert" className="error">
          {runs.error}
        </p>
      )}
      {runs.data && shown.length === 0 ? (
        <p data-testid={testIds.runs.empty}>No runs match these filters.</p>
      ) : (
        <table className="table" data-testid={testIds.runs.list}>
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Run</th>
              <th scope="col">Agent</th>
              <th scope="col">Created</th>
              <th scope="col">Duration</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((run) => (
              <RunRow key={run.id} run={run} />
            ))}
          </tbody>
        </table>
      )}
      {runs.data?.nextCursor && (
        <button
          type="button"
          data-testid={testIds.runs.more}
          onClick={() => setPages(String(pages + 1))}
        >
          Load more
        </button>
      )}
    </section>
  );
}

function RunRow({ run }: { run: Run }) {
  const live = !isTerminal(run.status) && run.startedAt;
  return (
    <tr data-testid={testIds.runs.row} data-run-id={run.id}>
      <td data-label="Status">
        <StatusBadge status={run.status} testId={testIds.runs.status} />
      </td>
      <td data-label="Run">
        <Link to={`/runs/${encodeURIComponent(run.id)}`}>
          {runTitle(run).slice(0, 120) || run.id}
        </Link>
        <div className="muted mono">{run.id}</div>
      </td>
      <td data-label="Agent">{run.agent}</td>
      <td data-label="Created">{formatTime(run.createdAt)}</td>
      <td data-label="Duration">
        {live
          ? formatDuration(Date.now() - Date.parse(run.startedAt as string))
          : formatDuration(run.durationMs)}
      </td>
    </tr>
  );
}

function TextFilter(props: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  testId: string;
}) {
  // Local state while typing; the URL changes when the field is left or Enter is pressed.
  const [draft, setDraft] = useState(props.value);
  useEffect(() => setDraft(props.value), [props.value]);
  return (
    <label className="field">
      {props.label}
      <input
        value={draft}
        size={12}
        data-testid={props.testId}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={() => props.onChange(draft.trim())}
        onKeyDown={(e) => {
          if (e.key === 'Enter') props.onChange(draft.trim());
        }}
      />
    </label>
  );
}
