import type {
  Horizon,
  InboxTask,
  TaskDetail,
  TaskGraph,
  TaskListItem,
  TaskSource,
  TaskState,
} from '../contracts/index.js';
import type { TaskRecord, TaskSourceRecord } from '../store/index.js';
import type { InboxContext } from './context.js';
import type { SourceItem } from './connectors/types.js';
import { getTaskOrThrow } from './triage.js';

/** What the API shows of a task: its stored fields, the effective horizon and state. */
export function toInboxTask(t: TaskRecord, now: Date): InboxTask {
  const { identifiers: _i, mentions: _m, history: _p, completeOnSuccess: _c, ai, ...shown } = t;
  return {
    ...shown,
    aiSummary: ai?.summary ?? null,
    aiLabels: ai?.labels ?? [],
    aiModel: ai ? `${ai.provider}:${ai.model}` : null,
    state: effectiveState(t, now),
    horizon: t.horizonOverride ?? t.horizonProposed,
  };
}

/** A snooze that has run out is a task to do again. */
export function effectiveState(t: TaskRecord, now: Date): TaskState {
  return t.state === 'snoozed' && t.snoozedUntil && Date.parse(t.snoozedUntil) <= now.getTime()
    ? 'todo'
    : t.state;
}

const DAY = 86_400_000;

export type Lane = Horizon | 'past7d';

/** Where a task sits: past7d for what was done in the last 7 days, else its horizon (open only). */
export function laneOf(t: TaskRecord, now: Date): Lane | null {
  if (t.archived) return null;
  const state = effectiveState(t, now);
  if (state === 'done') {
    return t.doneAt && now.getTime() - Date.parse(t.doneAt) <= 7 * DAY ? 'past7d' : null;
  }
  if (state !== 'todo' && state !== 'accepted') return null;
  return t.horizonOverride ?? t.horizonProposed;
}

/** The top `limit` tasks of a lane, highest score first (ties: oldest first). */
export async function listTasks(
  ctx: InboxContext,
  query: { horizon?: Lane; limit: number; state?: TaskState; include?: 'sources' },
): Promise<TaskListItem[]> {
  const now = ctx.now();
  const all = await ctx.store.tasks.list();
  const picked = all.filter((t) => {
    if (query.state && effectiveState(t, now) !== query.state) return false;
    if (query.horizon) return laneOf(t, now) === query.horizon;
    return query.state ? true : laneOf(t, now) !== null && laneOf(t, now) !== 'past7d';
  });
  picked.sort((a, b) =>
    query.horizon === 'past7d'
      ? (b.doneAt ?? '').localeCompare(a.doneAt ?? '')
      : b.score - a.score || a.id.localeCompare(b.id),
  );
  const shown = picked.slice(0, query.limit);
  if (query.include !== 'sources') return shown.map((t) => toInboxTask(t, now));
  const sources = await ctx.store.tasks.listSourcesOf(shown.map((t) => t.id));
  return shown.map((t) => ({
    ...toInboxTask(t, now),
    sources: (sources.get(t.id) ?? []).map(toTaskSource),
  }));
}

function toTaskSource(s: TaskSourceRecord): TaskSource {
  const item = s.item as unknown as SourceItem;
  return {
    kind: s.kind,
    ref: s.ref,
    url: item.url ?? null,
    title: item.title,
    removed: s.removed,
    updatedAt: s.updatedAt,
  };
}

export async function taskDetail(ctx: InboxContext, id: string): Promise<TaskDetail> {
  const task = await getTaskOrThrow(ctx, id);
  const sources = (await ctx.store.tasks.listSources(id)).map(toTaskSource);
  return {
    ...toInboxTask(task, ctx.now()),
    sources,
    audit: await ctx.store.tasks.listAudit(id),
    merges: (await ctx.store.tasks.listMerges(id)).map(({ snapshot: _s, ...m }) => m),
  };
}

/**
 * The graph of a window: tasks done in the last 7 days and open tasks of the lanes up to the
 * window, with reply chains, issue links and mentions between them, and `temporal` edges
 * joining consecutive tasks of one thread or issue in time order.
 */
export async function taskGraph(
  ctx: InboxContext,
  query: { window: 'week' | 'month'; kind?: string; state?: TaskState },
): Promise<TaskGraph> {
  const now = ctx.now();
  const lanes: Lane[] =
    query.window === 'week' ? ['past7d', 'today', 'week'] : ['past7d', 'today', 'week', 'month'];
  const nodes = (await ctx.store.tasks.list())
    .map((t) => ({ t, lane: laneOf(t, now) }))
    .filter(({ lane }) => lane !== null && lanes.includes(lane))
    .filter(
      ({ t }) =>
        (!query.kind || t.kind === query.kind) &&
        (!query.state || effectiveState(t, now) === query.state),
    );
  const ids = new Set(nodes.map((n) => n.t.id));
  const edges: TaskGraph['edges'] = (await ctx.store.tasks.listEdges())
    .filter((e) => ids.has(e.from) && ids.has(e.to))
    .map((e) => ({ from: e.from, to: e.to, kind: e.kind }));
  // Temporal order within a thread or an issue (several tasks can share one after an undone
  // merge or a vetoed one): each to the next in time.
  const groups = new Map<string, TaskRecord[]>();
  for (const { t } of nodes) {
    const key =
      t.identifiers.issueKey ??
      (t.identifiers.threadId ? `${t.kind}:${t.identifiers.threadId}` : undefined);
    if (key) groups.set(key, [...(groups.get(key) ?? []), t]);
  }
  for (const group of groups.values()) {
    group.sort((a, b) => a.sourceCreatedAt.localeCompare(b.sourceCreatedAt));
    for (let i = 1; i < group.length; i++)
      edges.push({ from: group[i - 1]!.id, to: group[i]!.id, kind: 'temporal' });
  }
  return {
    nodes: nodes.map(({ t, lane }) => ({
      id: t.id,
      title: t.title,
      kind: t.kind,
      state: effectiveState(t, now),
      lane: lane!,
      score: t.score,
      at: t.sourceUpdatedAt,
    })),
    edges,
  };
}

export async function graphFilters(ctx: InboxContext): Promise<{
  kinds: TaskRecord['kind'][];
  states: TaskState[];
  lanes: Lane[];
  edgeKinds: Array<'reply' | 'issue_link' | 'mention' | 'temporal'>;
  labels: string[];
}> {
  const all = await ctx.store.tasks.list();
  const now = ctx.now();
  return {
    kinds: [...new Set(all.map((t) => t.kind))].sort(),
    states: [...new Set(all.map((t) => effectiveState(t, now)))].sort(),
    lanes: ['past7d', 'today', 'week', 'month'],
    edgeKinds: ['reply', 'issue_link', 'mention', 'temporal'],
    labels: [...new Set(all.flatMap((t) => t.labels))].sort(),
  };
}
