/**
 * flood: a run prints as fast as it can (`yes`) under the truncate policy while one SSE
 * subscriber follows it. Measures the server's memory (VmRSS every 250 ms, and the kernel's
 * VmHWM) and how responsive it stays (/health latency every ~75 ms).
 *
 * Targets: peak server RSS < 100 MB, /health p99 < 50 ms.
 *
 *   npx tsx bench/flood.ts [--duration-s 60] [--max-output-bytes 10485760]
 */
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import {
  api,
  fmtMs,
  heading,
  httpRequest,
  line,
  main,
  MB,
  MiB,
  option,
  parseMetrics,
  readCpuSeconds,
  readRss,
  round,
  roundSummary,
  sleep,
  startBenchServer,
  summarize,
  writeResult,
  type RunBody,
} from './lib/harness.js';
import { openEventStream } from './lib/sse.js';

const RSS_TARGET_BYTES = 100 * MB;
const HEALTH_P99_TARGET_MS = 50;

await main('flood', async (startedAt) => {
  const durationS = option('duration-s', 60);
  const maxOutputBytes = option('max-output-bytes', 10 * MiB);
  const rssIntervalMs = option('rss-interval-ms', 250);
  const healthIntervalMs = option('health-interval-ms', 75);
  if (durationS <= 0 || durationS > 600) throw new Error('--duration-s must be in (0, 600]');

  const server = await startBenchServer();
  try {
    heading(`flood: yes for ${durationS} s, truncate at ${maxOutputBytes} bytes, 1 SSE subscriber`);
    await sleep(500);
    const idle = readRss(server.pid);
    // Baseline: /health on the idle server, same prober, same connection reuse.
    const idleHealthMs: number[] = [];
    for (let i = 0; i < 40; i++) {
      idleHealthMs.push((await httpRequest('GET', `${server.url}/health`)).ms);
      await sleep(healthIntervalMs);
    }
    // The first scrape resets prom-client's event-loop histogram, so the second covers the flood.
    await httpRequest('GET', `${server.url}/metrics`);

    const run = await api<RunBody>('POST', `${server.url}/v1/runs`, {
      agent: 'shell',
      command: ['yes'],
      maxOutputBytes,
      outputPolicy: 'truncate',
      // Backstop only: the benchmark cancels the run itself.
      timeoutMs: (durationS + 60) * 1000,
    });

    let receivedBytes = 0;
    let outputEvents = 0;
    let droppedEvents = 0;
    let lastDropped = 0;
    let firstOutputAt: number | null = null;
    let childPid: number | null = null;
    const stream = openEventStream(server.url, run.id, {
      timeoutMs: (durationS + 60) * 1000,
      onEvent(event) {
        if (event.type === 'output') {
          firstOutputAt ??= performance.now();
          outputEvents++;
          receivedBytes += Buffer.byteLength(String(event.data.text), 'utf8');
        } else if (event.type === 'dropped') {
          droppedEvents++;
          lastDropped = Number(event.data.droppedBytes);
        } else if (event.type === 'status' && typeof event.data.pid === 'number') {
          childPid = event.data.pid;
          server.trackGroup(event.data.pid);
        }
      },
    });
    await stream.opened;

    const serverCpu0 = readCpuSeconds(server.pid) ?? 0;
    const floodStart = performance.now();
    const floodEnd = floodStart + durationS * 1000;
    const eld = monitorEventLoopDelay({ resolution: 10 });
    eld.enable();

    const rssSamples: { t: number; rss: number }[] = [];
    const rssTimer = setInterval(() => {
      const r = readRss(server.pid);
      if (r) rssSamples.push({ t: performance.now() - floodStart, rss: r.rss });
    }, rssIntervalMs);

    const healthMs: number[] = [];
    const healthAt: number[] = [];
    let healthErrors = 0;
    const prober = (async () => {
      while (performance.now() < floodEnd) {
        const t0 = performance.now();
        try {
          const res = await httpRequest('GET', `${server.url}/health`, undefined, {
            timeoutMs: 5000,
          });
          if (res.status === 200) {
            healthMs.push(res.ms);
            healthAt.push(t0 - floodStart);
          } else healthErrors++;
        } catch {
          healthErrors++;
          healthMs.push(5000);
          healthAt.push(t0 - floodStart);
        }
        const wait = healthIntervalMs - (performance.now() - t0);
        if (wait > 0) await sleep(Math.min(wait, floodEnd - performance.now()));
      }
    })();

    // Progress once in a while so a person watching knows it is alive.
    // (Timers may fire a millisecond early: stop when less than 50 ms is left.)
    while (floodEnd - performance.now() > 50) {
      await sleep(Math.min(10_000, floodEnd - performance.now()));
      const last = rssSamples[rssSamples.length - 1];
      process.stdout.write(
        `  t=${((performance.now() - floodStart) / 1000).toFixed(0)}s  rss=${last ? (last.rss / MB).toFixed(1) : '?'} MB  /health n=${healthMs.length}\n`,
      );
    }
    await prober;
    clearInterval(rssTimer);
    eld.disable();
    const floodWallS = (performance.now() - floodStart) / 1000;
    const serverCpuPercent = (((readCpuSeconds(server.pid) ?? 0) - serverCpu0) / floodWallS) * 100;
    // The child started after floodStart's reference point within a few ms; its total is close enough.
    const childCpuPercent =
      childPid === null ? NaN : ((readCpuSeconds(childPid) ?? NaN) / floodWallS) * 100;

    const cancelStart = performance.now();
    const cancelled = await api<RunBody>('POST', `${server.url}/v1/runs/${run.id}/cancel`);
    const cancelMs = performance.now() - cancelStart;
    const streamResult = await stream.done;
    const final = await api<RunBody>('GET', `${server.url}/v1/runs/${run.id}`);
    const after = readRss(server.pid);
    const metrics = parseMetrics((await httpRequest('GET', `${server.url}/metrics`)).body);

    const rss = summarize(rssSamples.map((s) => s.rss));
    const health = roundSummary(summarize(healthMs));
    const peakRss = Math.max(rss.max, after?.hwm ?? 0);
    const floodSeconds = (performance.now() - floodStart) / 1000;
    // RSS trend: mean of the last quarter minus mean of the second quarter (after warm-up).
    const q = Math.floor(rssSamples.length / 4);
    const meanOf = (xs: { rss: number }[]): number =>
      xs.reduce((a, b) => a + b.rss, 0) / Math.max(1, xs.length);
    const rssDrift =
      q > 0 ? meanOf(rssSamples.slice(3 * q)) - meanOf(rssSamples.slice(q, 2 * q)) : 0;
    const delivered = final.outputBytes - final.droppedBytes;

    const figures = {
      runId: run.id,
      finalStatus: final.status,
      outputBytes: final.outputBytes,
      droppedBytes: final.droppedBytes,
      printedMBps: round(final.outputBytes / MB / floodSeconds, 1),
      subscriber: {
        outputBytesReceived: receivedBytes,
        outputEvents,
        droppedEvents,
        lastDroppedBytesSeen: lastDropped,
        terminalStatus: streamResult.terminal?.data.status ?? null,
        streamEnded: streamResult.ended,
        firstOutputAfterMs: firstOutputAt === null ? null : round(firstOutputAt - floodStart, 1),
      },
      rssMB: {
        idle: round((idle?.rss ?? 0) / MB, 1),
        avg: round(rss.mean / MB, 1),
        p50: round(rss.p50 / MB, 1),
        max: round(rss.max / MB, 1),
        vmHWM: round((after?.hwm ?? 0) / MB, 1),
        afterCancel: round((after?.rss ?? 0) / MB, 1),
        driftLastVsSecondQuarter: round(rssDrift / MB, 1),
        samples: rssSamples.length,
        // One sample every ~2 s: [seconds since the flood started, MB].
        timeline: rssSamples
          .filter((_, i) => i % Math.max(1, Math.round(2000 / rssIntervalMs)) === 0)
          .map((x) => [round(x.t / 1000, 1), round(x.rss / MB, 1)]),
      },
      healthMs: health,
      // Where the slow probes fall: the cap is reached in the first second (head phase).
      healthSlowest: healthMs
        .map((ms, i) => ({ atS: round((healthAt[i] ?? 0) / 1000, 2), ms: round(ms, 1) }))
        .sort((a, b) => b.ms - a.ms)
        .slice(0, 10),
      healthAfterFirst2sMs: roundSummary(
        summarize(healthMs.filter((_, i) => (healthAt[i] ?? 0) >= 2000)),
      ),
      healthErrors,
      idleHealthMs: roundSummary(summarize(idleHealthMs)),
      cpuPercentDuringFlood: {
        server: round(serverCpuPercent, 0),
        child: round(childCpuPercent, 0),
      },
      cpus: os.cpus().length,
      cancelMs: round(cancelMs, 1),
      cancelAnsweredStatus: cancelled.status,
      serverEventLoopLagMs: {
        p50: round((metrics.get('patchbay_nodejs_eventloop_lag_p50_seconds') ?? NaN) * 1000),
        p99: round((metrics.get('patchbay_nodejs_eventloop_lag_p99_seconds') ?? NaN) * 1000),
        max: round((metrics.get('patchbay_nodejs_eventloop_lag_max_seconds') ?? NaN) * 1000),
      },
      serverHeapUsedMB: round((metrics.get('patchbay_nodejs_heap_size_used_bytes') ?? NaN) / MB, 1),
      loadGeneratorEventLoopLagMs: {
        p99: round(eld.percentile(99) / 1e6),
        max: round(eld.max / 1e6),
      },
    };

    heading('results');
    line(
      'printed by `yes` (outputBytes)',
      `${(final.outputBytes / MB).toFixed(1)} MB (${figures.printedMBps} MB/s)`,
    );
    line('dropped (droppedBytes)', `${(final.droppedBytes / MB).toFixed(1)} MB`);
    line(
      'received by subscriber',
      `${(receivedBytes / MB).toFixed(2)} MB in ${outputEvents} output events, ${droppedEvents} dropped events`,
    );
    line(
      'server RSS idle / avg / peak',
      `${figures.rssMB.idle} / ${figures.rssMB.avg} / ${figures.rssMB.max} MB (VmHWM ${figures.rssMB.vmHWM} MB)`,
    );
    line('server RSS drift (Q4 - Q2 mean)', `${figures.rssMB.driftLastVsSecondQuarter} MB`);
    line('/health latency', fmtMs(health));
    line('/health after the first 2 s', fmtMs(figures.healthAfterFirst2sMs));
    line(
      'slowest /health probes (at s: ms)',
      figures.healthSlowest
        .slice(0, 5)
        .map((h) => `${h.atS}: ${h.ms}`)
        .join(', '),
    );
    line('/health errors', String(healthErrors));
    line('/health on the idle server', fmtMs(figures.idleHealthMs));
    line(
      'CPU during flood (100% = 1 core)',
      `server ${figures.cpuPercentDuringFlood.server}%, yes ${figures.cpuPercentDuringFlood.child}% of ${figures.cpus} cores`,
    );
    line(
      'server event-loop lag',
      `p50 ${figures.serverEventLoopLagMs.p50}  p99 ${figures.serverEventLoopLagMs.p99}  max ${figures.serverEventLoopLagMs.max} ms`,
    );
    line(
      'load generator event-loop lag',
      `p99 ${figures.loadGeneratorEventLoopLagMs.p99}  max ${figures.loadGeneratorEventLoopLagMs.max} ms`,
    );
    line('cancel answered in', `${figures.cancelMs} ms (${cancelled.status})`);

    const stopped = await server.stop();
    return writeResult(
      {
        benchmark: 'flood',
        description:
          '`yes` for the given duration under the truncate policy with one SSE subscriber: server RSS and /health latency.',
        parameters: {
          durationS,
          maxOutputBytes,
          outputPolicy: 'truncate',
          rssIntervalMs,
          healthIntervalMs,
          command: ['yes'],
        },
        figures: { ...figures, serverStop: stopped },
        targets: [
          {
            name: 'peak server RSS (max of samples and VmHWM)',
            target: '< 100 MB',
            actual: round(peakRss / MB, 1),
            unit: 'MB',
            pass: peakRss < RSS_TARGET_BYTES,
          },
          {
            name: '/health p99 during the flood',
            target: `< ${HEALTH_P99_TARGET_MS} ms`,
            actual: health.p99,
            unit: 'ms',
            pass: health.p99 < HEALTH_P99_TARGET_MS && healthErrors === 0,
          },
          {
            name: 'subscriber got head+tail (= outputBytes - droppedBytes) and the terminal event',
            target: `${delivered} bytes, cancelled`,
            actual: `${receivedBytes} bytes, ${String(streamResult.terminal?.data.status ?? 'no terminal event')}`,
            pass: receivedBytes === delivered && streamResult.terminal?.data.status === 'cancelled',
          },
          {
            name: 'last dropped event matches the run droppedBytes',
            target: String(final.droppedBytes),
            actual: lastDropped,
            pass: lastDropped === final.droppedBytes,
          },
        ],
        notes: [
          'MB = 10^6 bytes. RSS is VmRSS of the `patchbay serve` process (children excluded).',
          '/health is probed sequentially over one keep-alive connection; latency is request sent to body received, measured in the load generator.',
        ],
      },
      startedAt,
    );
  } finally {
    await server.stop();
  }
});
