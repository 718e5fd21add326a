/**
 * throughput: bytes per second a flooding child gets through Patchbay to one SSE subscriber
 * (child → supervisor → event store → bus → SSE → client), with a cap high enough that nothing
 * is dropped. Compared with the same producer piped straight to /dev/null, and with a Node
 * process reading that pipe itself (the ceiling for anything written in Node).
 *
 * No hard target: the figure and the ratio are reported.
 *
 *   npx tsx bench/throughput.ts [--bytes 268435456] [--baseline-repeats 3]
 */
import { spawn } from 'node:child_process';
import {
  api,
  heading,
  line,
  main,
  MB,
  MiB,
  option,
  readCpuSeconds,
  readRss,
  round,
  startBenchServer,
  summarize,
  writeResult,
  type RunBody,
} from './lib/harness.js';
import { openEventStream } from './lib/sse.js';

/** Times `sh -c script` from spawn to exit; optionally reads its stdout in this process. */
function timeShell(script: string, read: boolean): Promise<{ seconds: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let bytes = 0;
    const child = spawn('sh', ['-c', script], {
      stdio: ['ignore', read ? 'pipe' : 'ignore', 'inherit'],
    });
    child.stdout?.on('data', (c: Buffer) => (bytes += c.length));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`${script}: exit ${String(code)}`));
      else resolve({ seconds: (performance.now() - started) / 1000, bytes });
    });
  });
}

const median = (xs: number[]): number => summarize(xs).p50;

