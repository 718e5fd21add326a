import { connect, type Socket } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { Run } from '../contracts/index.js';
import { createDomainEvents, type DomainEvents } from '../engine/index.js';
import { createSilentLogger } from '../observability/index.js';
import {
  createLiveFeed,
  LIVE_MAX_QUEUED_BYTES,
  LIVE_MAX_QUEUED_FRAMES,
  type LiveFeed,
} from './live-events.js';

const run = (id: string, extra: Partial<Run> = {}): Run =>
  ({ id, status: 'running', parentId: null, conversationId: null, repoId: null, ...extra }) as Run;

let app: FastifyInstance | undefined;
const sockets: Socket[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await app?.close();
  app = undefined;
});

async function serve(): Promise<{ events: DomainEvents; feed: LiveFeed; port: number }> {
  const events = createDomainEvents(createSilentLogger());
  const feed = createLiveFeed({ events, complete: true, extraHeaders: {}, openStreams: new Set() });
  app = Fastify();
  app.get('/v1/events', async (request, reply) => {
    const q = request.query as { runId?: string };
    feed.stream(request, reply, q.runId ? { runId: q.runId } : {});
    return reply;
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { events, feed, port };
}

/** A client on a raw socket, so the test decides when it reads. */
function rawClient(port: number, path: string): { socket: Socket; text: () => string } {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (text += chunk));
  socket.write(`GET ${path} HTTP/1.1\r\nhost: x\r\naccept: text/event-stream\r\n\r\n`);
  return { socket, text: () => text };
}

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('live feed', () => {
  it('keeps a stalled client to a bounded backlog and tells it what it missed', async () => {
    const { events, feed, port } = await serve();
    const client = rawClient(port, '/v1/events');
    await until(() => client.text().includes('event: ready'), 'the ready message');
    client.socket.pause(); // stops reading: the kernel buffers fill, then ours would
    const big = 'x'.repeat(16 * 1024);
    let maxBacklog = 0;
    // ~64 MB of frames: far beyond every buffer on the way if nothing bounded them.
    for (let i = 0; i < 4000; i++) {
      events.emit('runStarted', { run: run(`run_${i}`, { prompt: big }) });
      maxBacklog = Math.max(maxBacklog, feed.backlogBytes());
      if (i % 200 === 0) await new Promise((r) => setImmediate(r));
    }
    // Our queue plus what Node keeps above the socket (one frame over its high-water mark).
    expect(maxBacklog).toBeLessThan(LIVE_MAX_QUEUED_BYTES + 2 * (big.length + 1024) + 64 * 1024);
    expect(LIVE_MAX_QUEUED_FRAMES).toBeGreaterThan(0);
    events.emit('runFinished', {
      run: run('run_last', { status: 'succeeded' }),
      status: 'succeeded',
    });
    client.socket.resume();
    await until(() => client.text().includes('event: overflow'), 'the overflow message');
    await until(() => client.text().includes('"id":"run_last"'), 'the events after the gap');
    const text = client.text();
    expect(text.indexOf('event: overflow')).toBeLessThan(text.indexOf('"id":"run_last"'));
    // Far fewer than the 4000 sent: the rest were dropped, not kept.
    expect(text.split('event: runStarted').length - 1).toBeLessThan(1000);
    expect(feed.clientCount()).toBe(1);
    client.socket.destroy();
    await until(() => feed.clientCount() === 0, 'the stream to close with its socket');
  }, 60_000);

  it('sends each client only what its filter passes', async () => {
    const { events, port } = await serve();
    const all = rawClient(port, '/v1/events');
    const one = rawClient(port, '/v1/events?runId=run_b');
    await until(
      () => all.text().includes('event: ready') && one.text().includes('event: ready'),
      'both streams',
    );
    events.emit('runCreated', { run: run('run_a') });
    events.emit('runCreated', { run: run('run_b') });
    await until(() => all.text().includes('"id":"run_b"'), 'run_b on the unfiltered stream');
    await until(() => one.text().includes('"id":"run_b"'), 'run_b on the filtered stream');
    expect(all.text()).toContain('"id":"run_a"');
    expect(one.text()).not.toContain('"id":"run_a"');
  });
});
