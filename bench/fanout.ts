/**
 * fanout: 100 concurrent SSE subscribers on one run that prints 20 000 numbered lines. Every
 * subscriber must get every event exactly once, in order (seq 1..lastSeq, no gap, no
 * duplicate), the terminal status event, and output text equal to the expected lines.
 *
 * The child waits until every subscriber is connected and has seen `running`, so the events
 * travel the live fan-out path rather than the replay-from-store path. By default it prints
 * with a shell loop (one write per line, so many small events); `--mode seq` uses `seq`.
 *
 *   npx tsx bench/fanout.ts [--subscribers 100] [--lines 20000] [--mode loop|seq]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  api,
  heading,
  line,
  main,
  MB,
  option,
  readRss,
  round,
  roundSummary,
  sleep,
  startBenchServer,
  summarize,
  writeResult,
  type RunBody,
} from './lib/harness.js';
import { openEventStream, type EventStream, type StreamResult } from './lib/sse.js';

interface Subscriber {
  stream: EventStream;
  lastSeq: number;
  gaps: number;
  duplicates: number;
  sawRunning: boolean;
  texts: string[];
  outputEvents: number;
  /** Server timestamp of the first output event. */
  firstOutputTs: string | null;
  endedAt: number | null;
  result: StreamResult | null;
}

