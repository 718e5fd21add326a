import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { LiveEvent, LiveEventsQuery, Run } from '../contracts/index.js';
import { onLiveEvents, onRemoteLiveEvents, type Broadcast, type Engine } from '../engine/index.js';

const HEARTBEAT_MS = 15_000;
/**
 * What one client may have waiting on top of the socket's own buffer (16 KiB) while it does
 * not read: past either bound its backlog is dropped and it gets one `overflow` message when it
 * drains, so a stalled client costs at most this much memory, however much happens meanwhile.
 */
export const LIVE_MAX_QUEUED_FRAMES = 64;
export const LIVE_MAX_QUEUED_BYTES = 256 * 1024;

interface Client {
  readonly res: ServerResponse;
  readonly filter: LiveEventsQuery;
  queue: string[];
  queuedBytes: number;
  overflowed: boolean;
}

export interface LiveFeed {
  /** Answers the request with the SSE stream until the client leaves or the server stops. */
  stream(request: FastifyRequest, reply: FastifyReply, filter: LiveEventsQuery): void;
  /** Open streams. */
  clientCount(): number;
  /** Bytes waiting for slow clients: in our queues and in their sockets' buffers. */
  backlogBytes(): number;
}

function matches(client: Client, event: LiveEvent): boolean {
  const f = client.filter;
  const run: Run = event.run;
  if (f.types && !f.types.includes(event.type)) return false;
  if (f.runId && run.id !== f.runId) return false;
  if (f.parentId && run.parentId !== f.parentId) return false;
  if (f.conversationId && run.conversationId !== f.conversationId) return false;
  if (f.repoId && run.repoId !== f.repoId) return false;
  return true;
}

function write(client: Client, frame: string): void {
  const { res } = client;
  if (res.writableEnded || res.destroyed) return;
  if (!res.writableNeedDrain && client.queue.length === 0 && !client.overflowed) {
    res.write(frame);
    return;
  }
  client.queue.push(frame);
  client.queuedBytes += frame.length;
  if (client.queue.length > LIVE_MAX_QUEUED_FRAMES || client.queuedBytes > LIVE_MAX_QUEUED_BYTES) {
    client.queue = [];
    client.queuedBytes = 0;
    client.overflowed = true;
  }
}

function flush(client: Client): void {
  const { res } = client;
  if (client.overflowed) {
    client.overflowed = false;
    if (!res.write('event: overflow\ndata: {}\n\n')) return;
  }
  while (client.queue.length > 0) {
    const frame = client.queue.shift()!;
    client.queuedBytes -= frame.length;
    if (!res.write(frame)) return;
  }
}

/**
 * The server's live feed of the engine's domain events (run created, started, paused, resumed,
 * requeued, finished; proposals stored) to `GET /v1/events` clients. Each event is serialised
 * once, for the clients whose filter it passes. With Redis scale-out, the other processes'
 * events arrive relayed over the bus's broadcast channel (src/engine/live-events.ts), so a run
 * that moves on another node's worker is announced here too (`complete`).
 */
export function createLiveFeed(options: {
  events: Engine['events'];
  /** Whether every run's transitions happen in this process (no shared queue). */
  complete: boolean;
  /** The channel the installation's processes relay their live events on (Redis), if any. */
  relay?: { broadcast: Broadcast; instanceId: string };
  extraHeaders: Record<string, string>;
  openStreams: Set<() => void>;
}): LiveFeed {
  const clients = new Set<Client>();
  const publish = (event: LiveEvent): void => {
    if (clients.size === 0) return;
    let frame: string | undefined;
    for (const client of clients) {
      if (!matches(client, event)) continue;
      frame ??= `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
      write(client, frame);
    }
  };
  // For the server's life: the feed is made once, with the routes.
  onLiveEvents(options.events, publish);
  if (options.relay) onRemoteLiveEvents(options.relay.broadcast, options.relay.instanceId, publish);
  const complete = options.complete || options.relay !== undefined;

  return {
    stream(request, reply, filter) {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        ...options.extraHeaders,
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-request-id': request.id,
      });
      const client: Client = { res, filter, queue: [], queuedBytes: 0, overflowed: false };
      res.write('retry: 2000\n\n');
      res.write(`event: ready\ndata: ${JSON.stringify({ complete })}\n\n`);
      clients.add(client);
      const heartbeat = setInterval(() => write(client, ': keep-alive\n\n'), HEARTBEAT_MS);
      heartbeat.unref();
      const onDrain = (): void => flush(client);
      res.on('drain', onDrain);
      const stop = (): void => {
        if (!clients.delete(client)) return;
        clearInterval(heartbeat);
        res.off('drain', onDrain);
        options.openStreams.delete(stop);
        client.queue = [];
        if (!res.writableEnded) res.end();
      };
      options.openStreams.add(stop);
      res.on('close', stop);
    },
    clientCount: () => clients.size,
    backlogBytes() {
      let bytes = 0;
      for (const c of clients) bytes += c.queuedBytes + c.res.writableLength;
      return bytes;
    },
  };
}
