import type { RunEvent } from '../contracts/index.js';
import type { Logger } from '../observability/index.js';
import type { Broadcast, EventBus, EventListener } from './event-bus.js';
import { watchConnection } from '../queue/index.js';

export interface RedisEventBus extends EventBus {
  broadcast: Broadcast;
  whenSubscribed(runId: string): Promise<void>;
  /** Resolves once the subscriber connection is ready. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The multi-machine bus: each batch is published on a Redis channel per run, and a node
 * subscribes to a run's channel while it has local listeners. Events are in the store before
 * they are published, so a subscriber that misses a message (a reconnect) reads the gap back
 * by seq, as the EventCursor does for any gap. Local listeners get their events from Redis
 * too (one path, one order), not from the publishing call.
 */
export async function createRedisEventBus(options: {
  url: string;
  log: Logger;
  /** Channel prefix, so several installations can share one server. */
  prefix?: string;
}): Promise<RedisEventBus> {
  // Loaded on demand: a server without Redis never pays for ioredis in memory.
  const { Redis } = await import('ioredis');
  const prefix = options.prefix ?? 'patchbay';
  const channelOf = (runId: string): string => `${prefix}:events:${runId}`;
  const broadcastChannel = `${prefix}:broadcast`;
  const heard = new Set<(message: string) => void>();
  const pub = new Redis(options.url, { maxRetriesPerRequest: 3 });
  const sub = new Redis(options.url);
  const listeners = new Map<string, Set<EventListener>>();
  /** The SUBSCRIBE command of each run with local listeners. */
  const subscriptions = new Map<string, Promise<void>>();
  const log = options.log;

  // Logged once when lost and once when back: ioredis emits an error per reconnect attempt.
  watchConnection(pub, log, 'event bus publisher');
  watchConnection(sub, log, 'event bus subscriber');
  // Subscribed for the bus's whole life: `ready()` waits for it with the pings.
  const broadcastSubscribed = sub.subscribe(broadcastChannel);
  sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
    if (channel.toString() === broadcastChannel) {
      const text = message.toString('utf8');
      for (const listener of heard) listener(text);
      return;
    }
    const runId = channel.toString().slice(prefix.length + ':events:'.length);
    const set = listeners.get(runId);
    if (!set || set.size === 0) return;
    let events: RunEvent[];
    try {
      events = JSON.parse(message.toString('utf8')) as RunEvent[];
    } catch (err) {
      log.error({ err, runId }, 'unreadable event message');
      return;
    }
    for (const listener of set) listener(events);
  });

  return {
    broadcast: {
      send(message) {
        pub
          .publish(broadcastChannel, message)
          .catch((err: unknown) => log.warn({ err }, 'could not broadcast'));
      },
      listen(listener) {
        heard.add(listener);
        return () => heard.delete(listener);
      },
    },
    publish(events) {
      if (events.length === 0) return;
      const byRun = new Map<string, RunEvent[]>();
      for (const e of events) {
        let list = byRun.get(e.runId);
        if (!list) byRun.set(e.runId, (list = []));
        list.push(e);
      }
      for (const [runId, list] of byRun) {
        pub
          .publish(channelOf(runId), JSON.stringify(list))
          .catch((err: unknown) => log.warn({ err, runId }, 'could not publish events'));
      }
    },
    subscribe(runId, listener) {
      let set = listeners.get(runId);
      if (!set) {
        listeners.set(runId, (set = new Set()));
        subscriptions.set(
          runId,
          sub.subscribe(channelOf(runId)).then(
            () => undefined,
            (err: unknown) => log.warn({ err, runId }, 'could not subscribe to events'),
          ),
        );
      }
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0 && listeners.get(runId) === set) {
          listeners.delete(runId);
          subscriptions.delete(runId);
          sub.unsubscribe(channelOf(runId)).catch(() => undefined);
        }
      };
    },
    subscriberCount(runId) {
      return listeners.get(runId)?.size ?? 0;
    },
    whenSubscribed(runId) {
      return subscriptions.get(runId) ?? Promise.resolve();
    },
    async ready() {
      await Promise.all([pub.ping(), sub.ping(), broadcastSubscribed]);
    },
    async close() {
      listeners.clear();
      heard.clear();
      await Promise.all([pub.quit().catch(() => undefined), sub.quit().catch(() => undefined)]);
    },
  };
}
