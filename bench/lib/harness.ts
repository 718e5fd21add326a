/**
 * Shared plumbing of the benchmarks: a real `patchbay serve` child process on a free loopback
 * port with a throw-away data dir, options from flags or env, sampling helpers, statistics and
 * the JSON result file. Nothing here is imported by the product; bench/ stands on its own.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  mkdtempSync,
} from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const RESULTS_DIR = join(ROOT, 'bench', 'results');
export const BIN = join(ROOT, 'bin', 'patchbay.js');

// ---------------------------------------------------------------- options

/**
 * Reads `--name value`, `--name=value` or the env var `BENCH_NAME` (dashes become
 * underscores, upper-cased). Flags win over env, env over the default.
 */
export function option(name: string, fallback: number): number;
export function option(name: string, fallback: string): string;
export function option(name: string, fallback: number | string): number | string {
  const argv = process.argv.slice(2);
  let raw: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === `--${name}`) raw = argv[i + 1];
    else if (a.startsWith(`--${name}=`)) raw = a.slice(name.length + 3);
  }
  raw ??= process.env[`BENCH_${name.replace(/-/g, '_').toUpperCase()}`];
  if (raw === undefined || raw === '') return fallback;
  if (typeof fallback === 'number') {
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new Error(`--${name}: not a number: ${raw}`);
    return n;
  }
  return raw;
}

export function flag(name: string): boolean {
  const env = process.env[`BENCH_${name.replace(/-/g, '_').toUpperCase()}`];
  return (
    process.argv.includes(`--${name}`) || (env !== undefined && !['', '0', 'false'].includes(env))
  );
}

// ---------------------------------------------------------------- build

