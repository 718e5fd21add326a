import type { SyncReport } from '../contracts/index.js';
import {
  pushHistory,
  ulid,
  type MergeRecord,
  type TaskRecord,
  type TaskSourceRecord,
} from '../store/index.js';
import type { ConnectorKind, SourceItem, SyncResult } from './connectors/types.js';
import { thresholdsOf, type InboxContext } from './context.js';
import { deadlineFromText } from './deadlines.js';
import { identifierConflict, lookupIdentifiers, ownIdentifiers } from './identifiers.js';
import { rescoreAll } from './refresh.js';
import { compareTexts, itemText } from './similarity.js';

/**
 * Applying a connector's SyncResult: each item upserted by (kind, ref); a new item joins the
 * task its identifiers name (same thread, message, issue, URL; a reply joins its thread),
 * unless identifiers conflict; otherwise the most similar open task above the calibrated
 * threshold absorbs it, and one in the band below is only suggested. Every join is a merge
 * record, so it can be undone. Removed refs archive their task once no source is left;
 * an item closed at its source marks its task done.
 */

const PRIORITY_ORDER = ['lowest', 'low', 'medium', 'high', 'highest'];

export const newTaskId = (): string => `task_${ulid()}`;

const textOf = itemText;

/** An item's due date: its source's, else a deadline written in its text ("by Friday"). */
const dueOf = (item: SourceItem): string | undefined =>
  item.dueAt ?? deadlineFromText(`${item.title}\n${item.snippet}`, item.createdAt);

/** A fresh task from one item (scored later by rescoreAll). */
export function taskFromItem(item: SourceItem, id: string, now: string): TaskRecord {
  return {
    id,
    kind: item.kind,
    sourceRef: item.ref,
    url: item.url ?? null,
    title: item.title,
    snippet: item.snippet,
    people: item.people.map((p) => ({ ...p })),
    labels: [...item.labels],
    identifiers: { ...item.identifiers },
    mentions: [...item.mentions],
    dueAt: dueOf(item) ?? null,
    priority: item.priority ?? null,
    asksUser: item.asksUser ?? false,
    waitingOnUser: item.waitingOnUser ?? false,
    sourceCreatedAt: item.createdAt,
    sourceUpdatedAt: item.updatedAt,
    score: 0,
    scoreInputs: {
      dueInDays: null,
      priority: null,
      asksUser: false,
      waitingOnUser: false,
      sender: null,
      senderAffinity: 0,
      ageDays: 0,
      blocks: 0,
      source: item.kind,
      sourcePrior: 0,
      points: {},
    },
    horizonProposed: 'month',
    horizonOverride: null,
    state: 'todo',
    snoozedUntil: null,
    duplicateOf: null,
    doneAt: null,
    history: [],
    suggestedDuplicateOf: null,
    suggestedSimilarity: null,
    archived: false,
    runId: null,
    prUrl: null,
    completeOnSuccess: false,
    createdAt: now,
    updatedAt: now,
  };
}

/**
 * A task's fields from its sources: the first source gives title, snippet and URL; people,
 * labels and mentions are the union; the earliest due date and the highest priority win; a
 * direct ask or "waiting on me" anywhere counts.
 */
