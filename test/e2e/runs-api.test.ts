import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupAll,
  FIXTURES,
  startServer,
  type Run,
  type RunEvent,
  type ServerHandle,
} from './helpers.js';

const BODY_LIMIT = 4096;
let server: ServerHandle;

beforeAll(async () => {
  server = await startServer({
    env: {
      PATCHBAY_BODY_LIMIT_BYTES: String(BODY_LIMIT),
      PATCHBAY_KILL_GRACE_MS: '500',
    },
  });
});
afterAll(cleanupAll);

const statusesOf = (events: RunEvent[]): string[] =>
  events.filter((e) => e.type === 'status').map((e) => String(e.data.status));

describe('runs API: lifecycle and errors', () => {
  it('POST /v1/runs answers 202 queued, and the run ends succeeded with exit code 0', async () => {
    const res = await server.api.request<Run>('POST', '/v1/runs', {
      command: ['sh', '-c', 'echo hello-e2e'],
    });
    expect(res.status).toBe(202);
    expect(res.body.id).toMatch(/^run_/);
    expect(['queued', 'running']).toContain(res.body.status);
    expect(res.body.exitCode).toBeNull();

    const run = await server.api.waitForStatus(res.body.id);
    expect(run.status).toBe('succeeded');
    expect(run.exitCode).toBe(0);
    expect(run.error).toBeNull();
    expect(run.startedAt).not.toBeNull();
    expect(Date.parse(run.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(run.startedAt!));
    expect(await server.api.output(run.id)).toBe('hello-e2e\n');
    expect(statusesOf(await server.api.events(run.id))).toEqual(['queued', 'running', 'succeeded']);
  });

  it('wait:true answers 200 with the finished run', async () => {
    const res = await server.api.request<Run>('POST', '/v1/runs', {
      command: ['sh', '-c', 'sleep 0.2; echo waited'],
      wait: true,
    });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('succeeded');
    expect(res.body.exitCode).toBe(0);
    expect(res.body.finishedAt).not.toBeNull();
    expect(res.body.durationMs).toBeGreaterThanOrEqual(150);
  });

  it('a non-zero exit fails the run with RUN_EXIT_NONZERO and the exit code', async () => {
    const res = await server.api.request<Run>('POST', '/v1/runs', {
      command: ['sh', '-c', 'echo bad >&2; exit 7'],
      wait: true,
    });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('failed');
    expect(res.body.exitCode).toBe(7);
    expect(res.body.error?.code).toBe('RUN_EXIT_NONZERO');
    const events = await server.api.events(res.body.id);
    const stderr = events.filter((e) => e.type === 'output' && e.data.stream === 'stderr');
    expect(stderr.map((e) => e.data.text).join('')).toBe('bad\n');
  });

  it('a missing executable fails the run with RUN_SPAWN_FAILED', async () => {
    const res = await server.api.request<Run>('POST', '/v1/runs', {
      command: ['patchbay-e2e-no-such-binary'],
      wait: true,
    });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('failed');
    expect(res.body.exitCode).toBeNull();
    expect(res.body.error?.code).toBe('RUN_SPAWN_FAILED');
    expect(res.body.error?.message).toContain('ENOENT');
  });

  it('GET /v1/runs/:id of an unknown id is 404 RUN_NOT_FOUND in the one error body', async () => {
    const res = await server.api.request('GET', '/v1/runs/run_doesnotexist');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      error: {
        code: 'RUN_NOT_FOUND',
        message: expect.any(String),
        details: expect.anything(),
        requestId: res.headers.get('x-request-id'),
      },
    });
  });

  it('an invalid body is 400 VALIDATION_FAILED naming each offending field', async () => {
    const res = await server.api.request('POST', '/v1/runs', {
      command: 'echo not-an-array',
      timeoutMs: -5,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(typeof res.body.error.requestId).toBe('string');
    const paths = (res.body.error.details.fields as { path: string }[]).map((f) => f.path);
    expect(paths).toEqual(expect.arrayContaining(['command', 'timeoutMs']));
  });

  it('an unknown body field is refused (strict schema), naming the field', async () => {
    const res = await server.api.request('POST', '/v1/runs', {
      command: ['true'],
      shell: true,
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(JSON.stringify(res.body.error.details)).toContain('shell');
  });

  it('a body over PATCHBAY_BODY_LIMIT_BYTES is 413 PAYLOAD_TOO_LARGE and creates nothing', async () => {
    const before = await server.api.request('GET', '/v1/runs?limit=200');
    const res = await server.api.request('POST', '/v1/runs', {
      command: ['echo', 'x'.repeat(BODY_LIMIT * 2)],
    });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    const after = await server.api.request('GET', '/v1/runs?limit=200');
    expect(after.body.runs.length).toBe(before.body.runs.length);
  });

  it('the JSON events endpoint pages with after/limit without gaps or repeats', async () => {
    const run = await server.api.createRun({
      command: ['sh', '-c', 'for i in 1 2 3 4 5 6; do echo line-$i; sleep 0.03; done'],
      wait: true,
    });
    expect(run.status).toBe('succeeded');
    expect(run.lastSeq).toBeGreaterThanOrEqual(5);

    const pages: RunEvent[][] = [];
    let after = 0;
    let done = false;
    for (let i = 0; i < 50 && !done; i++) {
      const res = await server.api.request(
        'GET',
        `/v1/runs/${run.id}/events?after=${after}&limit=2`,
      );
      expect(res.status).toBe(200);
      const events = res.body.events as RunEvent[];
      expect(events.length).toBeLessThanOrEqual(2);
      if (events.length > 0) expect(res.body.lastSeq).toBe(events[events.length - 1]!.seq);
      else expect(res.body.lastSeq).toBe(after);
      pages.push(events);
      after = res.body.lastSeq;
      done = res.body.done;
    }
    expect(done).toBe(true);
    const seqs = pages.flat().map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: run.lastSeq }, (_, i) => i + 1));
    expect(pages.length).toBe(Math.ceil(run.lastSeq / 2));
    const text = pages
      .flat()
      .filter((e) => e.type === 'output')
      .map((e) => e.data.text)
      .join('');
    expect(text).toBe([1, 2, 3, 4, 5, 6].map((i) => `line-${i}\n`).join(''));

    const page = await server.api.request('GET', `/v1/runs/${run.id}/events?after=2&limit=1`);
    expect(page.body.events.map((e: RunEvent) => e.seq)).toEqual([3]);
    expect(page.body.done).toBe(false);
  });
});

