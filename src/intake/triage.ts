import { PatchbayError, type Horizon, type TaskState } from '../contracts/index.js';
import { pushHistory, type LearnedStep, type TaskRecord } from '../store/index.js';
import type { InboxContext } from './context.js';
import { mergeTasks, undoMerge } from './ingest.js';
import { rescoreAll } from './refresh.js';
import { senderOf } from './ranking.js';

/**
 * Triage: accept, snooze, decline, complete, mark a duplicate, override the horizon, and undo
 * them one by one, newest first, exactly (the fields before each are kept in `history`). Each change is an
 * audit event. Completing, declining and snoozing teach the ranking: the sender's affinity
 * and the source's prior move a little (and move back on undo).
 */
export type TriageAction =
  | { action: 'accept' }
  | { action: 'snooze'; until: string }
  | { action: 'decline' }
  | { action: 'complete' }
  | { action: 'duplicate'; of: string }
  | { action: 'horizon'; horizon: Horizon | null }
  | { action: 'undo' };

/** How far one action moves the sender's affinity and the source's prior. */
export const LEARNING: Record<string, { sender: number; source: number }> = {
  complete: { sender: 0.5, source: 0.2 },
  accept: { sender: 0.25, source: 0.1 },
  decline: { sender: -0.5, source: -0.2 },
  snooze: { sender: -0.1, source: -0.05 },
};

/** Moves the sender's and source's weights for `action`; returns how far each really moved. */
async function learn(ctx: InboxContext, task: TaskRecord, action: string): Promise<LearnedStep[]> {
  const step = LEARNING[action];
  if (!step) return [];
  const moved: LearnedStep[] = [];
  const sender = senderOf(task);
  if (sender) {
    const delta = await ctx.store.tasks.adjustAffinity('sender', sender, step.sender);
    moved.push({ scope: 'sender', key: sender, delta });
  }
  const delta = await ctx.store.tasks.adjustAffinity('source', task.kind, step.source);
  moved.push({ scope: 'source', key: task.kind, delta });
  return moved;
}

/**
 * Moves learned weights back by what the action moved them (not by its nominal step: a
 * weight the bound stopped short comes back to exactly where it was).
 */
async function unlearn(ctx: InboxContext, steps: readonly LearnedStep[]): Promise<void> {
  for (const s of steps) {
    if (s.delta !== 0) await ctx.store.tasks.adjustAffinity(s.scope, s.key, -s.delta);
  }
}

function invalid(message: string, details?: Record<string, unknown>): PatchbayError {
  return new PatchbayError('INBOX_TRIAGE_INVALID', message, details);
}

export async function getTaskOrThrow(ctx: InboxContext, id: string): Promise<TaskRecord> {
  const task = await ctx.store.tasks.get(id);
  if (!task) throw new PatchbayError('INBOX_TASK_NOT_FOUND', `no inbox task ${id}`, { id });
  return task;
}

/** Applies a triage action; resolves with the task as it is afterwards. */
export async function triage(
  ctx: InboxContext,
  id: string,
  change: TriageAction,
): Promise<TaskRecord> {
  const { tasks } = ctx.store;
  const task = await getTaskOrThrow(ctx, id);
  const now = ctx.now().toISOString();

  if (change.action === 'undo') {
    if (task.state === 'duplicate') {
      const merge = (await tasks.listMerges(id))
        .filter((m) => m.fromTaskId === id && !m.undoneAt)
        .at(-1);
      if (merge) {
        await undoMerge(ctx, merge.id);
        await rescoreAll(ctx);
        return getTaskOrThrow(ctx, id);
      }
    }
    const previous = task.history.at(-1);
    if (!previous) throw invalid(`task ${id} has nothing to undo`, { id });
    const { action, learned, ...restored } = previous;
    await tasks.save({ ...task, ...restored, history: task.history.slice(0, -1), updatedAt: now });
    await tasks.audit(id, 'undo', task.state, restored.state, { undid: action ?? null });
    if (learned) await unlearn(ctx, learned);
    await rescoreAll(ctx);
    return getTaskOrThrow(ctx, id);
  }

  if (change.action === 'duplicate') {
    if (change.of === id) throw invalid('a task cannot duplicate itself', { id });
    const into = await getTaskOrThrow(ctx, change.of);
    if (into.state === 'duplicate')
      throw invalid(`task ${into.id} is itself a duplicate`, { of: into.id });
    await mergeTasks(ctx, id, into.id, 'manual', null);
    await rescoreAll(ctx);
    return getTaskOrThrow(ctx, id);
  }

  if (task.state === 'duplicate') {
    throw invalid(`task ${id} is a duplicate of ${task.duplicateOf}: triage that one, or undo`, {
      id,
    });
  }
  let next: Partial<TaskRecord>;
  let to: TaskState = task.state;
  switch (change.action) {
    case 'accept':
      next = { state: (to = 'accepted'), snoozedUntil: null };
      break;
    case 'snooze':
      if (Date.parse(change.until) <= ctx.now().getTime()) {
        throw invalid('snooze until a time in the future', { until: change.until });
      }
      next = { state: (to = 'snoozed'), snoozedUntil: new Date(change.until).toISOString() };
      break;
    case 'decline':
      next = { state: (to = 'declined'), snoozedUntil: null };
      break;
    case 'complete':
      if (task.state === 'done') throw invalid(`task ${id} is already done`, { id });
      next = { state: (to = 'done'), snoozedUntil: null, doneAt: now };
      break;
    case 'horizon':
      next = { horizonOverride: change.horizon };
      break;
  }
  const learned = await learn(ctx, task, change.action);
  await tasks.save({
    ...task,
    ...next,
    history: pushHistory(task, change.action, learned),
    updatedAt: now,
  });
  await tasks.audit(
    id,
    change.action,
    task.state,
    to,
    change.action === 'snooze'
      ? { until: change.until }
      : change.action === 'horizon'
        ? { horizon: change.horizon }
        : undefined,
  );
  await rescoreAll(ctx);
  return getTaskOrThrow(ctx, id);
}