export function combineSources(task: TaskRecord, sources: readonly TaskSourceRecord[]): TaskRecord {
  const live = sources.filter((s) => !s.removed).map((s) => s.item as unknown as SourceItem);
  if (live.length === 0) return task;
  // The item at its source (the Jira issue, the PR, the comment) speaks for the task over the
  // emails that notify about it: its title, its kind, its own "waiting on me".
  const atSource = live.filter((i) => i.kind !== 'gmail');
  const primary =
    live.find(
      (i) =>
        i.kind === task.kind &&
        i.ref === task.sourceRef &&
        (i.kind !== 'gmail' || !atSource.length),
    ) ??
    atSource[0] ??
    live[0]!;
  const people = new Map<string, SourceItem['people'][number]>();
  for (const p of live.flatMap((i) => i.people)) {
    people.set(`${p.role}|${(p.email ?? p.handle ?? p.name ?? '').toLowerCase()}`, p);
  }
  const dues = live
    .map(dueOf)
    .filter((d): d is string => !!d)
    .sort();
  const priorities = live
    .map((i) => i.priority)
    .filter((p): p is NonNullable<SourceItem['priority']> => !!p)
    .sort((a, b) => PRIORITY_ORDER.indexOf(b) - PRIORITY_ORDER.indexOf(a));
  // From the sources alone (the primary first), so that a source moved away by an undone
  // merge takes its identifiers with it.
  const ids = { ...primary.identifiers };
  for (const i of [primary, ...live.filter((i) => i !== primary)]) {
    ids.threadId ??= i.identifiers.threadId;
    ids.messageId ??= i.identifiers.messageId;
    ids.issueKey ??= i.identifiers.issueKey;
    ids.urls = [...new Set([...(ids.urls ?? []), ...(i.identifiers.urls ?? [])])];
  }
  return {
    ...task,
    kind: primary.kind,
    sourceRef: primary.ref,
    title: primary.title,
    snippet: primary.snippet,
    url: primary.url ?? task.url,
    people: [...people.values()].map((p) => ({ ...p })),
    labels: [...new Set(live.flatMap((i) => i.labels))],
    mentions: [...new Set(live.flatMap((i) => i.mentions))],
    identifiers: ids,
    dueAt: dues[0] ?? null,
    priority: priorities[0] ?? null,
    asksUser: live.some((i) => i.asksUser),
    // A notification email "waits" on the user only because nobody replied to a robot; when
    // the item it notifies about is here, the source says whether the ball is in their court.
    waitingOnUser: (atSource.length ? atSource : live).some((i) => i.waitingOnUser),
    sourceCreatedAt: live.map((i) => i.createdAt).sort()[0]!,
    sourceUpdatedAt: live
      .map((i) => i.updatedAt)
      .sort()
      .at(-1)!,
  };
}

async function recombine(ctx: InboxContext, taskId: string): Promise<TaskRecord | undefined> {
  const task = await ctx.store.tasks.get(taskId);
  if (!task) return undefined;
  const sources = await ctx.store.tasks.listSources(taskId);
  const next = combineSources(task, sources);
  next.archived = sources.length > 0 && sources.every((s) => s.removed);
  next.updatedAt = ctx.now().toISOString();
  await ctx.store.tasks.save(next);
  if (next.archived && !task.archived) {
    await ctx.store.tasks.audit(taskId, 'archived', task.state, task.state, {
      reason: 'every source was deleted or lost',
    });
  }
  return next;
}

/**
 * Merges task `fromId` into `intoId`: every source of `fromId` moves over (none is lost), its
 * edges follow, and `fromId` becomes a duplicate. The merge record keeps `fromId` as it was.
 */
export async function mergeTasks(
  ctx: InboxContext,
  fromId: string,
  intoId: string,
  method: MergeRecord['method'],
  similarity: number | null,
): Promise<MergeRecord> {
  const { tasks } = ctx.store;
  const from = await tasks.get(fromId);
  if (!from) throw new Error(`no task ${fromId}`);
  const sources = await tasks.listSources(fromId);
  const now = ctx.now().toISOString();
  const merge: MergeRecord = {
    id: `mrg_${ulid()}`,
    intoTaskId: intoId,
    fromTaskId: fromId,
    method,
    similarity,
    snapshot: { task: from, sources: sources.map((s) => ({ kind: s.kind, ref: s.ref })) },
    createdAt: now,
    undoneAt: null,
  };
  await tasks.insertMerge(merge);
  await tasks.moveSources(fromId, intoId);
  await tasks.moveEdges(fromId, intoId);
  await tasks.save({
    ...from,
    history: pushHistory(from, 'merge'),
    state: 'duplicate',
    duplicateOf: intoId,
    suggestedDuplicateOf: null,
    suggestedSimilarity: null,
    updatedAt: now,
  });
  await tasks.audit(fromId, 'merged', from.state, 'duplicate', {
    into: intoId,
    mergeId: merge.id,
    method,
    similarity,
  });
  await tasks.audit(intoId, 'absorbed', null, null, {
    from: fromId,
    mergeId: merge.id,
    method,
    similarity,
  });
  await recombine(ctx, intoId);
  return merge;
}

