/**
 * The run's events other than output (the log shows that): a tool call and its result are one
 * row, with the duration between them and the tokens when reported; thinking starts collapsed;
 * a payload is rendered only when its row is expanded.
 */
import { memo, useCallback, useMemo, useState } from 'react';
import type { RunEvent } from '../../../src/contracts/index.js';
import { testIds } from '../../../src/contracts/test-ids.ts';
import type { EventStore } from './event-store.ts';
import { formatDuration } from './format.ts';
import { VirtualList } from './virtual-list.tsx';

export interface EventRow {
  readonly key: number;
  readonly event: RunEvent;
  /** For a tool call: its result, once it came. */
  readonly result?: RunEvent;
}

/**
 * Pairs tool calls with their results (by `data.id`); drops output events. A row equal to
 * the one in `cache` is that same object, so memoized rows do not render again.
 */
export function eventRows(
  events: readonly RunEvent[],
  cache: Map<number, EventRow> = new Map(),
): EventRow[] {
  const rows: EventRow[] = [];
  const openCalls = new Map<string, number>();
  for (const event of events) {
    if (event.type === 'output') continue;
    const id = typeof event.data.id === 'string' ? event.data.id : undefined;
    if (event.type === 'tool_result' && id !== undefined && openCalls.has(id)) {
      const at = openCalls.get(id) as number;
      rows[at] = { ...(rows[at] as EventRow), result: event };
      openCalls.delete(id);
      continue;
    }
    if (event.type === 'tool_call' && id !== undefined) openCalls.set(id, rows.length);
    rows.push({ key: event.seq, event });
  }
  for (const [i, row] of rows.entries()) {
    const before = cache.get(row.key);
    if (before && before.result === row.result) rows[i] = before;
    else cache.set(row.key, row);
  }
  return rows;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

function summary(row: EventRow): string {
  const d = row.event.data;
  switch (row.event.type) {
    case 'status':
      return `${str(d.status)}${d.exitCode != null ? ` (exit ${str(d.exitCode)})` : ''}`;
    case 'message':
    case 'result':
      return str(d.text ?? d.result ?? d.message ?? '').slice(0, 200);
    case 'thinking':
      return 'Thinking';
    case 'tool_call':
      return `${str(d.name ?? 'tool')}${row.result ? (row.result.data.isError ? ' — failed' : '') : ' — running'}`;
    case 'error':
      return `${str(d.code ?? '')} ${str(d.message ?? '')}`.trim();
    case 'usage':
      return `tokens in ${str(d.input ?? d.inputTokens ?? '?')}, out ${str(d.output ?? d.outputTokens ?? '?')}`;
    case 'gate':
      return `${str(d.gate)} ${str(d.phase)}${d.status ? `: ${str(d.status)}` : ''}`;
    case 'progress':
      return str(d.message);
    case 'artifact':
      return str(d.name);
    default:
      return str(d).slice(0, 200);
  }
}

function tokens(row: EventRow): string | undefined {
  const u = (row.result?.data.usage ?? row.event.data.usage) as Record<string, unknown> | undefined;
  if (!u || typeof u !== 'object') return undefined;
  const total = ['input', 'output', 'inputTokens', 'outputTokens']
    .map((k) => u[k])
    .filter((v): v is number => typeof v === 'number')
    .reduce((a, b) => a + b, 0);
  return total > 0 ? `${total.toLocaleString()} tokens` : undefined;
}

const EventItem = memo(function EventItem(props: {
  row: EventRow;
  open: boolean;
  onToggle: (key: number) => void;
}) {
  const { row, open } = props;
  const type = row.event.type;
  const duration = row.result ? Date.parse(row.result.ts) - Date.parse(row.event.ts) : undefined;
  const tok = tokens(row);
  const panel = `event-${row.key}`;
  return (
    <div
      className={`event ev-${type}`}
      data-testid={testIds.events.row}
      data-type={type}
      data-seq={row.key}
    >
      <button
        type="button"
        className="event-head"
        aria-expanded={open}
        aria-controls={panel}
        onClick={() => props.onToggle(row.key)}
        data-testid={testIds.events.toggle}
      >
        <span className="event-type">{type === 'tool_call' ? 'tool' : type}</span>
        <span className="event-summary">{summary(row)}</span>
        {duration !== undefined && <span className="muted">{formatDuration(duration)}</span>}
        {tok && <span className="muted">{tok}</span>}
      </button>
      {open && (
        <div id={panel} className="event-body" data-testid={testIds.events.payload}>
          <Payload title={type === 'tool_call' ? 'Input' : 'Data'} value={row.event.data} />
          {row.result && <Payload title="Result" value={row.result.data} />}
        </div>
      )}
    </div>
  );
});

/** Large payloads show their start, and the rest on request. */
function Payload({ title, value }: { title: string; value: unknown }) {
  const [all, setAll] = useState(false);
  const text = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  const LIMIT = 4000;
  return (
    <div>
      <div className="muted">{title}</div>
      <pre className="payload">
        {all || text.length <= LIMIT ? text : `${text.slice(0, LIMIT)}…`}
      </pre>
      {!all && text.length > LIMIT && (
        <button type="button" onClick={() => setAll(true)}>
          Show all {(text.length / 1024).toFixed(0)} KB
        </button>
      )}
    </div>
  );
}

export function EventsView({ store, version }: { store: EventStore; version: number }) {
  // Rebuilt per append (cheap next to rendering); rows keep their identity through `key`.
  const cache = useMemo(() => new Map<number, EventRow>(), [store]);
  const rows = useMemo(() => eventRows(store.events, cache), [store, cache, version]);
  const [openKeys, setOpenKeys] = useState<ReadonlySet<number>>(new Set());
  const [follow, setFollow] = useState(true);
  const toggle = useCallback((key: number) => {
    setOpenKeys((prev) => {
      const next = new Set(prev);
      if (next.has(key)) next.delete(key);
      else next.add(key);
      return next;
    });
  }, []);
  const keyOf = useCallback((r: EventRow) => r.key, []);
  const render = useCallback(
    (r: EventRow) => <EventItem row={r} open={openKeys.has(r.key)} onToggle={toggle} />,
    [openKeys, toggle],
  );
  if (rows.length === 0) return <p className="muted">No events besides output yet.</p>;
  return (
    <VirtualList
      items={rows}
      version={version}
      keyOf={keyOf}
      render={render}
      estimate={34}
      follow={follow}
      onFollowChange={setFollow}
      label="Run events"
      testId={testIds.events.list}
      className="events"
    />
  );
}
