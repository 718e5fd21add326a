import { randomUUID } from 'node:crypto';
import type { Logger } from '../observability/index.js';
import { watchConnection } from '../queue/index.js';

export type ControlAction = 'cancel' | 'pause' | 'resume' | 'interrupt';

export interface ControlReply {
  ok: boolean;
  /** Error code when the holder refused (e.g. RUN_NOT_ACTIVE). */
  code?: string;
  message?: string;
}

/**
 * Carries cancel/pause/resume/interrupt to the server that holds a run's process. Every
 * server listens; only the holder answers. No answer within the timeout means nobody holds it.
 */
export interface RemoteControl {
  request(action: ControlAction, runId: string, timeoutMs: number): Promise<ControlReply | null>;
  /** `handle` answers for runs this server holds, and returns null for the others. */
  serve(handle: (action: ControlAction, runId: string) => Promise<ControlReply | null>): void;
  ready(): Promise<void>;
  close(): Promise<void>;
}

interface RequestMessage {
  id: string;
  action: ControlAction;
  runId: string;
  replyTo: string;
}

/** Control over Redis pub/sub: requests on one channel, replies on the requester's own. */
export async function createRedisControl(options: {
  url: string;
  prefix: string;
  log: Logger;
}): Promise<RemoteControl> {
  const { Redis } = await import('ioredis');
  const { log } = options;
  const requests = `${options.prefix}:control`;
  const me = `${options.prefix}:control:${randomUUID()}`;
  const pub = new Redis(options.url, { maxRetriesPerRequest: 3 });
  const sub = new Redis(options.url);
  const waiting = new Map<string, (reply: ControlReply) => void>();
  let handler: ((action: ControlAction, runId: string) => Promise<ControlReply | null>) | null =
    null;
  // Logged once when lost and once when back: ioredis emits an error per reconnect attempt.
  watchConnection(pub, log, 'control publisher');
  watchConnection(sub, log, 'control subscriber');
  const subscribed = sub.subscribe(requests, me);
  // Awaited by every request; this only keeps a failure from also being an unhandled rejection.
  subscribed.catch(() => undefined);

  sub.on('message', (channel: string, raw: string) => {
    let message: unknown;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    if (channel === me) {
      const { id, reply } = message as { id: string; reply: ControlReply };
      waiting.get(id)?.(reply);
      return;
    }
    const request = message as RequestMessage;
    if (!handler) return;
    void handler(request.action, request.runId)
      .then((reply) => {
        if (reply) return pub.publish(request.replyTo, JSON.stringify({ id: request.id, reply }));
        return undefined;
      })
      .catch((err: unknown) => log.error({ err, runId: request.runId }, 'control request failed'));
  });

  return {
    async request(action, runId, timeoutMs) {
      await subscribed;
      const id = randomUUID();
      const answered = new Promise<ControlReply | null>((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          resolve(null);
        }, timeoutMs);
        timer.unref();
        waiting.set(id, (reply) => {
          clearTimeout(timer);
          waiting.delete(id);
          resolve(reply);
        });
      });
      const message: RequestMessage = { id, action, runId, replyTo: me };
      await pub.publish(requests, JSON.stringify(message));
      return answered;
    },
    serve(handle) {
      handler = handle;
    },
    async ready() {
      await subscribed;
      await pub.ping();
    },
    async close() {
      handler = null;
      await Promise.all([pub.quit().catch(() => undefined), sub.quit().catch(() => undefined)]);
    },
  };
}
