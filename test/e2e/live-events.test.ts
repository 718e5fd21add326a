/**
 * `GET /v1/events` on a real server, read with plain fetch: the wire format (ready first,
 * then one named message per run transition with the run as stored), filters, validation and
 * auth. The bound on a stalled client is src/server/live-events.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveEvent } from '../../src/contracts/index.js';
import { cleanupAll, startServer, type ServerHandle } from './helpers.js';

const TOKEN = 'live-events-token-0123456789';
let server: ServerHandle;
let secured: ServerHandle;

beforeAll(async () => {
  [server, secured] = await Promise.all([
    // Two servers at once on a loaded 2-core box: give them time to start.
    startServer({ startTimeoutMs: 60_000 }),
    startServer({ env: { PATCHBAY_API_TOKENS: TOKEN }, token: TOKEN, startTimeoutMs: 60_000 }),
  ]);
}, 120_000);
afterAll(cleanupAll);

interface Message {
  event: string;
  data: string;
}

/** Opens the stream and reads messages until `done` says so (or the deadline passes). */
async function readUntil(
  url: string,
  done: (messages: Message[]) => boolean,
  options: { headers?: Record<string, string>; onOpen?: () => Promise<void> } = {},
): Promise<{ res: Response; raw: string; messages: Message[] }> {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), 30_000);
  const res = await fetch(url, {
    headers: { accept: 'text/event-stream', ...options.headers },
    signal: ctrl.signal,
  });
  let raw = '';
  const messages: Message[] = [];
  try {
    if (!res.ok || !res.body) return { res, raw: await res.text(), messages };
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let opened = false;
    for (;;) {
      const { value, done: ended } = await reader.read();
      if (ended) break;
      raw += value;
      messages.length = 0;
      for (const block of raw.split('\n\n').slice(0, -1)) {
        const lines = block.split('\n');
        const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
        const data = lines.find((l) => l.startsWith('data: '))?.slice(6);
        if (event && data !== undefined) messages.push({ event, data });
      }
      if (!opened && messages.some((m) => m.event === 'ready')) {
        opened = true;
        await options.onOpen?.();
      }
      if (done(messages)) break;
    }
    await reader.cancel();
  } finally {
    clearTimeout(timer);
    ctrl.abort();
  }
  return { res, raw, messages };
}

const ofRun = (messages: Message[], runId: string): LiveEvent[] =>
  messages
    .filter((m) => m.event !== 'ready')
    .map((m) => JSON.parse(m.data) as LiveEvent)
    .filter((e) => e.run.id === runId);

describe('GET /v1/events', () => {
  it('starts with ready, then names each transition of a run and carries the run', async () => {
    let runId = '';
    const { res, raw, messages } = await readUntil(
      `${server.url}/v1/events`,
      (m) => ofRun(m, runId).some((e) => e.type === 'runFinished'),
      {
        onOpen: async () => {
          runId = (await server.api.createRun({ command: ['sh', '-c', 'echo live'] })).id;
        },
      },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('cache-control')).toContain('no-cache');
    expect(raw.startsWith('retry: 2000\n\n')).toBe(true);
    expect(messages[0]).toEqual({ event: 'ready', data: '{"complete":true}' });
    const events = ofRun(messages, runId);
    expect(events.map((e) => e.type)).toEqual(['runCreated', 'runStarted', 'runFinished']);
    for (const m of messages.filter((x) => x.event !== 'ready')) {
      expect((JSON.parse(m.data) as LiveEvent).type).toBe(m.event);
    }
    expect(events.map((e) => e.run.status)).toEqual(['queued', 'running', 'succeeded']);
    expect(Number.isNaN(Date.parse(events[0]!.at))).toBe(false);
    expect(events[2]!.run.exitCode).toBe(0);
  });

  it('passes only what the filters ask for', async () => {
    let wanted = '';
    const { messages } = await readUntil(
      `${server.url}/v1/events?types=runFinished`,
      (m) => m.some((x) => x.event === 'runFinished' && x.data.includes(wanted)),
      {
        onOpen: async () => {
          // Another run first: its own runFinished must not be the only thing that comes.
          const other = await server.api.createRun({ command: ['sh', '-c', 'exit 0'] });
          await server.api.waitForStatus(other.id, undefined, 30_000);
          wanted = (await server.api.createRun({ command: ['sh', '-c', 'exit 4'] })).id;
        },
      },
    );
    expect(messages.slice(1).every((m) => m.event === 'runFinished')).toBe(true);
    const mine = ofRun(messages, wanted);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.run.status).toBe('failed');

    const byRun = await readUntil(
      `${server.url}/v1/events?runId=${wanted}-not-this`,
      (m) => m.length > 0,
    );
    expect(byRun.messages.map((m) => m.event)).toEqual(['ready']);
  });

  it('refuses unknown filters and event types with VALIDATION_FAILED', async () => {
    for (const query of ['types=runExploded', 'colour=blue']) {
      const res = await fetch(`${server.url}/v1/events?${query}`, {
        headers: { accept: 'text/event-stream' },
      });
      expect(res.status).toBe(400);
      const body = (await res.json()) as { error: { code: string } };
      expect(body.error.code).toBe('VALIDATION_FAILED');
    }
  });

  it('answers a request that does not ask for a stream with EVENTS_STREAM_ONLY', async () => {
    const res = await fetch(`${server.url}/v1/events`);
    expect(res.status).toBe(406);
    const body = (await res.json()) as { error: { code: string } };
    expect(body.error.code).toBe('EVENTS_STREAM_ONLY');
  });

  it('needs the token (or a session) when tokens are set', async () => {
    const refused = await fetch(`${secured.url}/v1/events`, {
      headers: { accept: 'text/event-stream' },
    });
    expect(refused.status).toBe(401);
    await refused.body?.cancel();
    const { res, messages } = await readUntil(`${secured.url}/v1/events`, (m) => m.length > 0, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(res.status).toBe(200);
    expect(messages[0]?.event).toBe('ready');
  });
});
