/**
 * schedules: does the schedule clock keep the server responsive with many enabled schedules?
 *
 * Creates N schedules through the HTTP API (a mix of every-minute, hourly, daily, monthly and
 * yearly crons in several time zones), then probes `GET /health` for a window that covers
 * several clock passes (the embedded clock looks at the store every 2 s) and one minute
 * boundary (every every-minute schedule fires there), and reads the server's event-loop delay
 * (prom-client's perf_hooks `monitorEventLoopDelay`, reset by the /metrics scrape before the
 * window). Every schedule's run is refused at fire time (its workdir is outside the trusted
 * roots), so a fire costs the clock and the fire path (claim, createRun's checks, the skipped
 * record) but no process: what is measured is the clock, not run throughput (see burst.ts).
 *
 * Target: /health p99 < 50 ms during the window.
 * Checks: sampled every-minute schedules have fired (skipped, WORKDIR_NOT_TRUSTED).
 *
 *   npx tsx bench/schedules.ts [--schedules 10000] [--window-s 30] [--concurrency 8]
 */
import {
  api,
  fmtMs,
  heading,
  httpRequest,
  line,
  main,
  option,
  parseMetrics,
  readCpuSeconds,
  round,
  roundSummary,
  sleep,
  startBenchServer,
  summarize,
  writeResult,
} from './lib/harness.js';

const ZONES = [
  'UTC',
  'Europe/Berlin',
  'America/New_York',
  'Asia/Tokyo',
  'Australia/Sydney',
  'Asia/Kolkata',
  'America/Los_Angeles',
];

/** Share of each kind, in percent; every-minute ones all fire at the minute boundary. */
const MIX = [
  ['everyMinute', 2],
  ['hourly', 20],
  ['daily', 30],
  ['monthly', 28],
  ['yearly', 20],
] as const;
type Kind = (typeof MIX)[number][0];

function kindOf(i: number): Kind {
  let slot = i % 100;
  for (const [kind, share] of MIX) {
    if (slot < share) return kind;
    slot -= share;
  }
  return 'daily';
}

/** A deterministic cron of that kind, spread over minutes, hours and days. */
function cronOf(kind: Kind, i: number): string {
  const m = (i * 7) % 60;
  const h = (i * 5) % 24;
  switch (kind) {
    case 'everyMinute':
      return '* * * * *';
    case 'hourly':
      return `${m} * * * *`;
    case 'daily':
      return `${m} ${h} * * *`;
    case 'monthly':
      return `${m} ${h} ${1 + (i % 28)} * *`;
    case 'yearly':
      return `${m} ${h} ${1 + (i % 28)} ${1 + (i % 12)} *`;
  }
}

interface ScheduleBody {
  id: string;
  fires?: { outcome: string; error: { code: string } | null }[];
}

