/**
 * End-to-end helpers: real `patchbay serve` processes on loopback, real HTTP, SSE,
 * WebSocket JSON-RPC and the real CLI. Nothing here imports from src/: the tests see
 * Patchbay only as a user would, through bin/patchbay.js and the network.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { sleep, waitFor } from '../helpers/wait.js';

export { sleep, waitFor };

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = join(ROOT, 'bin', 'patchbay.js');
export const FIXTURES = join(ROOT, 'test', 'fixtures', 'e2e');
const DIST_ENTRY = join(ROOT, 'dist', 'patchbay.mjs'); // the bundle: the last thing the build writes

export const TERMINAL = ['succeeded', 'failed', 'cancelled', 'timed_out', 'interrupted'] as const;
export type TerminalStatus = (typeof TERMINAL)[number];

// ---------------------------------------------------------------------------------------
// dist/ must exist and be newer than every source file: these tests run the built CLI.
// ---------------------------------------------------------------------------------------

function newestSourceMtime(dir: string): { mtime: number; file: string } {
  let best = { mtime: 0, file: '' };
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const inner = newestSourceMtime(path);
      if (inner.mtime > best.mtime) best = inner;
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
      const mtime = statSync(path).mtimeMs;
      if (mtime > best.mtime) best = { mtime, file: path };
    }
  }
  return best;
}

let builtChecked = false;

/** Throws a clear message when dist/ is missing or older than src/. */
export function assertBuilt(): void {
  if (builtChecked) return;
  if (!existsSync(DIST_ENTRY)) {
    throw new Error(
      `e2e: ${DIST_ENTRY} is missing. These tests run the built CLI; run \`npm run build\` first.`,
    );
  }
  const built = statSync(DIST_ENTRY).mtimeMs;
  const newest = newestSourceMtime(join(ROOT, 'src'));
  if (newest.mtime > built + 1000) {
    throw new Error(
      `e2e: dist/ is stale (${newest.file} is newer than ${DIST_ENTRY}); run \`npm run build\` first.`,
    );
  }
  builtChecked = true;
}

// ---------------------------------------------------------------------------------------
// small utilities
// ---------------------------------------------------------------------------------------

/** Environment for test git commands: a fixed identity, no user or system configuration. */
export const GIT_ENV = {
  PATH: '/usr/bin:/bin',
  HOME: '/nonexistent',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@example.com',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@example.com',
};

/** Runs git in `cwd` for a test (not through Patchbay) and returns its trimmed stdout. */
export function gitIn(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8' }).trim();
}

/** A TCP port that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

const tempDirs = new Set<string>();

/** A fresh temp dir, removed by `cleanupAll`. */
export function tempDir(prefix = 'patchbay-e2e-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** The test process's environment without any PATCHBAY_* setting, plus `extra`. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('PATCHBAY_') && v !== undefined) env[k] = v;
  }
  env.PATCHBAY_LOG_LEVEL = 'warn';
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

// ---------------------------------------------------------------------------------------
// processes: liveness and cleanup of anything a run may leave behind
// ---------------------------------------------------------------------------------------