await main('throughput', async (startedAt) => {
  const bytes = option('bytes', 256 * MiB);
  const repeats = option('baseline-repeats', 3);
  if (bytes < MiB || bytes > 2048 * MiB) throw new Error('--bytes must be between 1 MiB and 2 GiB');
  const producer = `yes | head -c ${bytes}`;

  heading(`throughput: \`${producer}\` (${(bytes / MB).toFixed(0)} MB), nothing dropped`);

  // Baselines first, on the quiet machine.
  const bare: number[] = [];
  const nodeRead: number[] = [];
  for (let i = 0; i < repeats; i++) {
    bare.push((await timeShell(`${producer} > /dev/null`, false)).seconds);
    const r = await timeShell(producer, true);
    if (r.bytes !== bytes)
      throw new Error(`node pipe baseline read ${r.bytes} bytes, expected ${bytes}`);
    nodeRead.push(r.seconds);
  }
  const bareRate = bytes / median(bare);
  const nodeRate = bytes / median(nodeRead);
  line(
    'bare pipe to /dev/null',
    `${(bareRate / MB).toFixed(0)} MB/s (median of ${repeats}: ${bare.map((s) => s.toFixed(3)).join(', ')} s)`,
  );
  line(
    'Node reading the pipe',
    `${(nodeRate / MB).toFixed(0)} MB/s (median of ${repeats}: ${nodeRead.map((s) => s.toFixed(3)).join(', ')} s)`,
  );

  const server = await startBenchServer();
  try {
    // The output is `y\n` repeated; each event's text must continue that pattern exactly.
    let pattern = 'y\n'.repeat(64 * 1024);
    let received = 0;
    let outputEvents = 0;
    let patternErrors = 0;
    let droppedEvents = 0;
    let firstOutputAt: number | null = null;
    let lastOutputAt: number | null = null;
    const rss: number[] = [];
    const rssTimer = setInterval(() => {
      const r = readRss(server.pid);
      if (r) rss.push(r.rss);
    }, 250);

    const serverCpu0 = readCpuSeconds(server.pid) ?? 0;
    const selfCpu0 = process.cpuUsage();
    const t0 = performance.now();
    const run = await api<RunBody>('POST', `${server.url}/v1/runs`, {
      agent: 'shell',
      command: ['sh', '-c', producer],
      // `kill` keeps no tail, so the whole output is head: delivered live, never held back.
      maxOutputBytes: bytes * 2,
      outputPolicy: 'kill',
      timeoutMs: 300_000,
    });
    const stream = openEventStream(server.url, run.id, {
      timeoutMs: 300_000,
      onEvent(event) {
        if (event.type === 'dropped') droppedEvents++;
        if (event.type !== 'output') return;
        const text = String(event.data.text);
        firstOutputAt ??= performance.now();
        lastOutputAt = performance.now();
        outputEvents++;
        const offset = received % 2;
        if (text.length + 1 > pattern.length) pattern = 'y\n'.repeat(text.length);
        if (text !== pattern.slice(offset, offset + text.length)) patternErrors++;
        received += Buffer.byteLength(text, 'utf8');
      },
    });
    const result = await stream.done;
    const t1 = performance.now();
    const serverCpuS = (readCpuSeconds(server.pid) ?? 0) - serverCpu0;
    const selfCpu = process.cpuUsage(selfCpu0);
    const selfCpuS = (selfCpu.user + selfCpu.system) / 1e6;
    clearInterval(rssTimer);
    const final = await api<RunBody>('GET', `${server.url}/v1/runs/${run.id}`);

    const seconds = (t1 - t0) / 1000;
    const rate = received / seconds;
    const windowS =
      firstOutputAt !== null && lastOutputAt !== null ? (lastOutputAt - firstOutputAt) / 1000 : NaN;
    const r = summarize(rss);
    const figures = {
      runId: run.id,
      finalStatus: final.status,
      outputBytes: final.outputBytes,
      droppedBytes: final.droppedBytes,
      receivedBytes: received,
      outputEvents,
      avgEventBytes: Math.round(received / Math.max(1, outputEvents)),
      patternErrors,
      seconds: round(seconds, 3),
      patchbayMBps: round(rate / MB, 1),
      deliveryWindowMBps: round(received / windowS / MB, 1),
      bareMBps: round(bareRate / MB, 1),
      nodeReadMBps: round(nodeRate / MB, 1),
      ratioVsBare: round(rate / bareRate, 4),
      ratioVsNodeRead: round(rate / nodeRate, 4),
      bareSeconds: bare.map((s) => round(s, 3)),
      nodeReadSeconds: nodeRead.map((s) => round(s, 3)),
      serverRssMB: { avg: round(r.mean / MB, 1), max: round(r.max / MB, 1), samples: r.n },
      streamEnded: result.ended,
      // 100 = one core busy for the whole run.
      cpuPercent: {
        server: round((serverCpuS / seconds) * 100, 0),
        loadGenerator: round((selfCpuS / seconds) * 100, 0),
      },
    };

    heading('results');
    line(
      'Patchbay → SSE subscriber',
      `${figures.patchbayMBps} MB/s (${received} bytes in ${seconds.toFixed(2)} s, POST to stream end)`,
    );
    line('  first→last output event', `${figures.deliveryWindowMBps} MB/s`);
    line('  output events', `${outputEvents} (avg ${figures.avgEventBytes} bytes)`);
    line(
      'bare pipe to /dev/null',
      `${figures.bareMBps} MB/s  → Patchbay is ${(figures.ratioVsBare * 100).toFixed(2)}% of it (1/${(1 / figures.ratioVsBare).toFixed(0)})`,
    );
    line(
      'Node reading the pipe',
      `${figures.nodeReadMBps} MB/s  → Patchbay is ${(figures.ratioVsNodeRead * 100).toFixed(2)}% of it`,
    );
    line(
      'CPU (100% = 1 core)',
      `server ${figures.cpuPercent.server}%, load generator ${figures.cpuPercent.loadGenerator}%`,
    );
    line(
      'server RSS during the run',
      `avg ${figures.serverRssMB.avg} MB, max ${figures.serverRssMB.max} MB`,
    );

    await server.stop();
    return writeResult(
      {
        benchmark: 'throughput',
        description:
          'Output bytes per second from a flooding child to one SSE subscriber, nothing dropped, vs the bare pipe.',
        parameters: {
          bytes,
          producer,
          maxOutputBytes: bytes * 2,
          outputPolicy: 'kill',
          baselineRepeats: repeats,
        },
        figures,
        targets: [
          {
            name: 'every byte delivered, in order (no drops, pattern intact)',
            target: `${bytes} bytes, 0 dropped, 0 pattern errors, succeeded`,
            actual: `${received} bytes, ${final.droppedBytes} dropped, ${patternErrors} pattern errors, ${final.status}`,
            pass:
              received === bytes &&
              final.outputBytes === bytes &&
              final.droppedBytes === 0 &&
              droppedEvents === 0 &&
              patternErrors === 0 &&
              final.status === 'succeeded' &&
              result.terminal?.data.status === 'succeeded',
          },
        ],
        notes: [
          'MB = 10^6 bytes. No throughput target: the rate and ratio are information.',
          'Patchbay stores every output event in SQLite before it is published to subscribers, so the rate includes the store write.',
          'All processes share the machine: producer, server and load generator compete for the same cores.',
        ],
      },
      startedAt,
    );
  } finally {
    await server.stop();
  }
});
