import type { FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import type { Logger } from '../../../observability/index.js';

/** Live feeds of cursor-runner conversations, one topic per (kind, conversation). */
export interface FeedHub {
  subscribe(topic: string, socket: WebSocket): () => void;
  publish(topic: string, message: Record<string, unknown>): void;
  /** Whether anyone listens (saves building a conversation nobody will see). */
  has(topic: string): boolean;
  closeAll(): void;
}

export const conversationTopic = (id: string): string => `conversation:${id}`;
export const agentTopic = (id: string): string => `agent_conversation:${id}`;

export function createFeedHub(log: Logger): FeedHub {
  const topics = new Map<string, Set<WebSocket>>();
  return {
    subscribe(topic, socket) {
      const set = topics.get(topic) ?? new Set<WebSocket>();
      set.add(socket);
      topics.set(topic, set);
      return () => {
        set.delete(socket);
        if (set.size === 0 && topics.get(topic) === set) topics.delete(topic);
      };
    },
    publish(topic, message) {
      const set = topics.get(topic);
      if (!set) return;
      const text = JSON.stringify(message);
      for (const socket of set) {
        if (socket.readyState !== socket.OPEN) continue;
        socket.send(text, (err) => {
          if (err) log.debug({ err, topic }, 'cursor-runner feed: send failed');
        });
      }
    },
    has: (topic) => (topics.get(topic)?.size ?? 0) > 0,
    closeAll() {
      for (const set of topics.values()) for (const socket of set) socket.close(1001);
      topics.clear();
    },
  };
}

/**
 * The WebSocket feeds: `/api/ws` and `/conversations/api/ws` follow a conversation,
 * `/api/agent/ws` and `/agent-conversations/api/ws` an agent conversation, named by
 * `?conversationId=` (or `?id=`). A snapshot first, then every update; `{type:'error'}` when
 * the conversation does not exist.
 */
export function registerFeeds(
  app: FastifyInstance,
  hub: FeedHub,
  snapshot: (kind: 'conversation' | 'agent', id: string) => Promise<unknown>,
  openStreams: Set<() => void>,
): void {
  const routes: [string, 'conversation' | 'agent'][] = [
    ['/api/ws', 'conversation'],
    ['/conversations/api/ws', 'conversation'],
    ['/api/agent/ws', 'agent'],
    ['/agent-conversations/api/ws', 'agent'],
  ];
  for (const [path, kind] of routes) {
    app.get(path, { websocket: true, schema: { hide: true } }, (socket, request) => {
      const query = request.query as Record<string, string | undefined>;
      const id = query.conversationId ?? query.id;
      if (!id) {
        socket.send(JSON.stringify({ type: 'error', error: 'Missing conversationId' }));
        socket.close(1008, 'Missing conversationId');
        return;
      }
      const topic = kind === 'agent' ? agentTopic(id) : conversationTopic(id);
      const unsubscribe = hub.subscribe(topic, socket);
      const stop = (): void => socket.close(1001);
      openStreams.add(stop);
      socket.on('close', () => {
        unsubscribe();
        openStreams.delete(stop);
      });
      void snapshot(kind, id).then(
        (conversation) => {
          const prefix = kind === 'agent' ? 'agent_conversation' : 'conversation';
          socket.send(
            JSON.stringify(
              conversation
                ? { type: `${prefix}.snapshot`, conversationId: id, conversation }
                : {
                    type: 'error',
                    error: `${kind === 'agent' ? 'Agent conversation' : 'Conversation'} not found`,
                    conversationId: id,
                  },
            ),
          );
        },
        (err: unknown) =>
          socket.send(JSON.stringify({ type: 'error', error: (err as Error).message })),
      );
    });
  }
}