/**
 * True when the pid names a live process. A zombie counts as gone: it has exited, and
 * whether it is reaped depends on this container's init, not on Patchbay.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false; // vanished between the two checks
  }
}

const strayPids = new Set<number>();

/** Remember pids (of run processes) to SIGKILL at cleanup, whatever the test outcome. */
export function trackPids(...pids: number[]): void {
  for (const pid of pids) if (Number.isInteger(pid) && pid > 1) strayPids.add(pid);
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

// ---------------------------------------------------------------------------------------
// servers
// ---------------------------------------------------------------------------------------

export interface ServerOptions {
  /** Extra environment (PATCHBAY_LOG_LEVEL=warn is always set). */
  env?: Record<string, string>;
  /** Reuse a data dir (crash recovery); default a fresh temp dir. */
  dataDir?: string;
  /** Extra `serve` arguments, e.g. ['--host', '0.0.0.0']. */
  args?: string[];
  /** Token used to probe /health when PATCHBAY_API_TOKENS is set. */
  token?: string;
  /** Host the test connects to (default 127.0.0.1). */
  connectHost?: string;
  /**
   * `worker` starts `patchbay worker --health-port <port>` instead of `serve --port <port>`:
   * the handle's url is then its health listener.
   */
  command?: 'serve' | 'worker';
  /** How long /health may take to answer after the start (default 15 s). */
  startTimeoutMs?: number;
}

export interface ServerHandle {
  url: string;
  port: number;
  dataDir: string;
  proc: ChildProcess;
  pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code/signal once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** kill -9, as a crash would. */
  crash(): Promise<void>;
  /** Typed-enough HTTP helpers bound to this server (and its token). */
  api: Api;
}

const servers = new Set<ServerHandle>();

function spawnServer(port: number, dataDir: string, options: ServerOptions): ServerHandle {
  const worker = options.command === 'worker';
  const args = [
    BIN,
    worker ? 'worker' : 'serve',
    worker ? '--health-port' : '--port',
    String(port),
    '--data-dir',
    dataDir,
    ...(options.args ?? []),
  ];
  const proc = spawn(process.execPath, args, {
    cwd: dataDir,
    env: cleanEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    proc.once('exit', (code, signal) => r({ code, signal })),
  );
  const url = `http://${options.connectHost ?? '127.0.0.1'}:${port}`;
  const handle: ServerHandle = {
    url,
    port,
    dataDir,
    proc,
    pid: proc.pid!,
    stdout: () => out,
    stderr: () => err,
    exited,
    async stop(graceMs = 8000) {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
        const result = await exited;
        clearTimeout(timer);
        servers.delete(handle);
        return result;
      }
      servers.delete(handle);
      return exited;
    },
    async crash() {
      proc.kill('SIGKILL');
      await exited;
      servers.delete(handle);
    },
    api: createApi(url, options.token),
  };
  servers.add(handle);
  return handle;
}

/**
 * Starts `node bin/patchbay.js serve --port <free port> --data-dir <dir>` and waits until
 * /health answers 200. Retries on a port race (EADDRINUSE).
 */
export async function startServer(options: ServerOptions = {}): Promise<ServerHandle> {
  assertBuilt();
  const dataDir = options.dataDir ?? tempDir();
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const server = spawnServer(port, dataDir, options);
    const failed = server.exited.then(({ code, signal }) => {
      throw new Error(
        `patchbay ${options.command ?? 'serve'} exited early (code ${code}, signal ${signal}).\nstderr:\n${server.stderr()}`,
      );
    });
    const healthy = waitFor(
      async () => {
        const res = await fetch(`${server.url}/health`, {
          headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
        });
        await res.body?.cancel();
        return res.status === 200;
      },
      `patchbay ${options.command ?? 'serve'} on ${server.url} to answer /health`,
      options.startTimeoutMs ?? 15_000,
      50,
    );
    try {
      await Promise.race([healthy, failed]);
      failed.catch(() => undefined); // exits later (stop) are expected
      return server;
    } catch (err) {
      failed.catch(() => undefined);
      healthy.catch(() => undefined);
      await server.stop(1000);
      if (attempt < 3 && server.stderr().includes('EADDRINUSE')) continue;
      throw err;
    }
  }
}

/** Stops every server still running, kills tracked run processes, removes temp dirs. */
export async function cleanupAll(): Promise<void> {
  await Promise.all([...servers].map((s) => s.stop(3000)));
  for (const pid of strayPids) {
    killQuietly(-pid, 'SIGKILL'); // a run leads its own process group
    killQuietly(pid, 'SIGKILL');
  }
  strayPids.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

// ---------------------------------------------------------------------------------------
// HTTP API
// ---------------------------------------------------------------------------------------

/**
 * A JSON value read off the wire. Deliberately loose: e2e tests assert on the shape with
 * `expect`, and a failed assertion says more than a cast that silently lies.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface ApiResponse<T = Json> {
  status: number;
  headers: Headers;
  /** Parsed JSON, or undefined when the body is not JSON. */
  body: T;
  text: string;
}

export interface Run {
  id: string;
  status: string;
  command: string[] | null;
  workdir: string | null;
  envKeys: string[];
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  exitCode: number | null;
  signal: string | null;
  error: { code: string; message: string; retryAfterMs?: number } | null;
  outputBytes: number;
  droppedBytes: number;
  lastSeq: number;
  callbackUrl: string | null;
  [key: string]: unknown;
}

