/**
 * The embedded dispatcher: a FIFO of run ids and a global concurrency limit. `start` is
 * called for each run that gets a slot; the slot is held until its promise settles.
 */
export interface Dispatcher {
  enqueue(runId: string): void;
  /** Removes a waiting run; false when it was not waiting. */
  remove(runId: string): boolean;
  isWaiting(runId: string): boolean;
  stats(): { running: number; waiting: number; limit: number };
  /** Stops starting new runs (waiting ones stay queued). */
  close(): void;
}

export function createDispatcher(options: {
  limit: number;
  start: (runId: string) => Promise<void>;
  onChange?: (stats: { running: number; waiting: number }) => void;
}): Dispatcher {
  // A Set keeps insertion order: FIFO with O(1) removal.
  const waiting = new Set<string>();
  let running = 0;
  let closed = false;

  const notify = (): void => options.onChange?.({ running, waiting: waiting.size });

  const pump = (): void => {
    while (!closed && running < options.limit && waiting.size > 0) {
      const next = waiting.values().next().value as string;
      waiting.delete(next);
      running++;
      void options
        .start(next)
        .catch(() => undefined) // start() reports its own failures
        .finally(() => {
          running--;
          notify();
          pump();
        });
    }
    notify();
  };

  return {
    enqueue(runId) {
      if (waiting.has(runId)) return;
      waiting.add(runId);
      pump();
    },
    remove(runId) {
      const had = waiting.delete(runId);
      if (had) notify();
      return had;
    },
    isWaiting: (runId) => waiting.has(runId),
    stats: () => ({ running, waiting: waiting.size, limit: options.limit }),
    close() {
      closed = true;
    },
  };
}
