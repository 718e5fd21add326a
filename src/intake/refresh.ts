import type { TaskRecord } from '../store/index.js';
import type { InboxContext } from './context.js';
import { mentionIdentifiers } from './identifiers.js';
import { proposeHorizon, scoreTask } from './ranking.js';

/** Tasks still asking for attention (not done, declined, a duplicate or archived). */
export const isOpen = (t: TaskRecord): boolean =>
  !t.archived && !['done', 'declined', 'duplicate'].includes(t.state);

/** Resolves every open task's mentions into edges (issue links, mentions, replies). */
export async function resolveEdges(ctx: InboxContext, tasks: readonly TaskRecord[]): Promise<void> {
  for (const task of tasks) {
    if (task.archived || task.state === 'duplicate') continue;
    for (const mention of task.mentions) {
      for (const { value, edge } of mentionIdentifiers(mention)) {
        const targets = await ctx.store.tasks.tasksWithIdentifiers([value]);
        for (const target of targets.keys()) {
          if (target !== task.id) await ctx.store.tasks.addEdge(task.id, target, edge);
        }
      }
    }
  }
}

/**
 * Re-resolves edges and re-scores every task with the learned weights and the clock now;
 * tasks whose score, inputs or proposed horizon changed are saved.
 */
export async function rescoreAll(ctx: InboxContext): Promise<void> {
  const { tasks } = ctx.store;
  const all = await tasks.list();
  await resolveEdges(ctx, all);
  const byId = new Map(all.map((t) => [t.id, t]));
  const blocks = new Map<string, number>();
  for (const e of await tasks.listEdges()) {
    const from = byId.get(e.from);
    if (from && isOpen(from)) blocks.set(e.to, (blocks.get(e.to) ?? 0) + 1);
  }
  const context = {
    now: ctx.now(),
    senderAffinity: await tasks.affinity('sender'),
    sourcePriors: await tasks.affinity('source'),
    blocks,
  };
  for (const task of all) {
    const { score, inputs } = scoreTask(task, context);
    const horizonProposed = proposeHorizon(inputs);
    if (
      score !== task.score ||
      horizonProposed !== task.horizonProposed ||
      JSON.stringify(inputs) !== JSON.stringify(task.scoreInputs)
    ) {
      await tasks.save({ ...task, score, scoreInputs: inputs, horizonProposed });
    }
  }
}
