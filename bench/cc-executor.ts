/**
 * cc-executor: the cc_executor layer's own acceptance figures, through its WebSocket at /ws/mcp
 * with a client that speaks only cc_executor's JSON-RPC (answering its pings).
 *
 * 1. stream: `yes | pv -qL 50000` (50 kB/s) for --duration-s while the server's RSS is sampled
 *    every 250 ms (and the kernel's VmHWM read at the end). Target: peak RSS < 100 MB.
 * 2. control: --sessions sessions at once, each PAUSE → RESUME → CANCEL a 90 s job (checking
 *    the process is stopped while paused and its group gone after the cancel), --repetitions
 *    times. Targets: ≥ 99 % of the cycles pass, 0 orphan processes at the end.
 *
 *   npx tsx bench/cc-executor.ts [--duration-s 60] [--sessions 3] [--repetitions 100] [--quick]
 *
 * Needs `pv` (apt-get install pv).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import WebSocket from 'ws';
import {
  flag,
  heading,
  line,
  main,
  MB,
  option,
  readRss,
  round,
  sleep,
  startBenchServer,
  writeResult,
  type BenchServer,
} from './lib/harness.js';

const RSS_TARGET_BYTES = 100 * MB;
const PASS_TARGET = 0.99;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** A minimal cc_executor client: responses by id, notifications in order, pings answered. */
class Client {
  readonly notes: { method: string; params: Json }[] = [];
  outputBytes = 0;
  private readonly waiting = new Map<number, (m: Json) => void>();
  private id = 0;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const m = JSON.parse(String(raw)) as Json;
      if (typeof m.id === 'number' && this.waiting.has(m.id)) {
        this.waiting.get(m.id)!(m);
        this.waiting.delete(m.id);
      } else if (m.method === 'ping') {
        ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'pong' }));
      } else if (m.method === 'process.output') {
        this.outputBytes += Buffer.byteLength(String(m.params.data));
      } else if (typeof m.method === 'string') {
        this.notes.push({ method: m.method, params: m.params });
      }
    });
  }
  static open(url: string): Promise<Client> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const c = new Client(ws);
      ws.once('open', () => resolve(c));
      ws.once('error', reject);
    });
  }
  call(method: string, params: Json, timeoutMs = 30_000): Promise<Json> {
    const id = ++this.id;
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`${method}: no answer in ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiting.set(id, (m) => {
        clearTimeout(t);
        resolve(m);
      });
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
  }
  async until(method: string, from: number, timeoutMs = 15_000): Promise<Json> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.notes.slice(from).find((n) => n.method === method);
      if (hit) return hit.params;
      if (Date.now() > deadline) throw new Error(`no ${method} within ${timeoutMs} ms`);
      await sleep(10);
    }
  }
  close(): void {
    this.ws.close();
  }
}

function procState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return null;
  }
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Live processes (zombies excluded) whose command line contains `marker`. */
function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const state = procState(Number(entry));
      if (cmd.includes(marker) && state !== 'Z' && state !== null) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

async function waitUntil(ok: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

async function stream(server: BenchServer, wsUrl: string, durationS: number) {
  const c = await Client.open(wsUrl);
  const samples: number[] = [];
  const timeline: [number, number][] = [];
  const sampler = setInterval(() => {
    const r = readRss(server.pid);
    if (r) samples.push(r.rss);
    if (r) timeline.push([Math.round(performance.now()), round(r.rss / MB, 1)]);
  }, 250);
  const idle = readRss(server.pid)?.rss ?? 0;
  const started = await c.call('execute', {
    command: 'yes | pv -qL 50000',
    timeout: durationS + 60,
  });
  if (started.error) throw new Error(`execute refused: ${JSON.stringify(started.error)}`);
  server.trackGroup(started.result.pgid);
  const t0 = performance.now();
  for (let left = durationS; left > 0; left -= 10) {
    await sleep(Math.min(10, left) * 1000);
    const at = (performance.now() - t0) / 1000;
    line(
      `after ${Math.round(at)} s`,
      `${round(c.outputBytes / at / 1000, 1)} kB/s received, RSS ${round((readRss(server.pid)?.rss ?? 0) / MB, 1)} MB`,
    );
  }
  const bytes = c.outputBytes;
  const seconds = (performance.now() - t0) / 1000;
  const asked = performance.now();
  const cancel = await c.call('control', { type: 'CANCEL' }, 120_000);
  const cancelAnswerMs = round(performance.now() - asked);
  if (flag('timeline')) {
    for (const [t, mb] of timeline.filter(([t]) => t > asked - 3000)) {
      line(`t ${Math.round(t - asked)} ms from CANCEL`, `${mb} MB`);
    }
  }
  if (cancel.result?.status !== 'canceled') throw new Error(`CANCEL: ${JSON.stringify(cancel)}`);
  clearInterval(sampler);
  const hwm = readRss(server.pid)?.hwm ?? 0;
  c.close();
  // As the flood benchmark: the higher of the samples and the kernel's high-water mark.
  const peak = Math.max(...samples, hwm);
  return {
    idleRssMB: round(idle / MB, 1),
    peakSampledRssMB: round(peak / MB, 1),
    vmHwmMB: round(hwm / MB, 1),
    receivedBytes: bytes,
    receivedKBps: round(bytes / seconds / 1000, 1),
    samples: samples.length,
    cancelAnswerMs,
    peak,
  };
}

/** One PAUSE → RESUME → CANCEL cycle of one session; returns the failure, or null. */
async function cycle(c: Client, marker: string): Promise<string | null> {
  const from = c.notes.length;
  const res = await c.call('execute', { command: `sleep ${marker}`, timeout: 120 });
  if (res.error || res.result?.status !== 'started') return `execute: ${JSON.stringify(res)}`;
  const { pid, pgid } = res.result as { pid: number; pgid: number };
  const paused = await c.call('control', { type: 'PAUSE' });
  if (paused.result?.status !== 'paused') return `PAUSE: ${JSON.stringify(paused)}`;
  await c.until('process.paused', from);
  if (!(await waitUntil(() => procState(pid) === 'T', 5000))) return 'not stopped after PAUSE';
  const resumed = await c.call('control', { type: 'RESUME' });
  if (resumed.result?.status !== 'resumed') return `RESUME: ${JSON.stringify(resumed)}`;
  await c.until('process.resumed', from);
  if (!(await waitUntil(() => procState(pid) !== 'T', 5000))) return 'still stopped after RESUME';
  const cancelled = await c.call('control', { type: 'CANCEL' });
  if (cancelled.result?.status !== 'canceled') return `CANCEL: ${JSON.stringify(cancelled)}`;
  await c.until('process.canceled', from);
  if (!(await waitUntil(() => !groupAlive(pgid), 10_000)))
    return 'process group alive after CANCEL';
  // The session takes the next execute only once the run's end is stored.
  await sleep(50);
  return null;
}

await main('cc-executor', async (startedAt) => {
  const quick = flag('quick');
  const durationS = option('duration-s', quick ? 10 : 60);
  const sessions = option('sessions', 3);
  const repetitions = option('repetitions', quick ? 10 : 100);
  if (spawnSync('pv', ['--version']).status !== 0) throw new Error('pv is not installed');

  const server = await startBenchServer({
    PATCHBAY_COMPAT: 'cc-executor',
    PATCHBAY_MAX_CONCURRENT_RUNS: String(Math.max(4, sessions + 1)),
    PATCHBAY_KILL_GRACE_MS: '1000',
  });
  const wsUrl = `${server.url.replace(/^http/, 'ws')}/ws/mcp`;
  try {
    heading(`cc-executor stream: yes | pv -qL 50000 for ${durationS} s through /ws/mcp`);
    const s = await stream(server, wsUrl, durationS);
    line('server RSS idle / peak sampled', `${s.idleRssMB} / ${s.peakSampledRssMB} MB`);
    line('server VmHWM', `${s.vmHwmMB} MB`);
    line('received', `${s.receivedBytes} B (${s.receivedKBps} kB/s)`);
    line('CANCEL answered in', `${s.cancelAnswerMs} ms`);

    heading(`cc-executor control: ${sessions} sessions × ${repetitions} PAUSE → RESUME → CANCEL`);
    const clients = await Promise.all(Array.from({ length: sessions }, () => Client.open(wsUrl)));
    const failures: string[] = [];
    let passed = 0;
    const cycleMs: number[] = [];
    for (let rep = 0; rep < repetitions; rep++) {
      const outcomes = await Promise.all(
        clients.map(async (c, k) => {
          const t = performance.now();
          const marker = `90.${String(rep).padStart(4, '0')}${k}1`;
          const why = await cycle(c, marker).catch((err: Error) => err.message);
          cycleMs.push(performance.now() - t);
          return why;
        }),
      );
      for (const why of outcomes) {
        if (why === null) passed++;
        else failures.push(`rep ${rep}: ${why}`);
      }
      if ((rep + 1) % 10 === 0) line(`after ${rep + 1} repetitions`, `${passed} passed`);
    }
    for (const c of clients) c.close();
    await sleep(1000);
    const orphans = processesWith('sleep 90.');
    const total = sessions * repetitions;
    const rate = passed / total;
    cycleMs.sort((a, b) => a - b);
    line('cycles passed', `${passed}/${total} (${round(rate * 100, 1)} %)`);
    line(
      'cycle wall p50 / p95',
      `${round(cycleMs[Math.floor(cycleMs.length / 2)] ?? 0)} / ${round(cycleMs[Math.floor(cycleMs.length * 0.95)] ?? 0)} ms`,
    );
    line('orphan processes', String(orphans.length));
    for (const f of failures.slice(0, 5)) line('failure', f);

    return writeResult(
      {
        benchmark: 'cc-executor',
        description:
          'cc_executor layer: 50 kB/s for the duration through /ws/mcp with the server RSS sampled; concurrent sessions each PAUSE → RESUME → CANCEL a 90 s job, repeated',
        parameters: { durationS, sessions, repetitions, quick },
        figures: {
          stream: { ...s, peak: undefined },
          control: {
            cycles: total,
            passed,
            passPercent: round(rate * 100, 2),
            cycleMsP50: round(cycleMs[Math.floor(cycleMs.length / 2)] ?? 0),
            orphans: orphans.length,
            failures: failures.slice(0, 20),
          },
        },
        targets: [
          {
            name: 'peak server RSS while streaming (samples and VmHWM)',
            target: '< 100 MB',
            actual: round(s.peak / MB, 1),
            unit: 'MB',
            pass: s.peak < RSS_TARGET_BYTES,
          },
          {
            name: 'PAUSE → RESUME → CANCEL cycles passing',
            target: '≥ 99 %',
            actual: round(rate * 100, 2),
            unit: '%',
            pass: rate >= PASS_TARGET,
          },
          {
            name: 'orphan processes',
            target: '0',
            actual: orphans.length,
            pass: orphans.length === 0,
          },
        ],
        notes: ['The machine may be shared: figures are noisy.'],
      },
      startedAt,
    );
  } finally {
    await server.stop();
  }
});
