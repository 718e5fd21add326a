/**
 * latency: how long from `POST /v1/runs` (command `true`) until a subscriber sees the run's
 * `running` status event on an SSE stream opened right after the POST answers, over sequential
 * runs. Compared with a bare `child_process.spawn('true')` to its 'spawn' event in this process.
 *
 * No hard target: both distributions and the overhead are reported.
 *
 * `--otlp` measures the same with tracing on: the server exports to an OTLP/HTTP receiver in
 * this process (on loopback, answering 200 and counting spans); the result goes to
 * results/latency-otlp.json, so the two can be compared.
 *
 *   npx tsx bench/latency.ts [--runs 200] [--warmup 10] [--otlp] [--containment auto|none]
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import { createServer } from 'node:http';
import {
  api,
  flag,
  fmtMs,
  heading,
  keepAliveAgent,
  line,
  main,
  option,
  round,
  roundSummary,
  startBenchServer,
  summarize,
  writeResult,
  type RunBody,
} from './lib/harness.js';
import { openEventStream } from './lib/sse.js';

/** Milliseconds from spawn() to the child's 'spawn' event; waits for exit before resolving. */
function spawnLatency(options: SpawnOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    let ms = NaN;
    const child = spawn('true', [], options);
    child.once('spawn', () => (ms = performance.now() - t0));
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0 ? resolve(ms) : reject(new Error(`true: exit ${String(code)}`)),
    );
  });
}

/** A loopback OTLP/HTTP (JSON) receiver that answers 200 and counts the spans it got. */
async function startOtlpReceiver(): Promise<{ url: string; spans(): number; close(): void }> {
  let spans = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      spans += text.split('"spanId"').length - 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  // Never what keeps the benchmark alive (a server that failed to start ends it).
  server.unref();
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    spans: () => spans,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

const otlp = flag('otlp');

await main(otlp ? 'latency-otlp' : 'latency', async (startedAt) => {
  const runs = option('runs', 200);
  const warmup = option('warmup', 10);
  if (runs < 1 || runs + warmup > 500)
    throw new Error('--runs + --warmup must be in [1, 500] (rate limit is 600/min)');

  heading(
    `latency: POST /v1/runs (true) → 'running' on SSE, ${runs} sequential runs (+${warmup} warm-up)`,
  );

  // Baselines in the load generator: plain spawn, and spawn the way the supervisor does it.
  const plain: number[] = [];
  const supervised: number[] = [];
  for (let i = 0; i < warmup + runs; i++) {
    const a = await spawnLatency({ stdio: 'ignore' });
    const b = await spawnLatency({ stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    if (i >= warmup) {
      plain.push(a);
      supervised.push(b);
    }
  }

  const receiver = otlp ? await startOtlpReceiver() : undefined;
  // `none` measures what a run's own PID namespace (the default where available) costs.
  const containment = option('containment', 'auto');
  const server = await startBenchServer({
    PATCHBAY_RUN_CONTAINMENT: containment,
    ...(receiver ? { PATCHBAY_OTLP_ENDPOINT: receiver.url } : {}),
  });
  try {
    const toRunning: number[] = [];
    const postMs: number[] = [];
    const toTerminal: number[] = [];
    const failures: string[] = [];
    const ids: string[] = [];
    for (let i = 0; i < warmup + runs; i++) {
      const t0 = performance.now();
      const run = await api<RunBody>(
        'POST',
        `${server.url}/v1/runs`,
        { agent: 'shell', command: ['true'] },
        [202],
      );
      const t1 = performance.now();
      let runningAt: number | null = null;
      const stream = openEventStream(server.url, run.id, {
        agent: keepAliveAgent,
        timeoutMs: 30_000,
        onEvent(event) {
          if (event.type === 'status' && event.data.status === 'running')
            runningAt ??= performance.now();
        },
      });
      const result = await stream.done;
      const t3 = performance.now();
      const status = String(result.terminal?.data.status ?? `no terminal event (${result.ended})`);
      if (runningAt === null || status !== 'succeeded') {
        failures.push(`${run.id}: running=${runningAt !== null} terminal=${status}`);
        continue;
      }
      if (i < warmup) continue;
      ids.push(run.id);
      postMs.push(t1 - t0);
      toRunning.push(runningAt - t0);
      toTerminal.push(t3 - t0);
    }

    // Server-side view of the same runs: createdAt → startedAt (ms resolution).
    const list = await api<{ runs: RunBody[] }>('GET', `${server.url}/v1/runs?limit=200`);
    const mine = new Set(ids);
    const queuedToStarted = list.runs
      .filter((r) => mine.has(r.id) && r.startedAt !== null)
      .map((r) => Date.parse(r.startedAt!) - Date.parse(r.createdAt));

    const running = roundSummary(summarize(toRunning));
    const base = roundSummary(summarize(plain));
    const baseSupervised = roundSummary(summarize(supervised));
    const figures = {
      postToRunningEventMs: running,
      postAnsweredMs: roundSummary(summarize(postMs)),
      postToStreamEndMs: roundSummary(summarize(toTerminal)),
      serverCreatedToStartedMs: roundSummary(summarize(queuedToStarted)),
      bareSpawnMs: base,
      bareSpawnDetachedPipesMs: baseSupervised,
      overheadMs: { p50: round(running.p50 - base.p50), p99: round(running.p99 - base.p99) },
      failures,
      ...(receiver ? { spansReceived: 0 } : {}),
    };

    heading('results');
    line('POST → running event (SSE)', fmtMs(running));
    line('  POST answered (202)', fmtMs(figures.postAnsweredMs));
    line('  POST → stream end (succeeded)', fmtMs(figures.postToStreamEndMs));
    line('  server createdAt → startedAt', fmtMs(figures.serverCreatedToStartedMs));
    line("bare spawn('true') → 'spawn'", fmtMs(base));
    line('  detached, piped stdio', fmtMs(baseSupervised));
    line(
      'overhead (Patchbay − bare spawn)',
      `p50 ${figures.overheadMs.p50} ms, p99 ${figures.overheadMs.p99} ms`,
    );
    if (failures.length) line('failures', failures.slice(0, 5).join('; '));

    await server.stop();
    if (receiver) {
      // The server flushes its last spans on the way out.
      figures.spansReceived = receiver.spans();
      line('spans received over OTLP', String(figures.spansReceived));
      receiver.close();
    }
    return writeResult(
      {
        benchmark: otlp ? 'latency-otlp' : 'latency',
        description:
          "POST /v1/runs (true) to the 'running' status event on an SSE stream opened right after the POST, vs bare spawn.",
        parameters: {
          runs,
          warmup,
          command: ['true'],
          sequential: true,
          connection: 'keep-alive',
          tracing: otlp ? 'OTLP/HTTP to a receiver in the load generator' : 'off',
          containment,
        },
        figures,
        targets: [
          {
            name: 'every run reached running and succeeded, seen over SSE',
            target: `${warmup + runs} of ${warmup + runs}`,
            actual: `${warmup + runs - failures.length} of ${warmup + runs}`,
            pass: failures.length === 0,
          },
        ],
        notes: [
          'No latency target: figures are information. Times are measured in the load generator (performance.now()).',
          'The SSE stream replays from seq 0, so the running event counts even if it was stored before the stream opened.',
          'The server batches events for up to PATCHBAY_EVENT_FLUSH_MS (default 5 ms) before storing and publishing them.',
        ],
      },
      startedAt,
    );
  } finally {
    await server.stop();
  }
});
