import { readFile } from 'node:fs/promises';
import {
  isTerminalStatus,
  PatchbayError,
  type ListRunsQuery,
  type RunEvent,
  type RunEventList,
  type RunReaction,
} from '../../contracts/index.js';
import { toRun } from '../../store/index.js';
import type { Dispatcher } from '../dispatcher.js';
import { EventCursor, isTerminalEvent, type EventCursorOptions } from '../event-cursor.js';
import type { createRunWorkspaces } from '../run-workspaces.js';
import type { WorkerInfo } from './recovery.js';
import { getRecord, type EngineResources } from './resources.js';

const LIST_EVENTS_MAX_BYTES = 4 * 1024 * 1024;

/** Reads: runs, their events (paged and followed), diffs, deliveries, reactions, metrics. */
export function createQueries(
  res: EngineResources,
  deps: {
    dispatcher: Dispatcher;
    workspaces: ReturnType<typeof createRunWorkspaces>;
    listWorkers: () => Promise<WorkerInfo[]>;
  },
) {
  const { store, metrics, bus } = res;
  const { dispatcher, workspaces, listWorkers } = deps;

  async function listRuns(query: ListRunsQuery) {
    const records = await store.runs.list({
      statuses: query.status,
      limit: query.limit + 1,
      before: query.cursor,
      scheduleId: query.scheduleId,
      triggerId: query.triggerId,
      kind: query.kind,
      parentId: query.parentId,
      repoId: query.repoId,
      conversationId: query.conversationId,
      agent: query.agent,
      // Stored as toISOString() text: compare in the same form, whatever offset was given.
      createdAfter: query.createdAfter && new Date(query.createdAfter).toISOString(),
      createdBefore: query.createdBefore && new Date(query.createdBefore).toISOString(),
    });
    const page = records.slice(0, query.limit);
    return {
      runs: page.map(toRun),
      nextCursor: records.length > query.limit ? page[page.length - 1]!.id : null,
    };
  }

  async function listEvents(id: string, after: number, limit: number): Promise<RunEventList> {
    const record = await getRecord(res, id);
    // A page stops at `limit` events or ~4 MiB of text, whichever comes first: 5 000
    // output events of 64 KiB would otherwise make a 300 MB response.
    const events: RunEvent[] = [];
    let bytes = 0;
    let cursor = after;
    let cut = false;
    while (events.length < limit) {
      const page = await store.events.list(id, cursor, Math.min(100, limit - events.length));
      for (const e of page) {
        const size = typeof e.data.text === 'string' ? e.data.text.length : 0;
        if (events.length > 0 && bytes + size > LIST_EVENTS_MAX_BYTES) {
          cut = true;
          break;
        }
        events.push(e);
        bytes += size;
      }
      if (cut || page.length === 0) break;
      cursor = page[page.length - 1]!.seq;
    }
    const lastSeq = events.length > 0 ? events[events.length - 1]!.seq : after;
    const done =
      isTerminalStatus(record.status) &&
      (events.some(isTerminalEvent) ||
        (!cut && events.length < limit && lastSeq >= record.lastSeq));
    return { events, lastSeq, done };
  }

  async function openCursor(id: string, after: number, cursorOptions?: EventCursorOptions) {
    const record = await getRecord(res, id);
    // A client resuming at (or past) the terminal event, like an EventSource reconnecting
    // after the server closed the stream, must get an ended stream, not a silent wait.
    let ended = false;
    if (after > 0 && isTerminalStatus(record.status)) {
      const [atResume] = await store.events.list(id, after - 1, 1);
      ended = after >= record.lastSeq || (atResume !== undefined && isTerminalEvent(atResume));
    }
    return new EventCursor(
      { bus, read: (runId, a, limit) => store.events.list(runId, a, limit) },
      id,
      after,
      { ...cursorOptions, ended },
    );
  }

  async function changedFilesOf(id: string) {
    const record = await getRecord(res, id);
    if (!record.changedFiles) throw new PatchbayError('RUN_DIFF_NOT_AVAILABLE', undefined, { id });
    return record.changedFiles;
  }

  /** The run's reactions with every try, oldest first. */
  async function listReactions(id: string): Promise<RunReaction[]> {
    await getRecord(res, id);
    const reactions = await store.reactions.listForRun(id);
    return Promise.all(
      reactions.map(async (r) => ({
        id: r.id,
        name: r.name,
        status: r.status,
        attempts: (await store.reactions.listAttempts(r.id)).map((a) => ({
          attempt: a.attempt,
          outcome: a.outcome,
          error: a.error,
          startedAt: a.startedAt,
          finishedAt: a.finishedAt,
        })),
        lastError: r.lastError,
        nextAttemptAt: r.status === 'pending' ? r.leaseUntil : null,
        createdAt: r.createdAt,
        finishedAt: r.finishedAt,
      })),
    );
  }

  async function refreshMetrics(): Promise<void> {
    const counts = await store.runs.countByStatus();
    const queued = await dispatcher.stats();
    metrics.queueRunning.set(queued.running);
    metrics.queueWaiting.set(queued.waiting);
    metrics.runsByStatus.reset();
    for (const [status, n] of Object.entries(counts)) metrics.runsByStatus.set({ status }, n);
    metrics.queueJobs.reset();
    for (const [name, c] of Object.entries(await dispatcher.queueCounts())) {
      for (const [state, n] of Object.entries(c)) metrics.queueJobs.set({ queue: name, state }, n);
    }
    metrics.workers.reset();
    metrics.workerRuns.reset();
    const byRoleState = new Map<string, number>();
    for (const w of await listWorkers()) {
      const key = `${w.role}\0${w.state}`;
      byRoleState.set(key, (byRoleState.get(key) ?? 0) + 1);
      if (w.state === 'active' || w.state === 'draining') {
        metrics.workerRuns.set({ worker: w.id, hostname: w.hostname }, w.running.length);
      }
    }
    for (const [key, n] of byRoleState) {
      const [r, st] = key.split('\0') as [string, string];
      metrics.workers.set({ role: r, state: st }, n);
    }
  }

  return {
    async getRun(id: string) {
      return toRun(await getRecord(res, id));
    },
    listRuns,
    listEvents,
    openCursor,
    subscribe: bus.subscribe.bind(bus),
    async getDiff(id: string) {
      await changedFilesOf(id);
      return readFile(workspaces.diffPath(id), 'utf8');
    },
    getChangedFiles: changedFilesOf,
    async listDeliveries(id: string) {
      await getRecord(res, id);
      return store.callbacks.listForRun(id);
    },
    listReactions,
    refreshMetrics,
  };
}