describe('runs API: listing', () => {
  it('filters by status and paginates with a cursor across 3 pages, no duplicates', async () => {
    // A server of its own, so other tests' runs do not change the counts.
    const own = await startServer();
    try {
      const ok: string[] = [];
      for (let i = 0; i < 7; i++) {
        ok.push((await own.api.createRun({ command: ['true'], wait: true })).id);
      }
      const bad = await own.api.createRun({ command: ['false'], wait: true });
      expect(bad.status).toBe('failed');

      const failed = await own.api.request('GET', '/v1/runs?status=failed');
      expect(failed.status).toBe(200);
      expect(failed.body.runs.map((r: Run) => r.id)).toEqual([bad.id]);
      const several = await own.api.request('GET', '/v1/runs?status=failed,succeeded&limit=200');
      expect(several.body.runs).toHaveLength(8);

      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const qs: string = `status=succeeded&limit=3${cursor ? `&cursor=${cursor}` : ''}`;
        const res = await own.api.request('GET', `/v1/runs?${qs}`);
        expect(res.status).toBe(200);
        for (const r of res.body.runs as Run[]) expect(r.status).toBe('succeeded');
        seen.push(...(res.body.runs as Run[]).map((r) => r.id));
        cursor = res.body.nextCursor;
        pages++;
      } while (cursor && pages < 10);
      expect(pages).toBe(3);
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual([...ok].reverse()); // newest first

      const invalid = await own.api.request('GET', '/v1/runs?status=bogus');
      expect(invalid.status).toBe(400);
      expect(invalid.body.error.code).toBe('VALIDATION_FAILED');
    } finally {
      await own.stop();
    }
  });
});