export interface RunEvent {
  runId: string;
  seq: number;
  type: string;
  ts: string;
  data: Record<string, Json>;
}

export interface Api {
  url: string;
  request<T = Json>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<ApiResponse<T>>;
  /** POST /v1/runs; throws unless 202 (or 200 with wait). */
  createRun(body: Record<string, unknown>): Promise<Run>;
  getRun(id: string): Promise<Run>;
  /** Polls until the run is in one of `statuses` (default: any terminal status). */
  waitForStatus(id: string, statuses?: readonly string[], timeoutMs?: number): Promise<Run>;
  /**
   * Polls until the run's process is spawned and returns its pid. A run is `running` from its
   * claim on, before its workspace is ready; the status event with the pid follows the spawn.
   */
  waitForProcess(id: string, timeoutMs?: number): Promise<number>;
  /** Every stored event of a run, paging through the JSON endpoint. */
  events(id: string): Promise<RunEvent[]>;
  /** stdout+stderr text of a run, concatenated in seq order. */
  output(id: string): Promise<string>;
}

export function createApi(url: string, token?: string): Api {
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const api: Api = {
    url,
    async request(method, path, body, headers = {}) {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: {
          ...auth,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: Json;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
      return { status: res.status, headers: res.headers, body: parsed, text };
    },
    async createRun(body) {
      const res = await api.request<Run>('POST', '/v1/runs', body);
      if (res.status !== 202 && res.status !== 200) {
        throw new Error(`POST /v1/runs answered ${res.status}: ${res.text}`);
      }
      return res.body;
    },
    async getRun(id) {
      const res = await api.request<Run>('GET', `/v1/runs/${id}`);
      if (res.status !== 200)
        throw new Error(`GET /v1/runs/${id} answered ${res.status}: ${res.text}`);
      return res.body;
    },
    async waitForStatus(id, statuses = TERMINAL, timeoutMs = 15_000) {
      let last: Run | undefined;
      try {
        return await waitFor(
          async () => {
            last = await api.getRun(id);
            return statuses.includes(last.status) ? last : null;
          },
          `run ${id} to reach ${statuses.join('|')}`,
          timeoutMs,
          40,
        );
      } catch (err) {
        throw new Error(`${(err as Error).message}; last seen: ${JSON.stringify(last)}`);
      }
    },
    async waitForProcess(id, timeoutMs = 15_000) {
      return waitFor(
        async () => {
          const events = await api.events(id);
          const spawned = events.find((e) => e.type === 'status' && typeof e.data.pid === 'number');
          return spawned ? (spawned.data.pid as number) : null;
        },
        `run ${id} to spawn its process`,
        timeoutMs,
        40,
      );
    },
    async events(id) {
      const all: RunEvent[] = [];
      let after = 0;
      for (;;) {
        const res = await api.request('GET', `/v1/runs/${id}/events?after=${after}&limit=5000`);
        if (res.status !== 200) throw new Error(`events of ${id}: ${res.status} ${res.text}`);
        all.push(...(res.body.events as RunEvent[]));
        if (res.body.events.length === 0) return all;
        after = res.body.lastSeq;
      }
    },
    async output(id) {
      return (await api.events(id))
        .filter((e) => e.type === 'output')
        .map((e) => String(e.data.text))
        .join('');
    },
  };
  return api;
}

// ---------------------------------------------------------------------------------------
// SSE
// ---------------------------------------------------------------------------------------

export interface SseFrame {
  id: string | undefined;
  event: string | undefined;
  data: string;
}

export interface SseResult {
  status: number;
  headers: Headers;
  frames: SseFrame[];
  /** Parsed `data` of each frame. */
  events: RunEvent[];
  /** True when the server closed the stream; false when we stopped reading. */
  ended: boolean;
  /** Raw error body for a non-200 answer. */
  text: string;
}

/**
 * Reads an SSE stream until the server closes it, `until(frame)` says stop, or `timeoutMs`
 * passes (which throws, with the frames read so far).
 *
 * Uses node:http on a dedicated socket (no agent) rather than fetch: stopping a stream then
 * always closes its socket, so a test's early exit never lingers in a connection pool and
 * delays the server's shutdown.
 */
export function readSse(
  url: string,
  options: {
    headers?: Record<string, string>;
    until?: (frame: SseFrame, frames: SseFrame[]) => boolean;
    /** Called for every frame as it arrives (to know a subscriber is attached). */
    onFrame?: (frame: SseFrame) => void;
    timeoutMs?: number;
  } = {},
): Promise<SseResult> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const frames: SseFrame[] = [];
  return new Promise<SseResult>((resolveRead, reject) => {
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const req = httpRequest(
      url,
      { agent: false, headers: { accept: 'text/event-stream', ...options.headers } },
      (res) => {
        const headers = new Headers();
        for (const [k, v] of Object.entries(res.headers)) {
          if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
        }
        res.setEncoding('utf8');
        if (res.statusCode !== 200) {
          let text = '';
          res.on('data', (c: string) => (text += c));
          res.on('end', () =>
            finish(() =>
              resolveRead({
                status: res.statusCode ?? 0,
                headers,
                frames,
                events: [],
                ended: true,
                text,
              }),
            ),
          );
          return;
        }
        const result = (ended: boolean): SseResult => ({
          status: 200,
          headers,
          frames,
          events: frames.map((f) => JSON.parse(f.data) as RunEvent),
          ended,
          text: '',
        });
        let buffer = '';
        let current: { id?: string; event?: string; data: string[] } = { data: [] };
        res.on('data', (chunk: string) => {
          if (settled) return;
          buffer += chunk;
          let nl: number;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, nl).replace(/\r$/, '');
            buffer = buffer.slice(nl + 1);
            if (line === '') {
              if (current.data.length > 0) {
                const frame: SseFrame = {
                  id: current.id,
                  event: current.event,
                  data: current.data.join('\n'),
                };
                frames.push(frame);
                options.onFrame?.(frame);
                if (options.until?.(frame, frames)) {
                  finish(() => resolveRead(result(false)));
                  req.destroy();
                  return;
                }
              }
              current = { data: [] };
            } else if (!line.startsWith(':')) {
              const colon = line.indexOf(':');
              const field = colon < 0 ? line : line.slice(0, colon);
              const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
              if (field === 'id') current.id = value;
              else if (field === 'event') current.event = value;
              else if (field === 'data') current.data.push(value);
            }
          }
        });
        res.on('end', () => finish(() => resolveRead(result(true))));
        res.on('error', (err) => finish(() => reject(err)));
      },
    );
    const timer = setTimeout(() => {
      finish(() =>
        reject(
          new Error(
            `SSE ${url}: no end after ${timeoutMs}ms; ${frames.length} frames: ${frames
              .map((f) => `${f.id}:${f.event}`)
              .join(' ')}`,
          ),
        ),
      );
      req.destroy();
    }, timeoutMs);
    req.on('error', (err) => finish(() => reject(err)));
    req.end();
  });
}

