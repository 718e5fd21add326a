import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RunEvent } from '../contracts/index.js';
import type { Engine } from '../engine/index.js';

const HEARTBEAT_MS = 15_000;

// One serialisation per event when several streams follow a run: fan-out costs a write, not a
// stringify. Not for a run's only stream: a cached frame lives as long as its event, and the
// events that get here were mostly promoted to the old generation while they waited in the
// event writer, so every 64 KiB output frame would be promoted too and wait for a full GC
// (under bench/flood.ts, 12 of the 72 MB promoted in the first 2.5 s).
const frames = new WeakMap<RunEvent, string>();
/** Open event streams per run. */
const streamsByRun = new Map<string, number>();

export function sseFrame(event: RunEvent): string {
  let frame = frames.get(event);
  if (!frame) {
    frame = `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
    if ((streamsByRun.get(event.runId) ?? 0) > 1) frames.set(event, frame);
  }
  return frame;
}

function waitForDrain(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

export function wantsEventStream(request: FastifyRequest): boolean {
  return (request.headers.accept ?? '').includes('text/event-stream');
}

/** Where a stream resumes: `Last-Event-ID` wins over `after` (a reconnecting EventSource). */
export function resumePoint(request: FastifyRequest, after: number): number {
  const header = request.headers['last-event-id'];
  const value = Array.isArray(header) ? header[0] : header;
  if (value !== undefined && /^\d+$/.test(value.trim())) return Number(value.trim());
  return after;
}

/**
 * Streams a run's events as SSE: replay from the resume point, then live, and end after the
 * terminal status event. Slow clients are paced by TCP back-pressure (we wait for `drain`),
 * and the cursor falls back to the store, so a slow client never grows server memory.
 */
export async function streamRunEvents(
  request: FastifyRequest,
  reply: FastifyReply,
  engine: Engine,
  runId: string,
  after: number,
  extraHeaders: Record<string, string>,
  openStreams: Set<() => void>,
): Promise<void> {
  const cursor = await engine.openCursor(runId, after); // throws RUN_NOT_FOUND before we hijack
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    ...extraHeaders,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': request.id,
  });
  res.write('retry: 2000\n\n');
  let closed = false;
  streamsByRun.set(runId, (streamsByRun.get(runId) ?? 0) + 1);
  const stop = (): void => {
    if (closed) return;
    closed = true;
    const streams = (streamsByRun.get(runId) ?? 1) - 1;
    if (streams > 0) streamsByRun.set(runId, streams);
    else streamsByRun.delete(runId);
    cursor.close();
    clearInterval(heartbeat);
    openStreams.delete(stop);
    if (!res.writableEnded) res.end();
  };
  openStreams.add(stop);
  res.on('close', stop);
  const heartbeat = setInterval(() => {
    if (!closed) res.write(': keep-alive\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();

  try {
    for (;;) {
      const batch = await cursor.next();
      if (!batch || closed) break;
      for (const event of batch) {
        if (closed) break;
        // Wait per event: a batch of 64 KiB outputs must not pile up in the socket buffer.
        if (!res.write(sseFrame(event))) await waitForDrain(res);
      }
    }
  } catch (err) {
    request.log.error({ err, runId }, 'event stream failed');
  } finally {
    stop();
  }
}
