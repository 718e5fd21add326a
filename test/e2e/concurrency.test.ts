import { afterAll, describe, expect, it } from 'vitest';
import { cleanupAll, sleep, startServer, type Run } from './helpers.js';

afterAll(cleanupAll);

describe('concurrency limit', () => {
  it('runs at most PATCHBAY_MAX_CONCURRENT_RUNS at once, starts them FIFO, and reports the queue', async ({
    onTestFinished,
  }) => {
    const server = await startServer({ env: { PATCHBAY_MAX_CONCURRENT_RUNS: '2' } });
    onTestFinished(() => server.stop().then(() => undefined));
    const { api } = server;

    const created: Run[] = [];
    for (let i = 0; i < 6; i++) {
      created.push(
        await api.createRun({
          // Prints its own start time in ms, then holds its slot for ~0.5 s.
          command: ['sh', '-c', `echo "start $(date +%s%3N) #${i}"; sleep 0.5`],
        }),
      );
    }

    // Sample the queue while the batch drains.
    const samples: { running: number; waiting: number; limit: number; available: number }[] = [];
    let finished: Run[] = [];
    const deadline = Date.now() + 15_000;
    for (;;) {
      const q = await api.request('GET', '/health/queue');
      expect(q.status).toBe(200);
      samples.push(q.body.queue);
      if (q.body.queue.waiting > 0) expect(q.body.warning).toMatch(/waiting/);
      finished = await Promise.all(created.map((r) => api.getRun(r.id)));
      if (finished.every((r) => r.status === 'succeeded' || r.status === 'failed')) break;
      if (Date.now() > deadline)
        throw new Error(`runs did not finish: ${JSON.stringify(finished)}`);
      await sleep(60);
    }

    for (const r of finished) expect(r.status, r.id).toBe('succeeded');

    // Queue reports: never above the limit; at some point full with runs waiting.
    for (const s of samples) {
      expect(s.limit).toBe(2);
      expect(s.running).toBeLessThanOrEqual(2);
      expect(s.available).toBe(2 - s.running);
    }
    expect(samples.some((s) => s.running === 2 && s.waiting >= 1)).toBe(true);
    const idle = await api.request('GET', '/health/queue');
    expect(idle.body.queue).toEqual({
      running: 0,
      waiting: 0,
      limit: 2,
      available: 2,
      maxConcurrent: 2,
    });
    expect(idle.body.warning).toBeNull();

    // At most two [startedAt, finishedAt) intervals overlap at any start instant.
    const spans = finished.map((r) => ({
      id: r.id,
      start: Date.parse(r.startedAt!),
      end: Date.parse(r.finishedAt!),
    }));
    for (const s of spans) {
      const overlapping = spans.filter((o) => o.start <= s.start && s.start < o.end);
      expect(overlapping.length, `runs active when ${s.id} started`).toBeLessThanOrEqual(2);
    }
    // And the limit was actually used: the first two ran side by side.
    expect(spans[1]!.start).toBeLessThan(spans[0]!.end);

    // FIFO. Runs given slots at the same moment (0 and 1, then 2 and 3 as 0 and 1 end
    // together) may record startedAt in either order: the workdir is prepared
    // asynchronously before it is stamped. So the order is checked per wave of two...
    const byStart = [...spans].sort((a, b) => a.start - b.start).map((s) => s.id);
    const ids = created.map((r) => r.id);
    for (const wave of [0, 2, 4]) {
      expect(new Set(byStart.slice(wave, wave + 2)), `wave starting at run ${wave}`).toEqual(
        new Set(ids.slice(wave, wave + 2)),
      );
    }
    // ...and no run started noticeably before one created earlier.
    for (let i = 0; i < spans.length; i++) {
      for (let j = i + 1; j < spans.length; j++) {
        expect(spans[j]!.start + 50, `run ${j} vs run ${i}`).toBeGreaterThanOrEqual(
          spans[i]!.start,
        );
      }
    }
    const printed: number[] = [];
    for (const r of created) {
      const m = /^start (\d+) #/m.exec(await api.output(r.id));
      expect(m, `start line of ${r.id}`).not.toBeNull();
      printed.push(Number(m![1]));
    }
    for (let i = 2; i < printed.length; i++) {
      // Run i can only start once a run started two places earlier has finished (~0.5 s).
      expect(printed[i]! - printed[i - 2]!).toBeGreaterThanOrEqual(400);
    }
  });
});