await main('fanout', async (startedAt) => {
  const count = option('subscribers', 100);
  const lines = option('lines', 20_000);
  const mode = option('mode', 'loop');
  const lateCount = option('late', 20);
  const lateSpreadMs = option('late-spread-ms', 300);
  if (count < 1 || count > 1000) throw new Error('--subscribers must be in [1, 1000]');
  if (lines < 1 || lines > 1_000_000) throw new Error('--lines must be in [1, 1000000]');
  if (mode !== 'loop' && mode !== 'seq') throw new Error('--mode must be loop or seq');

  const expected = Array.from({ length: lines }, (_, i) => `${i + 1}\n`).join('');
  // Wait (at most ~30 s) for the go file, then print.
  const wait =
    'i=0; while [ ! -e "$GO" ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i+1)); done; [ -e "$GO" ] || exit 3';
  const print =
    mode === 'loop' ? 'i=1; while [ $i -le "$N" ]; do echo $i; i=$((i+1)); done' : 'seq 1 "$N"';

  const server = await startBenchServer();
  try {
    heading(
      `fanout: ${count} SSE subscribers, ${lines} lines (${mode}), ${(expected.length / 1000).toFixed(0)} kB`,
    );
    const go = join(server.dataDir, 'go');
    const run = await api<RunBody>('POST', `${server.url}/v1/runs`, {
      agent: 'shell',
      command: ['sh', '-c', `${wait}; ${print}`],
      env: { GO: go, N: String(lines) },
      timeoutMs: 120_000,
    });

    const subscribe = (): Subscriber => {
      const sub: Subscriber = {
        stream: undefined as unknown as EventStream,
        lastSeq: 0,
        gaps: 0,
        duplicates: 0,
        sawRunning: false,
        texts: [],
        outputEvents: 0,
        firstOutputTs: null,
        endedAt: null,
        result: null,
      };
      sub.stream = openEventStream(server.url, run.id, {
        timeoutMs: 90_000,
        onEvent(event) {
          if (event.seq <= sub.lastSeq) sub.duplicates++;
          else if (event.seq !== sub.lastSeq + 1) sub.gaps++;
          sub.lastSeq = Math.max(sub.lastSeq, event.seq);
          if (event.type === 'status' && event.data.status === 'running') sub.sawRunning = true;
          if (event.type === 'output') {
            sub.outputEvents++;
            sub.firstOutputTs ??= event.ts;
            sub.texts.push(String(event.data.text));
          }
        },
      });
      void sub.stream.done.then((r) => {
        sub.result = r;
        sub.endedAt = performance.now();
      });
      return sub;
    };
    const subs: Subscriber[] = Array.from({ length: count }, subscribe);

    // Every subscriber connected and live before the first line is printed.
    const connectDeadline = performance.now() + 30_000;
    while (subs.some((s) => !s.sawRunning)) {
      if (performance.now() > connectDeadline || subs.some((s) => s.result !== null)) {
        throw new Error(
          `only ${subs.filter((s) => s.sawRunning).length}/${count} subscribers saw 'running' within 30 s`,
        );
      }
      await sleep(10);
    }
    const connectedMs = performance.now() - (connectDeadline - 30_000);

    let peakRss = readRss(server.pid)?.rss ?? 0;
    const rssTimer = setInterval(() => {
      peakRss = Math.max(peakRss, readRss(server.pid)?.rss ?? 0);
    }, 50);
    const tGo = performance.now();
    writeFileSync(go, '');
    // Late joiners connect while the run prints: they replay from the store, then switch to
    // live events, the path most likely to skip or repeat an event.
    const late: Subscriber[] = [];
    const lateTimers = Array.from({ length: lateCount }, (_, i) =>
      sleep((lateSpreadMs * (i + 1)) / lateCount).then(() => {
        late.push(subscribe());
      }),
    );
    await Promise.all(subs.map((s) => s.stream.done));
    const tDone = performance.now();
    await Promise.all(lateTimers);
    await Promise.all(late.map((s) => s.stream.done));
    clearInterval(rssTimer);
    peakRss = Math.max(peakRss, readRss(server.pid)?.rss ?? 0);

    const final = await api<RunBody>('GET', `${server.url}/v1/runs/${run.id}`);
    const check = (group: Subscriber[], label: string, problems: string[]): number => {
      let ok = 0;
      for (const [i, s] of group.entries()) {
        const r = s.result!;
        const text = s.texts.join('');
        const issues: string[] = [];
        if (r.ended !== 'end') issues.push(`stream ${r.ended}${r.error ? `: ${r.error}` : ''}`);
        if (r.terminal?.data.status !== 'succeeded') {
          issues.push(`terminal ${String(r.terminal?.data.status ?? 'missing')}`);
        }
        if (s.gaps) issues.push(`${s.gaps} gaps`);
        if (s.duplicates) issues.push(`${s.duplicates} duplicates`);
        if (r.events !== final.lastSeq || s.lastSeq !== final.lastSeq) {
          issues.push(`${r.events} events up to seq ${s.lastSeq}, run lastSeq ${final.lastSeq}`);
        }
        if (r.idMismatches) issues.push(`${r.idMismatches} SSE ids != seq`);
        if (text !== expected)
          issues.push(`output differs (${text.length} vs ${expected.length} chars)`);
        if (issues.length === 0) ok++;
        else problems.push(`${label} ${i}: ${issues.join(', ')}`);
      }
      return ok;
    };
    const problems: string[] = [];
    const complete = check(subs, 'subscriber', problems);
    const lateComplete = check(late, 'late subscriber', problems);

    const seconds = (tDone - tGo) / 1000;
    const perSub = summarize(subs.map((s) => (s.endedAt ?? tDone) - tGo));
    const wireBytes = subs.reduce((a, s) => a + (s.result?.wireBytes ?? 0), 0);
    const totalEvents = subs.reduce((a, s) => a + (s.result?.events ?? 0), 0);
    // Server clock: first output event to the terminal event (the print itself).
    const first = subs[0];
    const runSeconds =
      first?.firstOutputTs && first.result?.terminal
        ? (Date.parse(first.result.terminal.ts) - Date.parse(first.firstOutputTs)) / 1000
        : NaN;
    const figures = {
      runId: run.id,
      finalStatus: final.status,
      eventsPerSubscriber: final.lastSeq,
      outputEventsPerSubscriber: subs[0]?.outputEvents ?? 0,
      completeSubscribers: complete,
      lateSubscribers: lateCount,
      completeLateSubscribers: lateComplete,
      secondsGoToAllStreamsEnded: round(seconds, 3),
      perSubscriberDoneMs: roundSummary(perSub, 1),
      printSecondsServer: round(runSeconds, 3),
      eventsDelivered: totalEvents,
      eventsDeliveredPerSecond: Math.round(totalEvents / seconds),
      wireMB: round(wireBytes / MB, 1),
      connectAllMs: round(connectedMs, 1),
      serverPeakRssMB: round(peakRss / MB, 1),
      problems: problems.slice(0, 20),
    };

    heading('results');
    line('complete subscribers', `${complete}/${count}`);
    line(
      'complete late subscribers',
      `${lateComplete}/${lateCount} (joined over the first ${lateSpreadMs} ms)`,
    );
    line(
      'events per subscriber',
      `${final.lastSeq} (${figures.outputEventsPerSubscriber} output events)`,
    );
    line(
      'go → all streams ended',
      `${seconds.toFixed(3)} s (server: first output → terminal event ${runSeconds.toFixed(3)} s)`,
    );
    line(
      'per-subscriber completion',
      `p50 ${perSub.p50.toFixed(0)} ms, max ${perSub.max.toFixed(0)} ms`,
    );
    line(
      'delivered',
      `${totalEvents} events, ${figures.wireMB} MB of SSE, ${figures.eventsDeliveredPerSecond} events/s`,
    );
    line('all subscribers connected in', `${figures.connectAllMs} ms`);
    line('server peak RSS during fan-out', `${figures.serverPeakRssMB} MB`);
    for (const p of problems.slice(0, 5)) line('problem', p);

    await server.stop();
    return writeResult(
      {
        benchmark: 'fanout',
        description: `${count} concurrent SSE subscribers on one run printing ${lines} numbered lines; every subscriber must get every event.`,
        parameters: {
          subscribers: count,
          lines,
          mode,
          lateSubscribers: lateCount,
          lateSpreadMs,
          command: ['sh', '-c', `${wait}; ${print}`],
        },
        figures,
        targets: [
          {
            name: 'every subscriber got every event once, in order, the terminal event and the exact output',
            target: `${count}/${count}`,
            actual: `${complete}/${count}`,
            pass: complete === count && final.status === 'succeeded',
          },
          {
            name: 'late subscribers (joined mid-run) got the same complete stream',
            target: `${lateCount}/${lateCount}`,
            actual: `${lateComplete}/${lateCount}`,
            pass: lateComplete === lateCount,
          },
        ],
        notes: [
          'The child starts printing only once all subscribers have seen the running event, so delivery is live fan-out.',
          'Time to complete is measured from releasing the child to the last stream ending, in the load generator.',
        ],
      },
      startedAt,
    );
  } finally {
    await server.stop();
  }
});