describe.concurrent('runs API: timeouts and output caps', () => {
  it('timeoutMs ends the run timed_out with RUN_TIMEOUT', async ({ expect }) => {
    const run = await server.api.createRun({ command: ['sleep', '30'], timeoutMs: 400 });
    const done = await server.api.waitForStatus(run.id);
    expect(done.status).toBe('timed_out');
    expect(done.error?.code).toBe('RUN_TIMEOUT');
    expect(done.durationMs).toBeGreaterThanOrEqual(350);
    expect(done.durationMs).toBeLessThan(5000);
  });

  it('a timed-out run that exits 0 on SIGTERM is still timed_out, never succeeded', async ({
    expect,
  }) => {
    const run = await server.api.createRun({
      command: ['sh', `${FIXTURES}/trap-exit-zero.sh`],
      timeoutMs: 500,
    });
    const done = await server.api.waitForStatus(run.id);
    expect(done.status).toBe('timed_out');
    expect(done.error?.code).toBe('RUN_TIMEOUT');
    expect(await server.api.output(run.id)).toContain('started');
    expect(statusesOf(await server.api.events(run.id))).not.toContain('succeeded');
  });

  it('idleTimeoutMs ends a silent run timed_out with RUN_IDLE_TIMEOUT', async ({ expect }) => {
    const run = await server.api.createRun({
      command: ['sh', '-c', 'echo one; sleep 30'],
      idleTimeoutMs: 500,
      timeoutMs: 20_000,
    });
    const done = await server.api.waitForStatus(run.id);
    expect(done.status).toBe('timed_out');
    expect(done.error?.code).toBe('RUN_IDLE_TIMEOUT');
    expect(await server.api.output(run.id)).toBe('one\n');
  });

  it('output keeps an idle clock alive: a chatty run outlives its idle timeout', async ({
    expect,
  }) => {
    const run = await server.api.createRun({
      command: ['sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do echo $i; sleep 0.1; done'],
      idleTimeoutMs: 400,
    });
    const done = await server.api.waitForStatus(run.id);
    expect(done.status).toBe('succeeded');
    expect(done.durationMs).toBeGreaterThan(400);
  });

  it('outputPolicy kill fails the run with OUTPUT_LIMIT_EXCEEDED past maxOutputBytes', async ({
    expect,
  }) => {
    const run = await server.api.createRun({
      command: ['yes', 'flood'],
      maxOutputBytes: 2000,
      outputPolicy: 'kill',
    });
    const done = await server.api.waitForStatus(run.id);
    expect(done.status).toBe('failed');
    expect(done.error?.code).toBe('OUTPUT_LIMIT_EXCEEDED');
    const out = await server.api.output(run.id);
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(2000);
    expect(out.startsWith('flood\n')).toBe(true);
  });

  it('outputPolicy truncate keeps head and tail, reports dropped bytes, and lets the run finish', async ({
    expect,
  }) => {
    const max = 4000;
    const run = await server.api.createRun({
      // ~29 KB of numbered lines, a pause, then a last line: the run goes on past the cap.
      command: ['sh', '-c', 'seq 1 6000; sleep 0.3; echo THE-END'],
      maxOutputBytes: max,
      outputPolicy: 'truncate',
    });
    const done = await server.api.waitForStatus(run.id);
    expect(done.status).toBe('succeeded');
    expect(done.exitCode).toBe(0);
    expect(done.droppedBytes).toBeGreaterThan(0);

    const events = await server.api.events(run.id);
    const outputs = events.filter((e) => e.type === 'output');
    const stored = outputs.reduce((n, e) => n + Buffer.byteLength(String(e.data.text)), 0);
    expect(stored).toBeLessThanOrEqual(max);
    expect(stored + done.droppedBytes).toBe(done.outputBytes);

    const dropped = events.filter((e) => e.type === 'dropped');
    expect(dropped.length).toBeGreaterThanOrEqual(1);
    const last = dropped[dropped.length - 1]!;
    expect(last.data.final).toBe(true);
    expect(last.data.droppedBytes).toBe(done.droppedBytes);
    // Cumulative counts never go down.
    const counts = dropped.map((e) => Number(e.data.droppedBytes));
    expect([...counts].sort((a, b) => a - b)).toEqual(counts);

    const text = outputs.map((e) => String(e.data.text)).join('');
    expect(text.startsWith('1\n2\n3\n')).toBe(true); // head
    expect(text.endsWith('5999\n6000\nTHE-END\n')).toBe(true); // tail
    expect(text).not.toContain('\n3000\n'); // the middle is gone
    expect(outputs.some((e) => e.data.tail === true)).toBe(true);
  });
});