/** Undoes a merge: the merged task and its sources are back as they were. */
export async function undoMerge(
  ctx: InboxContext,
  mergeId: string,
): Promise<MergeRecord | undefined> {
  const { tasks } = ctx.store;
  const merge = await tasks.getMerge(mergeId);
  if (!merge || merge.undoneAt) return undefined;
  if (!(await tasks.markMergeUndone(mergeId, ctx.now().toISOString()))) return undefined;
  await tasks.moveSources(merge.intoTaskId, merge.fromTaskId, merge.snapshot.sources);
  await tasks.save({ ...merge.snapshot.task, updatedAt: ctx.now().toISOString() });
  // The merge pointed the merged task's edges at the surviving one. Edges are derived from
  // mentions and identifiers, so both tasks' edges are dropped here and derived again by the
  // rescore that follows every undo, each from its own sources.
  await tasks.deleteEdgesOf([merge.fromTaskId, merge.intoTaskId]);
  await tasks.audit(merge.fromTaskId, 'merge_undone', 'duplicate', merge.snapshot.task.state, {
    mergeId,
  });
  await tasks.audit(merge.intoTaskId, 'merge_undone', null, null, {
    mergeId,
    restored: merge.fromTaskId,
  });
  await recombine(ctx, merge.fromTaskId);
  await recombine(ctx, merge.intoTaskId);
  return { ...merge, undoneAt: ctx.now().toISOString() };
}

/** Where a new item belongs: a task its identifiers name, or a similar one. */
async function placeNewTask(
  ctx: InboxContext,
  task: TaskRecord,
  item: SourceItem,
): Promise<'merged' | 'created'> {
  const { tasks } = ctx.store;
  const matches = await tasks.tasksWithIdentifiers(lookupIdentifiers(item));
  matches.delete(task.id);
  const open = async (id: string): Promise<TaskRecord | undefined> => {
    const t = await tasks.get(id);
    return t && !t.archived && t.state !== 'duplicate' ? t : undefined;
  };
  for (const id of [...matches.keys()].sort()) {
    const target = await open(id);
    if (!target) continue;
    const conflict = identifierConflict(item, target);
    if (conflict) {
      ctx.log.debug({ taskId: task.id, target: id, conflict }, 'identifier match vetoed');
      continue;
    }
    await mergeTasks(ctx, task.id, id, 'identifier', null);
    await suggestFor(ctx, id, item);
    return 'merged';
  }
  const candidates = (await tasks.list()).filter(
    (t) =>
      t.id !== task.id &&
      !['duplicate', 'declined', 'done'].includes(t.state) &&
      !identifierConflict(item, t),
  );
  if (candidates.length === 0) return 'created';
  const { embedder, scores } = await compareTexts(
    ctx.similarity,
    textOf(task),
    candidates.map(textOf),
  );
  let best = -1;
  for (let i = 0; i < scores.length; i++) if (best < 0 || scores[i]! > scores[best]!) best = i;
  const score = scores[best] ?? 0;
  const t = await thresholdsOf(ctx, embedder);
  if (score >= t.merge) {
    await mergeTasks(ctx, task.id, candidates[best]!.id, 'similarity', score);
    return 'merged';
  }
  if (score >= t.suggest) {
    await tasks.save({
      ...task,
      suggestedDuplicateOf: candidates[best]!.id,
      suggestedSimilarity: score,
    });
    await tasks.audit(task.id, 'duplicate_suggested', null, null, {
      of: candidates[best]!.id,
      similarity: score,
      embedder,
    });
  }
  return 'created';
}

