import { createInbox } from '../../intake/index.js';
import type { EngineResources } from '../systems/resources.js';
import type { Reaction } from './types.js';

/** Runs started from an inbox task (`POST /v1/tasks/:id/run`) carry this origin. */
export const INBOX_RUN_ORIGIN = 'inbox';

/**
 * A run started from an inbox task updates the task when it ends: the pull request it opened
 * (when its delivery made one) and, if asked, done on success. A run that delivers waits for
 * its delivery to settle first, so the link is there; the task row is written just after the
 * run is created, so a run that ended first finds it on the next try.
 */
export function inboxTaskReaction(res: Pick<EngineResources, 'store' | 'log'>): Reaction {
  const inbox = createInbox({ store: res.store, log: res.log });
  return {
    name: 'inbox-task',
    appliesTo: (record) => record.origin === INBOX_RUN_ORIGIN,
    maxAttempts: 8,
    backoffMs: 1000,
    async perform({ record, log }) {
      const task = await res.store.tasks.findByRun(record.id);
      if (!task) throw new Error(`no inbox task linked to run ${record.id} yet`);
      const delivery =
        record.deliver !== 'none' ? await res.store.deliveries.get(record.id) : undefined;
      if (
        record.deliver !== 'none' &&
        record.status === 'succeeded' &&
        !delivery?.pullRequest &&
        !record.deliveryError &&
        record.deliver !== 'branch'
      ) {
        throw new Error(`run ${record.id}: its delivery has not settled yet`);
      }
      const next = await inbox.runEnded(record.id, {
        succeeded: record.status === 'succeeded',
        prUrl: delivery?.pullRequest?.url ?? null,
      });
      log.info({ taskId: next?.id, state: next?.state }, 'inbox task updated by its run');
    },
  };
}
