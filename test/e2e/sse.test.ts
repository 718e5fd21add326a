import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  cleanupAll,
  isTerminalStatusEvent,
  normalizeEvents as norm,
  readSse,
  startServer,
  type RunEvent,
  type ServerHandle,
} from './helpers.js';

let server: ServerHandle;

beforeAll(async () => {
  server = await startServer();
});
afterAll(cleanupAll);

const SCRIPT = 'for i in 1 2 3 4 5; do echo sse-$i; sleep 0.05; done';

describe.concurrent('SSE event streams', () => {
  it('streams a live run to its terminal status event, then closes; ids are seqs', async ({
    expect,
  }) => {
    const run = await server.api.createRun({ command: ['sh', '-c', SCRIPT] });
    const res = await readSse(`${server.url}/v1/runs/${run.id}/events`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.ended).toBe(true);

    const seqs = res.events.map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
    for (const f of res.frames) {
      const e = JSON.parse(f.data) as RunEvent;
      expect(f.id).toBe(String(e.seq));
      expect(f.event).toBe(e.type);
      expect(e.runId).toBe(run.id);
    }
    const last = res.events[res.events.length - 1]!;
    expect(last.type).toBe('status');
    expect(last.data.status).toBe('succeeded');
    expect(res.events.filter(isTerminalStatusEvent)).toHaveLength(1);
    const text = res.events
      .filter((e) => e.type === 'output')
      .map((e) => e.data.text)
      .join('');
    expect(text).toBe('sse-1\nsse-2\nsse-3\nsse-4\nsse-5\n');

    // The stream has exactly what the store has.
    const stored = await server.api.events(run.id);
    expect(norm(res.events)).toEqual(norm(stored));
  });

  it('replays exactly the remaining events from Last-Event-ID and from ?after=', async ({
    expect,
  }) => {
    const run = await server.api.createRun({ command: ['sh', '-c', SCRIPT] });
    // Read the first three events live, then drop the connection (as a client would).
    const first = await readSse(`${server.url}/v1/runs/${run.id}/events`, {
      until: (_f, frames) => frames.length === 3,
    });
    expect(first.ended).toBe(false);
    expect(first.frames.map((f) => f.id)).toEqual(['1', '2', '3']);

    const byHeader = await readSse(`${server.url}/v1/runs/${run.id}/events`, {
      headers: { 'last-event-id': '3' },
    });
    const byQuery = await readSse(`${server.url}/v1/runs/${run.id}/events?after=3`);
    const all = await server.api.events(run.id);
    const expected = all.filter((e) => e.seq > 3);
    expect(expected.length).toBeGreaterThan(0);
    expect(byHeader.ended).toBe(true);
    expect(norm(byHeader.events)).toEqual(norm(expected));
    expect(byQuery.ended).toBe(true);
    expect(norm(byQuery.events)).toEqual(norm(expected));
    expect(norm([...first.events, ...byHeader.events])).toEqual(norm(all));

    // Last-Event-ID wins over ?after= (a reconnecting EventSource keeps its URL).
    const both = await readSse(`${server.url}/v1/runs/${run.id}/events?after=1`, {
      headers: { 'last-event-id': String(all.length - 1) },
    });
    expect(norm(both.events)).toEqual(norm(all.slice(-1)));
  });

  it('a subscriber arriving after the run ended gets the full history and the stream closes', async ({
    expect,
  }) => {
    const run = await server.api.createRun({
      command: ['sh', '-c', 'echo late; exit 2'],
      wait: true,
    });
    expect(run.status).toBe('failed');
    const res = await readSse(`${server.url}/v1/runs/${run.id}/events`, { timeoutMs: 5000 });
    expect(res.ended).toBe(true);
    expect(res.events.map((e) => e.seq)).toEqual(
      Array.from({ length: run.lastSeq }, (_, i) => i + 1),
    );
    expect(res.events[0]!.data.status).toBe('queued');
    const last = res.events[res.events.length - 1]!;
    expect(last.data).toMatchObject({ status: 'failed', exitCode: 2 });
    expect(last.data.error.code).toBe('RUN_EXIT_NONZERO');
  });

  // Regression: resuming a finished run's stream after its terminal event (what a browser
  // EventSource does when the server closes the stream: it reconnects with Last-Event-ID =
  // the terminal seq) used to wait forever for a terminal event already delivered.
  it('resuming after the terminal event of a finished run closes the stream at once', async ({
    expect,
  }) => {
    const run = await server.api.createRun({ command: ['true'], wait: true });
    const tail = await readSse(`${server.url}/v1/runs/${run.id}/events`, {
      headers: { 'last-event-id': String(run.lastSeq) },
      timeoutMs: 1500,
    });
    expect(tail.ended).toBe(true);
    expect(tail.events).toEqual([]);
  });

  it('SSE of an unknown run is a plain 404 RUN_NOT_FOUND error body', async ({ expect }) => {
    const res = await readSse(`${server.url}/v1/runs/run_nope/events`);
    expect(res.status).toBe(404);
    expect(JSON.parse(res.text).error.code).toBe('RUN_NOT_FOUND');
  });

  it('several subscribers of one live run receive the same events', async ({ expect }) => {
    const run = await server.api.createRun({ command: ['sh', '-c', SCRIPT] });
    const streams = await Promise.all(
      [0, 1, 2].map(() => readSse(`${server.url}/v1/runs/${run.id}/events`)),
    );
    const stored = await server.api.events(run.id);
    for (const s of streams) {
      expect(s.ended).toBe(true);
      expect(norm(s.events)).toEqual(norm(stored));
    }
  });
});