/**
 * An item that joined a task by its identifiers may still read like another task (a Jira
 * story joining its notification email, alike to the customer's email about the same bug):
 * the most similar open task in the suggestion band becomes the task's suggestion, when it
 * has none as strong. Never a merge: identifiers put the item here, only the user moves it.
 */
async function suggestFor(ctx: InboxContext, taskId: string, item: SourceItem): Promise<void> {
  const { tasks } = ctx.store;
  const target = await tasks.get(taskId);
  if (!target) return;
  const candidates = (await tasks.list()).filter(
    (t) => t.id !== taskId && isCandidate(t) && !identifierConflict(item, t),
  );
  if (candidates.length === 0) return;
  const { embedder, scores } = await compareTexts(
    ctx.similarity,
    itemText(item),
    candidates.map(textOf),
  );
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[best]!) best = i;
  const score = scores[best] ?? 0;
  const t = await thresholdsOf(ctx, embedder);
  if (score < t.suggest || score <= (target.suggestedSimilarity ?? -1)) return;
  await tasks.save({
    ...target,
    suggestedDuplicateOf: candidates[best]!.id,
    suggestedSimilarity: score,
  });
  await tasks.audit(taskId, 'duplicate_suggested', null, null, {
    of: candidates[best]!.id,
    similarity: score,
    embedder,
    via: item.ref,
  });
}

const isCandidate = (t: TaskRecord): boolean =>
  !t.archived && !['duplicate', 'declined', 'done'].includes(t.state);

/** Applies one page of a sync. Resolves with what changed. */
export async function applySync(
  ctx: InboxContext,
  kind: ConnectorKind,
  result: SyncResult,
): Promise<SyncReport> {
  const { tasks } = ctx.store;
  const report = {
    kind,
    items: result.items.length,
    created: 0,
    updated: 0,
    merged: 0,
    archived: 0,
    rebackfilled: result.rebackfilled ?? false,
  };
  const now = ctx.now().toISOString();
  for (const item of result.items) {
    const existing = await tasks.getSource(item.kind, item.ref);
    const source: TaskSourceRecord = {
      kind: item.kind,
      ref: item.ref,
      taskId: existing?.taskId ?? newTaskId(),
      item: item as unknown as Record<string, unknown>,
      removed: false,
      updatedAt: now,
    };
    if (!existing) {
      const task = taskFromItem(item, source.taskId, now);
      await tasks.insert(task);
      await tasks.upsertSource(source, ownIdentifiers(item.kind, item.identifiers));
      await tasks.audit(task.id, 'created', null, 'todo', { kind: item.kind, ref: item.ref });
      const placed = await placeNewTask(ctx, task, item);
      report[placed]++;
    } else {
      await tasks.upsertSource(source, ownIdentifiers(item.kind, item.identifiers));
      await recombine(ctx, source.taskId);
      report.updated++;
    }
    if (item.closed) await closeAtSource(ctx, source.taskId);
  }
  for (const ref of result.removedRefs) {
    const existing = await tasks.getSource(kind, ref);
    if (!existing || existing.removed) continue;
    await tasks.upsertSource({ ...existing, removed: true, updatedAt: now }, []);
    const task = await recombine(ctx, existing.taskId);
    if (task?.archived) report.archived++;
  }
  await rescoreAll(ctx);
  return report;
}

/** Closed or resolved at the source: done, unless the user already settled it. */
async function closeAtSource(ctx: InboxContext, taskId: string): Promise<void> {
  const task = await ctx.store.tasks.get(taskId);
  if (!task || ['done', 'declined', 'duplicate'].includes(task.state)) return;
  const sources = await ctx.store.tasks.listSources(taskId);
  // A merged task is done when every live source is closed.
  if (!sources.filter((s) => !s.removed).every((s) => (s.item as { closed?: boolean }).closed))
    return;
  const at = ctx.now().toISOString();
  await ctx.store.tasks.save({
    ...task,
    history: pushHistory(task, 'closed_at_source'),
    state: 'done',
    doneAt: at,
    updatedAt: at,
  });
  await ctx.store.tasks.audit(taskId, 'closed_at_source', task.state, 'done');
}