await main('schedules', async (startedAt) => {
  const count = option('schedules', 10_000);
  const windowS = option('window-s', 30);
  const concurrency = option('concurrency', 8);
  const healthIntervalMs = option('health-interval-ms', 50);
  if (count < 1 || windowS < 5) throw new Error('--schedules >= 1 and --window-s >= 5');

  heading(`schedules: ${count} enabled schedules, /health for ${windowS} s while the clock runs`);
  const server = await startBenchServer();
  try {
    const idle: number[] = [];
    for (let i = 0; i < 40; i++) {
      idle.push((await httpRequest('GET', `${server.url}/health`)).ms);
      await sleep(25);
    }

    // Create through the API, `concurrency` at a time.
    const createMs: number[] = [];
    const everyMinute: string[] = [];
    const kinds: Record<string, number> = {};
    let next = 0;
    const createStart = performance.now();
    const creator = async (): Promise<void> => {
      for (let i = next++; i < count; i = next++) {
        const kind = kindOf(i);
        kinds[kind] = (kinds[kind] ?? 0) + 1;
        const body = {
          name: `bench ${kind} ${i}`,
          cron: cronOf(kind, i),
          timezone: ZONES[i % ZONES.length],
          run: { command: ['true'], workdir: '/etc', env: { BENCH_TOKEN: `secret-${i}` } },
        };
        const t0 = performance.now();
        const created = await api<ScheduleBody>('POST', `${server.url}/v1/schedules`, body, [201]);
        createMs.push(performance.now() - t0);
        if (kind === 'everyMinute') everyMinute.push(created.id);
        if ((i + 1) % 1000 === 0) process.stdout.write(`  created ${i + 1}\n`);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, creator));
    const createWallS = (performance.now() - createStart) / 1000;
    line('created', `${count} in ${createWallS.toFixed(1)} s`);

    // Let the clock settle, then start the window so that a minute boundary falls inside it.
    await sleep(3000);
    const second = new Date().getUTCSeconds();
    const lead = Math.max(5, Math.min(windowS - 5, Math.floor(windowS / 2)));
    if (60 - second < lead) await sleep((60 - second + (60 - lead)) * 1000);
    else await sleep((60 - lead - second) * 1000);

    await httpRequest('GET', `${server.url}/metrics`); // resets the event-loop delay histogram
    const cpu0 = readCpuSeconds(server.pid) ?? 0;
    const windowStart = performance.now();
    const windowEnd = windowStart + windowS * 1000;
    const healthMs: number[] = [];
    const healthAt: number[] = [];
    let healthErrors = 0;
    while (performance.now() < windowEnd) {
      const t0 = performance.now();
      try {
        const res = await httpRequest('GET', `${server.url}/health`, undefined, {
          timeoutMs: 10_000,
        });
        if (res.status !== 200) healthErrors++;
        healthMs.push(res.ms);
      } catch {
        healthErrors++;
        healthMs.push(10_000);
      }
      healthAt.push(t0 - windowStart);
      const wait = healthIntervalMs - (performance.now() - t0);
      if (wait > 0) await sleep(wait);
    }
    const wallS = (performance.now() - windowStart) / 1000;
    const cpuPercent = (((readCpuSeconds(server.pid) ?? 0) - cpu0) / wallS) * 100;
    const metrics = parseMetrics((await httpRequest('GET', `${server.url}/metrics`)).body);
    const lag = (q: string): number =>
      round((metrics.get(`patchbay_nodejs_eventloop_lag_${q}_seconds`) ?? NaN) * 1000);

    // The every-minute schedules fired at the boundary inside the window (skipped: untrusted).
    const sample = everyMinute.slice(0, 20);
    let fired = 0;
    const deadline = Date.now() + 60_000;
    for (const id of sample) {
      for (;;) {
        const s = await api<ScheduleBody>('GET', `${server.url}/v1/schedules/${id}`);
        const skipped = (s.fires ?? []).filter((f) => f.error?.code === 'WORKDIR_NOT_TRUSTED');
        if (skipped.length > 0) {
          fired++;
          break;
        }
        if (Date.now() > deadline) break;
        await sleep(250);
      }
    }
    const listStart = performance.now();
    const list = await httpRequest('GET', `${server.url}/v1/schedules`, undefined, {
      timeoutMs: 120_000,
    });
    const listMs = performance.now() - listStart;

    const health = roundSummary(summarize(healthMs));
    const idleSummary = roundSummary(summarize(idle));
    const creates = roundSummary(summarize(createMs));
    heading('results');
    line('/health idle', fmtMs(idleSummary));
    line('/health during the window', fmtMs(health));
    line('event-loop delay (server)', `p50 ${lag('p50')}  p99 ${lag('p99')}  max ${lag('max')} ms`);
    line('server CPU during the window', `${cpuPercent.toFixed(0)} %`);
    line('POST /v1/schedules', fmtMs(creates));
    line('GET /v1/schedules (all)', `${listMs.toFixed(0)} ms, ${list.body.length} bytes`);
    line('every-minute fired (sample)', `${fired}/${sample.length}`);
    const slowest = healthMs
      .map((ms, i) => ({ atS: round((healthAt[i] ?? 0) / 1000, 2), ms: round(ms, 1) }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 5);

    return writeResult(
      {
        benchmark: 'schedules',
        description:
          '/health latency and event-loop delay with N enabled schedules while the schedule clock runs',
        parameters: { schedules: count, windowS, concurrency, healthIntervalMs, mix: MIX, kinds },
        figures: {
          healthIdleMs: idleSummary,
          healthMs: health,
          healthSlowest: slowest,
          healthErrors,
          eventLoopDelayMs: { p50: lag('p50'), p99: lag('p99'), max: lag('max') },
          serverCpuPercent: round(cpuPercent, 1),
          createMs: creates,
          createWallS: round(createWallS, 1),
          listAllMs: round(listMs, 1),
          listAllStatus: list.status,
          everyMinuteFiredSample: `${fired}/${sample.length}`,
        },
        targets: [
          {
            name: '/health p99 during the window',
            target: '< 50 ms',
            actual: health.p99,
            unit: 'ms',
            pass: health.p99 < 50 && healthErrors === 0,
          },
          {
            name: 'sampled every-minute schedules fired in the window',
            target: 'all',
            actual: `${fired}/${sample.length}`,
            pass: fired === sample.length,
          },
        ],
        notes: [
          'Runs are refused at fire time (workdir outside the trusted roots): fires cost the clock and the fire path, no process.',
        ],
      },
      startedAt,
    );
  } finally {
    await server.stop();
  }
});
