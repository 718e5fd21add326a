/**
 * burst: 200 short runs (`echo n`) submitted at once against the default concurrency limit
 * (4). All must end `succeeded` with their own output, none lost; the limit must hold.
 * Reports wall time, runs/s and the deepest queue seen on /health/queue.
 *
 *   npx tsx bench/burst.ts [--runs 200]
 */
import {
  api,
  fmtMs,
  heading,
  httpRequest,
  line,
  main,
  option,
  round,
  roundSummary,
  sleep,
  startBenchServer,
  summarize,
  TERMINAL,
  writeResult,
  type RunBody,
} from './lib/harness.js';

interface QueueBody {
  queue: { running: number; waiting: number; limit: number; available: number };
}

await main('burst', async (startedAt) => {
  const runs = option('runs', 200);
  if (runs < 1 || runs > 500)
    throw new Error('--runs must be in [1, 500] (the run-creation limit is 600/min)');

  const server = await startBenchServer();
  try {
    heading(`burst: ${runs} runs of \`echo n\` submitted at once, default concurrency limit`);
    const before = await api<QueueBody>('GET', `${server.url}/health/queue`);
    const limit = before.queue.limit;

    // Queue watcher: as often as the server answers, until the burst has drained.
    let maxWaiting = 0;
    let maxRunning = 0;
    let polls = 0;
    let watching = true;
    let drainedAt: number | null = null;
    let submitted = false;
    const watcher = (async () => {
      const deadline = performance.now() + 90_000;
      while (watching && performance.now() < deadline) {
        // Only a poll sent after every POST was answered may declare the burst drained.
        const afterSubmit = submitted;
        const res = await httpRequest('GET', `${server.url}/health/queue`);
        const q = (JSON.parse(res.body) as QueueBody).queue;
        polls++;
        maxWaiting = Math.max(maxWaiting, q.waiting);
        maxRunning = Math.max(maxRunning, q.running);
        if (afterSubmit && q.running === 0 && q.waiting === 0) {
          drainedAt = performance.now();
          return;
        }
        await sleep(5);
      }
    })();

    const t0 = performance.now();
    const posts = await Promise.all(
      Array.from({ length: runs }, (_, n) =>
        httpRequest('POST', `${server.url}/v1/runs`, {
          agent: 'shell',
          command: ['echo', String(n)],
        }).then((res) => ({ n, res })),
      ),
    );
    const tSubmitted = performance.now();
    submitted = true;
    const rejected = posts.filter((p) => p.res.status !== 202);
    const created = posts
      .filter((p) => p.res.status === 202)
      .map((p) => ({ n: p.n, run: JSON.parse(p.res.body) as RunBody, ms: p.res.ms }));

    await watcher;
    watching = false;
    const tDrained = drainedAt ?? performance.now();

    // Every run back from the list, and each one's own events.
    const listed = await api<{ runs: RunBody[]; nextCursor: string | null }>(
      'GET',
      `${server.url}/v1/runs?limit=200`,
    );
    const byId = new Map(listed.runs.map((r) => [r.id, r]));
    let cursor = listed.nextCursor;
    for (let page = 0; cursor && page < 10; page++) {
      const next = await api<{ runs: RunBody[]; nextCursor: string | null }>(
        'GET',
        `${server.url}/v1/runs?limit=200&cursor=${encodeURIComponent(cursor)}`,
      );
      for (const r of next.runs) byId.set(r.id, r);
      cursor = next.nextCursor;
    }
    const missing: string[] = [];
    const notSucceeded: string[] = [];
    const wrongOutput: string[] = [];
    for (const { run } of created) {
      const r = byId.get(run.id);
      if (!r) {
        missing.push(run.id);
        continue;
      }
      if (r.status !== 'succeeded')
        notSucceeded.push(`${run.id}: ${r.status}${r.error ? ` ${r.error.code}` : ''}`);
    }
    // Outputs, 8 requests at a time.
    for (let i = 0; i < created.length; i += 8) {
      await Promise.all(
        created.slice(i, i + 8).map(async ({ n, run }) => {
          const page = await api<{
            events: { type: string; data: Record<string, unknown> }[];
            done: boolean;
          }>('GET', `${server.url}/v1/runs/${run.id}/events?limit=100`);
          const text = page.events
            .filter((e) => e.type === 'output')
            .map((e) => String(e.data.text))
            .join('');
          const statuses = page.events
            .filter((e) => e.type === 'status')
            .map((e) => String(e.data.status));
          const ok =
            text === `${n}\n` && page.done && statuses.join(',') === 'queued,running,succeeded';
          if (!ok) wrongOutput.push(`${run.id}: ${JSON.stringify(text)} [${statuses.join(',')}]`);
        }),
      );
    }

    const finished = [...byId.values()].filter((r) => TERMINAL.has(r.status) && r.finishedAt);
    const firstCreated = Math.min(...finished.map((r) => Date.parse(r.createdAt)));
    const lastFinished = Math.max(...finished.map((r) => Date.parse(r.finishedAt!)));
    const wallS = (tDrained - t0) / 1000;
    const serverWallS = (lastFinished - firstCreated) / 1000;
    const succeeded = created.length - notSucceeded.length - missing.length;
    const figures = {
      runs,
      accepted: created.length,
      rejected: rejected
        .map((p) => `#${p.n}: ${p.res.status} ${p.res.body.slice(0, 120)}`)
        .slice(0, 10),
      succeeded,
      missing,
      notSucceeded: notSucceeded.slice(0, 10),
      wrongOutput: wrongOutput.slice(0, 10),
      concurrencyLimit: limit,
      maxRunningSeen: maxRunning,
      maxWaitingSeen: maxWaiting,
      queuePolls: polls,
      submitAllMs: round(tSubmitted - t0, 1),
      postMs: roundSummary(summarize(created.map((c) => c.ms))),
      wallSeconds: round(wallS, 3),
      runsPerSecond: round(runs / wallS, 1),
      serverWallSeconds: round(serverWallS, 3),
      serverRunsPerSecond: round(runs / serverWallS, 1),
    };

    heading('results');
    line('accepted / succeeded', `${created.length} / ${succeeded} of ${runs}`);
    line('all POSTs answered in', `${figures.submitAllMs} ms (${fmtMs(figures.postMs)})`);
    line(
      'first POST → queue drained',
      `${figures.wallSeconds} s → ${figures.runsPerSecond} runs/s`,
    );
    line(
      'server: createdAt → last finishedAt',
      `${figures.serverWallSeconds} s → ${figures.serverRunsPerSecond} runs/s`,
    );
    line('max waiting on /health/queue', `${maxWaiting} (${polls} polls)`);
    line('max running on /health/queue', `${maxRunning} (limit ${limit})`);
    for (const p of [...figures.rejected, ...missing, ...notSucceeded, ...wrongOutput].slice(0, 5))
      line('problem', p);

    await server.stop();
    return writeResult(
      {
        benchmark: 'burst',
        description: `${runs} short runs submitted at once with the default concurrency limit: all succeed, none lost.`,
        parameters: {
          runs,
          command: ['echo', '<n>'],
          concurrencyLimit: limit,
          submission: 'all POSTs in parallel',
        },
        figures,
        targets: [
          {
            name: 'all runs accepted, succeeded, listed back, with their own output',
            target: `${runs}/${runs}`,
            actual: `${created.length - wrongOutput.length - notSucceeded.length - missing.length}/${runs}`,
            pass:
              created.length === runs &&
              missing.length === 0 &&
              notSucceeded.length === 0 &&
              wrongOutput.length === 0,
          },
          {
            name: 'concurrency limit held (max running seen)',
            target: `<= ${limit}`,
            actual: maxRunning,
            pass: maxRunning <= limit,
          },
          {
            name: 'queue drained (running 0, waiting 0) within 90 s',
            target: 'drained',
            actual: drainedAt === null ? 'not drained' : 'drained',
            pass: drainedAt !== null,
          },
        ],
        notes: [
          'Wall time runs from the first POST to the first /health/queue poll that shows nothing running or waiting.',
          '/health/queue is polled back-to-back (5 ms pause), so max waiting is sampled, not exact.',
        ],
      },
      startedAt,
    );
  } finally {
    await server.stop();
  }
});