/**
 * Events as compared across transports. Stored events carry `raw: null` while live ones
 * (from the bus) omit `raw`; both are valid per the schema, so the comparison ignores it.
 */
export function normalizeEvents(events: RunEvent[]): RunEvent[] {
  return events.map((e) => {
    const { raw, ...rest } = e as RunEvent & { raw?: string | null };
    return raw === null || raw === undefined ? rest : { ...rest, raw };
  });
}

export function isTerminalStatusEvent(e: {
  type?: string;
  event?: string;
  data: unknown;
}): boolean {
  const data =
    typeof e.data === 'string'
      ? (JSON.parse(e.data) as RunEvent).data
      : (e.data as RunEvent['data']);
  const type = e.type ?? e.event;
  return type === 'status' && (TERMINAL as readonly string[]).includes(String(data.status));
}

// ---------------------------------------------------------------------------------------
// WebSocket JSON-RPC
// ---------------------------------------------------------------------------------------

export interface RpcResponse {
  jsonrpc: '2.0';
  id: string | number | null;
  result?: Json;
  error?: { code: number; message: string; data?: { code?: string; details?: Json } };
}

export interface RpcNotification {
  jsonrpc: '2.0';
  method: string;
  params: Json;
}

/** Outcome of a WebSocket handshake: open, or refused with an HTTP status. */
export function tryWebSocket(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ open: true; ws: WebSocket } | { open: false; status: number; body: string }> {
  return new Promise((resolveTry, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolveTry({ open: true, ws }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolveTry({ open: false, status: res.statusCode ?? 0, body }));
      res.on('error', () => resolveTry({ open: false, status: res.statusCode ?? 0, body }));
    });
    ws.once('error', (err) => reject(err));
  });
}

