import type { RunEvent } from '../contracts/index.js';

export type EventListener = (events: RunEvent[]) => void;

/**
 * Live fan-out of durable events. Publishers call `publish` only after the batch is in the
 * store, so a subscriber that misses something can always read it back by seq.
 */
export interface EventBus {
  publish(events: RunEvent[]): void;
  subscribe(runId: string, listener: EventListener): () => void;
  subscriberCount(runId: string): number;
  /**
   * Resolves once events published from now on reach this node's listeners of `runId`. A
   * cursor waits for it before its first read of the store, or an event published between
   * that read and a remote subscription taking effect would be in neither. Local: at once.
   */
  whenSubscribed?(runId: string): Promise<void>;
  /** Present when the bus spans processes (Redis): a channel every process hears. */
  broadcast?: Broadcast;
}

/**
 * One channel shared by every process of an installation: what one sends, all hear (itself
 * included, so a listener skips its own messages). Fire and forget, no replay: for live views
 * that re-read the store when they reconnect, never for work that must happen.
 */
export interface Broadcast {
  send(message: string): void;
  listen(listener: (message: string) => void): () => void;
}

/** The single-machine bus: in-process, synchronous, no copies. */
export function createLocalEventBus(): EventBus {
  const listeners = new Map<string, Set<EventListener>>();
  return {
    publish(events) {
      if (events.length === 0 || listeners.size === 0) return;
      // Group once per batch so each listener gets one call per run.
      const byRun = new Map<string, RunEvent[]>();
      for (const e of events) {
        if (!listeners.has(e.runId)) continue;
        let list = byRun.get(e.runId);
        if (!list) byRun.set(e.runId, (list = []));
        list.push(e);
      }
      for (const [runId, list] of byRun) {
        for (const listener of listeners.get(runId) ?? []) listener(list);
      }
    },
    subscribe(runId, listener) {
      let set = listeners.get(runId);
      if (!set) listeners.set(runId, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(runId);
      };
    },
    subscriberCount(runId) {
      return listeners.get(runId)?.size ?? 0;
    },
  };
}
