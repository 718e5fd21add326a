import type { Run, TerminalStatus } from '../contracts/index.js';
import type { Logger } from '../observability/index.js';

/**
 * What happens to runs, as the engine's systems announce it to the rest of the process (the
 * dashboard, MCP, channels, the optimizer). Distinct from a run's own stream of output events:
 * these are facts about its life, one per transition, in the order they were stored.
 */
export interface DomainEventMap {
  runCreated: { run: Run };
  runStarted: { run: Run };
  runPaused: { run: Run };
  runResumed: { run: Run };
  /** Queued again as its next attempt (lost worker, drain). */
  runRequeued: { run: Run; reason: string };
  runFinished: { run: Run; status: TerminalStatus };
  /** An optimization's propose stage succeeded: its proposals are stored. */
  proposalCreated: { optimizationId: string; run: Run };
  /** A reaction's try ended (see reactions/). */
  reactionSettled: {
    runId: string;
    reaction: string;
    attempt: number;
    outcome: 'succeeded' | 'retrying' | 'failed';
  };
}

export type DomainEventName = keyof DomainEventMap;
export type DomainListener<K extends DomainEventName> = (
  event: DomainEventMap[K],
) => void | Promise<void>;

export interface DomainEvents {
  /** Subscribes; returns the unsubscribe. A listener's failure is logged, never thrown back. */
  on<K extends DomainEventName>(name: K, listener: DomainListener<K>): () => void;
  /**
   * Calls every listener of `name`, in subscription order, without waiting for them: the
   * system that emits is never slowed or failed by a subscriber. Durable work belongs in a
   * reaction, not here: a crash loses what listeners had not done.
   */
  emit<K extends DomainEventName>(name: K, event: DomainEventMap[K]): void;
  /** Resolves once every listener started so far has settled (shutdown waits for this). */
  settled(): Promise<void>;
}

export function createDomainEvents(log: Logger): DomainEvents {
  const listeners = new Map<DomainEventName, Set<DomainListener<never>>>();
  const inFlight = new Set<Promise<void>>();
  const failed = (name: string) => (err: unknown) =>
    log.error({ err, event: name }, 'a domain event listener failed');
  return {
    on(name, listener) {
      let set = listeners.get(name);
      if (!set) listeners.set(name, (set = new Set()));
      set.add(listener as DomainListener<never>);
      return () => set.delete(listener as DomainListener<never>);
    },
    emit(name, event) {
      for (const listener of listeners.get(name) ?? []) {
        try {
          const result = (listener as DomainListener<typeof name>)(event);
          if (result instanceof Promise) {
            const p = result.catch(failed(name));
            inFlight.add(p);
            void p.finally(() => inFlight.delete(p));
          }
        } catch (err) {
          failed(name)(err);
        }
      }
    },
    async settled() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },
  };
}