/** A JSON-RPC 2.0 client over one WebSocket. Responses are matched by id. */
export class RpcClient {
  readonly notifications: RpcNotification[] = [];
  /** Responses nobody waited for by id (id null, batches), in arrival order. */
  private readonly unmatched: unknown[] = [];
  private readonly pending = new Map<string | number, (r: RpcResponse) => void>();
  private waiters: (() => void)[] = [];
  private nextId = 1;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const message: unknown = JSON.parse(String(data));
      if (
        message &&
        typeof message === 'object' &&
        !Array.isArray(message) &&
        'method' in message &&
        !('id' in message)
      ) {
        this.notifications.push(message as RpcNotification);
      } else if (
        message &&
        typeof message === 'object' &&
        !Array.isArray(message) &&
        'id' in message &&
        (message as RpcResponse).id !== null &&
        this.pending.has((message as RpcResponse).id!)
      ) {
        const id = (message as RpcResponse).id!;
        this.pending.get(id)!(message as RpcResponse);
        this.pending.delete(id);
      } else {
        this.unmatched.push(message);
      }
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    });
  }

  static async connect(url: string, headers: Record<string, string> = {}): Promise<RpcClient> {
    const outcome = await tryWebSocket(url, headers);
    if (!outcome.open)
      throw new Error(`WebSocket ${url} refused: ${outcome.status} ${outcome.body}`);
    return new RpcClient(outcome.ws);
  }

  /** Sends one request and resolves with its response (result or error). */
  call(method: string, params?: unknown, timeoutMs = 10_000): Promise<RpcResponse> {
    const id = this.nextId++;
    return new Promise((resolveCall, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`JSON-RPC ${method} (id ${id}): no response within ${timeoutMs}ms`));
      }, timeoutMs);
      this.pending.set(id, (r) => {
        clearTimeout(timer);
        resolveCall(r);
      });
      this.ws.send(
        JSON.stringify({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) }),
      );
    });
  }

  /** Sends raw text and resolves with the next message not matched to a pending id. */
  async sendRaw(text: string, timeoutMs = 5000): Promise<Json> {
    this.ws.send(text);
    return this.nextUnmatched(timeoutMs);
  }

  async nextUnmatched(timeoutMs = 5000): Promise<Json> {
    const deadline = Date.now() + timeoutMs;
    while (this.unmatched.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no unmatched JSON-RPC message within ${timeoutMs}ms`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return this.unmatched.shift();
  }

  /** Resolves once a notification satisfying `pred` has arrived. */
  async waitForNotification(
    pred: (n: RpcNotification) => boolean,
    timeoutMs = 10_000,
  ): Promise<RpcNotification> {
    return waitFor(() => this.notifications.find(pred), 'a JSON-RPC notification', timeoutMs, 20);
  }

  close(): void {
    this.ws.close();
  }
}

// ---------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

/**
 * Runs `node bin/patchbay.js <args>` with a clean environment plus `env`. Kills it after
 * `timeoutMs` (the result then has signal SIGKILL).
 */
export function runCli(
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number; cwd?: string } = {},
): Promise<CliResult> & { proc: ChildProcess } {
  assertBuilt();
  const started = Date.now();
  const proc = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? tmpdir(),
    env: cleanEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const timer = setTimeout(() => proc.kill('SIGKILL'), options.timeoutMs ?? 20_000);
  const promise = new Promise<CliResult>((resolveRun) => {
    proc.once('close', (code, signal) => {
      clearTimeout(timer);
      resolveRun({ code, signal, stdout, stderr, durationMs: Date.now() - started });
    });
  });
  return Object.assign(promise, { proc });
}