function newestMtime(dir: string, filter: (name: string) => boolean): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path, filter));
    else if (filter(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Runs `npm run build` when dist/ is missing or older than any source file. */
export function ensureBuilt(): void {
  if (flag('no-build')) return;
  const entry = join(ROOT, 'dist', 'patchbay.mjs'); // the bundle: the last thing the build writes
  const built = existsSync(entry) ? statSync(entry).mtimeMs : 0;
  const source = newestMtime(
    join(ROOT, 'src'),
    (n) => n.endsWith('.ts') && !n.endsWith('.test.ts'),
  );
  if (built >= source) return;
  process.stderr.write('[bench] dist/ is stale: npm run build\n');
  const r = spawnSync('npm', ['run', 'build'], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`npm run build failed (exit ${String(r.status)})`);
}

// ---------------------------------------------------------------- server

export interface BenchServer {
  url: string;
  port: number;
  pid: number;
  dataDir: string;
  /** Last lines the server wrote (stdout and stderr), for diagnostics. */
  logTail(): string;
  /** Process groups of runs that must not outlive the benchmark (killed at stop). */
  trackGroup(pgid: number): void;
  stop(): Promise<{ code: number | null; signal: string | null; forced: boolean }>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Node flags the launcher asks for in its shebang (`#!/usr/bin/env -S node --flag`). Running
 * `node bin/patchbay.js` skips the shebang, so the harness passes them itself: the server then
 * runs as `patchbay serve` does. `--no-shebang-flags` leaves them out (for comparison).
 */
export function launcherNodeFlags(): string[] {
  if (flag('no-shebang-flags')) return [];
  const first = readFileSync(BIN, 'utf8').split('\n', 1)[0] ?? '';
  const m = /^#!\S*env\s+-S\s+node\s+(.*)$/.exec(first.trim());
  return m ? m[1]!.split(/\s+/).filter(Boolean) : [];
}

/** NODE_OPTIONS for the server process (default none): lets an experiment try V8 flags. */
export function serverNodeOptions(): string {
  return option('server-node-options', '');
}

const liveServers = new Set<ChildProcess>();
const liveGroups = new Set<number>();
function killLeftovers(): void {
  for (const child of liveServers) if (child.exitCode === null) child.kill('SIGKILL');
  for (const pgid of liveGroups) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
process.once('exit', killLeftovers);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    killLeftovers();
    process.exit(130);
  });
}

/**
 * Starts `node bin/patchbay.js serve` (or `worker`, its health port standing in for the API port) as a separate process: fresh temp data dir, free port,
 * PATCHBAY_LOG_LEVEL=warn, no PATCHBAY_* inherited from the caller's environment, cwd in the
 * data dir (so no stray patchbay.config.json is picked up). Resolves once /health answers.
 */
export async function startBenchServer(
  env: Record<string, string> = {},
  options: { command?: 'serve' | 'worker'; args?: string[] } = {},
): Promise<BenchServer> {
  ensureBuilt();
  const dataDir = mkdtempSync(join(os.tmpdir(), 'patchbay-bench-'));
  const port = await freePort();
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('PATCHBAY_')) childEnv[k] = v;
  }
  Object.assign(childEnv, { PATCHBAY_LOG_LEVEL: 'warn', PATCHBAY_LOG_FORMAT: 'json' }, env);
  // For experiments only (e.g. --server-node-options=--max-semi-space-size=2); recorded in results.
  delete childEnv.NODE_OPTIONS;
  const nodeOptions = serverNodeOptions();
  if (nodeOptions) childEnv.NODE_OPTIONS = nodeOptions;
  const child = spawn(
    process.execPath,
    [
      ...launcherNodeFlags(),
      BIN,
      ...(options.command === 'worker'
        ? ['worker', '--health-port', String(port)]
        : ['serve', '--host', '127.0.0.1', '--port', String(port)]),
      '--data-dir',
      dataDir,
      ...(options.args ?? []),
    ],
    { cwd: dataDir, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  liveServers.add(child);
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-16_384);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      liveServers.delete(child);
      resolve({ code, signal });
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const token = env.PATCHBAY_API_TOKENS?.split(',')[0];
  const deadline = Date.now() + 20_000;
  let early: { code: number | null; signal: string | null } | undefined;
  void exited.then((e) => (early = e));
  for (;;) {
    if (early) throw new Error(`server exited during start (${JSON.stringify(early)}):\n${tail}`);
    try {
      const res = await httpRequest('GET', `${url}/health`, undefined, {
        timeoutMs: 1000,
        // A server with tokens answers its probes only with one.
        ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
      });
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not answer /health within 20 s:\n${tail}`);
    }
    await sleep(50);
  }
  const flags = launcherNodeFlags();
  process.stdout.write(
    `  server: pid ${String(child.pid)}, node ${[...flags, 'bin/patchbay.js'].join(' ')} ${options.command ?? 'serve'} on ${url}${nodeOptions ? ` (NODE_OPTIONS=${nodeOptions})` : ''}\n`,
  );
  const groups = new Set<number>();
  return {
    url,
    port,
    pid: child.pid!,
    dataDir,
    logTail: () => tail,
    trackGroup(pgid) {
      groups.add(pgid);
      liveGroups.add(pgid);
    },
    async stop() {
      let forced = false;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => {
          forced = true;
          child.kill('SIGKILL');
        }, 15_000);
        await exited;
        clearTimeout(timer);
      }
      const result = await exited;
      for (const pgid of groups) {
        try {
          process.kill(-pgid, 'SIGKILL');
        } catch {
          // gone, as it should be
        }
        liveGroups.delete(pgid);
      }
      if (!flag('keep-data')) rmSync(dataDir, { recursive: true, force: true });
      return { ...result, forced };
    },
  };
}

// ---------------------------------------------------------------- HTTP

export const keepAliveAgent = new http.Agent({ keepAlive: true, maxSockets: 256 });

export interface HttpResult {
  status: number;
  body: string;
  /** Milliseconds from sending the request to the end of the response body. */
  ms: number;
}

/** One HTTP request over loopback; the body is read whole (use sse.ts for streams). */
export function httpRequest(
  method: string,
  url: string,
  body?: unknown,
  options: { agent?: http.Agent; timeoutMs?: number; headers?: Record<string, string> } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const started = performance.now();
    const req = http.request(
      url,
      {
        method,
        agent: options.agent ?? keepAliveAgent,
        headers: {
          ...(payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - started,
          }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(options.timeoutMs ?? 30_000, () =>
      req.destroy(new Error(`${method} ${url}: timed out`)),
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** JSON request that must answer with one of `expect` statuses. */
export async function api<T>(
  method: string,
  url: string,
  body?: unknown,
  expect: number[] = [200, 202],
): Promise<T> {
  const res = await httpRequest(method, url, body);
  if (!expect.includes(res.status)) {
    throw new Error(`${method} ${url} -> ${res.status}: ${res.body.slice(0, 500)}`);
  }
  return JSON.parse(res.body) as T;
}

/** The subset of the Run resource the benchmarks read. */
export interface RunBody {
  id: string;
  status: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  exitCode: number | null;
  outputBytes: number;
  droppedBytes: number;
  lastSeq: number;
  error: { code: string; message: string } | null;
}

export const TERMINAL = new Set(['succeeded', 'failed', 'cancelled', 'timed_out', 'interrupted']);

// ---------------------------------------------------------------- sampling

/** Resident set size of a process in bytes (VmRSS), or null when it is gone. */
export function readRss(pid: number): { rss: number; hwm: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => {
      const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
      return m ? Number(m[1]) * 1024 : 0;
    };
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) a process has used so far, or null when it is gone. */
export function readCpuSeconds(pid: number): number | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
    return ticks / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

/** Reads gauges of the server's Prometheus text (e.g. patchbay_nodejs_eventloop_lag_p99_seconds). */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    const value = Number(line.slice(sp + 1));
    if (Number.isFinite(value)) out.set(line.slice(0, sp), value);
  }
  return out;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- statistics

export interface Summary {
  n: number;
  min: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles. */
export function summarize(values: number[]): Summary {
  if (values.length === 0)
    return { n: 0, min: NaN, mean: NaN, p50: NaN, p95: NaN, p99: NaN, max: NaN };
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number): number =>
    s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
  return {
    n: s.length,
    min: s[0]!,
    mean: s.reduce((a, b) => a + b, 0) / s.length,
    p50: at(50),
    p95: at(95),
    p99: at(99),
    max: s[s.length - 1]!,
  };
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function roundSummary(s: Summary, digits = 2): Summary {
  return {
    n: s.n,
    min: round(s.min, digits),
    mean: round(s.mean, digits),
    p50: round(s.p50, digits),
    p95: round(s.p95, digits),
    p99: round(s.p99, digits),
    max: round(s.max, digits),
  };
}

export const MB = 1_000_000;
export const MiB = 1024 * 1024;

// ---------------------------------------------------------------- results

export interface Target {
  name: string;
  /** Human form, e.g. "< 100 MB". */
  target: string;
  actual: number | string | boolean;
  unit?: string;
  pass: boolean;
}

export interface BenchResult {
  benchmark: string;
  description: string;
  parameters: Record<string, unknown>;
  figures: Record<string, unknown>;
  targets: Target[];
  notes?: string[];
}

function git(args: string[]): string | null {
  const r = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Load average when the benchmark process started: the machine may be shared. */
const loadAtStart = os.loadavg()[0] ?? 0;

export function machineInfo(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    hostname: os.hostname(),
    platform: `${os.platform()} ${os.release()}`,
    arch: os.arch(),
    cpuModel: cpus[0]?.model ?? 'unknown',
    cpus: cpus.length,
    totalMemoryMB: Math.round(os.totalmem() / MB),
    loadAverage1mAtStart: round(loadAtStart),
    loadAverage1mAtEnd: round(os.loadavg()[0] ?? 0),
  };
}

/** Writes bench/results/<name>.json, prints the verdict and returns the exit code. */
export function writeResult(result: BenchResult, startedAt: number): number {
  const pass = result.targets.every((t) => t.pass);
  const file = {
    benchmark: result.benchmark,
    description: result.description,
    date: new Date().toISOString(),
    elapsedS: round((Date.now() - startedAt) / 1000, 1),
    node: process.version,
    machine: machineInfo(),
    git: {
      commit: git(['rev-parse', '--short', 'HEAD']),
      dirty: (git(['status', '--porcelain', 'src']) ?? '') !== '',
    },
    parameters: {
      ...result.parameters,
      serverNodeFlags: launcherNodeFlags(),
      serverNodeOptions: serverNodeOptions() || null,
    },
    figures: result.figures,
    targets: result.targets,
    pass,
    notes: result.notes ?? [],
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${result.benchmark}.json`);
  writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`);
  process.stdout.write('\n');
  for (const t of result.targets) {
    const actual =
      typeof t.actual === 'number' ? `${t.actual}${t.unit ? ` ${t.unit}` : ''}` : String(t.actual);
    process.stdout.write(
      `  ${t.pass ? 'PASS' : 'FAIL'}  ${t.name}: ${actual} (target ${t.target})\n`,
    );
  }
  const m = file.machine;
  process.stdout.write(
    `\n  machine: ${String(m.cpus)} × ${String(m.cpuModel)}, load average ${String(m.loadAverage1mAtStart)} at start, ${String(m.loadAverage1mAtEnd)} at end\n`,
  );
  process.stdout.write(`\n${result.benchmark}: ${pass ? 'PASS' : 'FAIL'}  (results: ${path})\n`);
  return pass ? 0 : 1;
}

export function line(label: string, value: string): void {
  process.stdout.write(`  ${label.padEnd(34)} ${value}\n`);
}

export function heading(text: string): void {
  process.stdout.write(`\n${text}\n${'-'.repeat(text.length)}\n`);
}

export function fmtMs(s: Summary): string {
  return `p50 ${s.p50.toFixed(2)}  p95 ${s.p95.toFixed(2)}  p99 ${s.p99.toFixed(2)}  max ${s.max.toFixed(2)} ms (n=${s.n})`;
}

/**
 * Runs a benchmark body with a server and always stops it; a thrown error is recorded as a
 * failed result so run-all and CI see it.
 */
export async function main(
  name: string,
  body: (startedAt: number) => Promise<number>,
): Promise<void> {
  const startedAt = Date.now();
  let code: number;
  try {
    code = await body(startedAt);
  } catch (err) {
    process.stderr.write(`\n${name}: ERROR ${(err as Error).stack ?? String(err)}\n`);
    mkdirSync(RESULTS_DIR, { recursive: true });
    const error = {
      benchmark: name,
      date: new Date().toISOString(),
      node: process.version,
      machine: machineInfo(),
      pass: false,
      error: (err as Error).message,
    };
    writeFileSync(join(RESULTS_DIR, `${name}.json`), `${JSON.stringify(error, null, 2)}\n`);
    code = 2;
  }
  keepAliveAgent.destroy();
  process.exitCode = code;
}
