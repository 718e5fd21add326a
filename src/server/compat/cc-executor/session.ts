import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { z } from 'zod';
import { assertScriptAllowed, type AgentContext } from '../../../agents/index.js';
import {
  isTerminalStatus,
  PatchbayError,
  type RunEvent,
  type RunStatus,
} from '../../../contracts/index.js';
import type { EventCursor } from '../../../engine/index.js';
import type { Logger } from '../../../observability/index.js';
import type { ServerDeps } from '../../deps.js';
import { toPatchbayError } from '../../errors.js';
import {
  ControlParams,
  controlStatus,
  ExecuteParams,
  exitCodeOf,
  LineAssembler,
  notification,
  outputFrames,
  rpcError,
  statusUpdate,
  type RpcId,
} from './protocol.js';

/** Sessions one server keeps open at once (the original's MAX_SESSIONS). */
export const MAX_SESSIONS = 100;
/** Buffered bytes above which output waits for the client to read. */
const SEND_HIGH_WATER = 256 * 1024;
/** A partial line (no newline yet) is sent after this long without more output. */
const PARTIAL_LINE_MS = 1000;
/** Lines sent before the stream of one session lets the event loop take other work. */
const YIELD_EVERY = 256;

/** The TCP socket under a `ws` WebSocket (not public API: absent, frames are written one by one). */
function rawSocket(ws: WebSocket): { cork(): void; uncork(): void } | undefined {
  const tcp = (ws as unknown as { _socket?: { cork?: unknown; uncork?: unknown } })._socket;
  return tcp && typeof tcp.cork === 'function' && typeof tcp.uncork === 'function'
    ? (tcp as { cork(): void; uncork(): void })
    : undefined;
}

export interface CcExecutorShared {
  deps: ServerDeps;
  /** Open sessions of this server, for the limit and /healthz. */
  sessions: Set<string>;
}

/** The one process (a Patchbay run) of a session. */
interface Job {
  runId: string;
  pid: number | null;
  pgid: number | null;
  /** CANCEL was asked here: its end is reported as `process.canceled`, not `completed`. */
  cancelled: boolean;
  done: boolean;
  cursor?: EventCursor;
}

function parse<T extends z.ZodType>(schema: T, params: unknown): z.output<T> {
  const parsed = schema.safeParse(params ?? {});
  if (parsed.success) return parsed.data;
  throw new PatchbayError(
    'VALIDATION_FAILED',
    `Invalid params: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
  );
}

/** What the shell agent sees: the allow-list and the PATH allowed names resolve on. */
function allowListContext(deps: ServerDeps): AgentContext {
  const c = deps.config;
  return {
    allowedCommands: c.allowedCommands,
    childPath: c.childEnvBase.PATH,
    bins: {
      claude: c.agentClaudeBin,
      cursor: c.agentCursorBin,
      codex: c.agentCodexBin,
      gemini: c.agentGeminiBin,
    },
  };
}

/**
 * One cc_executor WebSocket session: `connected`, then execute / control / hook_status / pong.
 * The session's process is a Patchbay shell run (`sh -c <command>`), so the engine's limits,
 * sandbox, budgets and events apply; this maps its events onto the original's notifications.
 */
export function handleCcExecutorSession(
  socket: WebSocket,
  shared: CcExecutorShared,
  clientKey: string,
  parentLog: Logger,
): void {
  const { deps, sessions } = shared;
  const sessionId = randomUUID();
  const log = parentLog.child({ ccExecutorSession: sessionId });
  let closed = false;
  let job: Job | null = null;
  let starting = false;
  let lastPong = Date.now();

  const sendText = (text: string): void => {
    if (closed || socket.readyState !== socket.OPEN) return;
    // No callback per message (thousands a second when a process prints short lines): a failed
    // write closes the socket, which ends the session.
    socket.send(text);
  };
  const send = (message: unknown): void => sendText(JSON.stringify(message));
  const notify = (method: string, params: unknown): void => send(notification(method, params));
  const waitForBuffer = async (): Promise<void> => {
    while (!closed && socket.bufferedAmount > SEND_HIGH_WATER) {
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  if (sessions.size >= MAX_SESSIONS) {
    send(rpcError(null, new PatchbayError('CC_EXECUTOR_SESSION_LIMIT', 'Session limit exceeded')));
    socket.close(1008, 'Session limit exceeded');
    return;
  }
  sessions.add(sessionId);

  /** Follows the run's events to its end, as the original's notifications. */
  const pump = async (current: Job, started: (err?: PatchbayError) => void): Promise<void> => {
    const lines = new LineAssembler();
    let idle: NodeJS.Timeout | undefined;
    let sinceYield = 0;
    /** Each line's notifications, waiting whenever the client has not read enough yet. */
    const sendLines = async (type: 'stdout' | 'stderr', list: string[]): Promise<void> => {
      // One write for many frames: a frame per line is one system call per line otherwise.
      const tcp = rawSocket(socket);
      tcp?.cork();
      try {
        for (const line of list) {
          for (const frame of outputFrames(type, line)) sendText(frame);
          // A backlog (one event can hold thousands of lines, and cursor reads of a backlog
          // never leave the microtask queue) would keep everything else out: let I/O in (a
          // CANCEL, a pong, the run's own exit, other sessions) every few hundred lines.
          if (++sinceYield >= YIELD_EVERY || socket.bufferedAmount > SEND_HIGH_WATER) {
            sinceYield = 0;
            tcp?.uncork();
            await new Promise((r) => setImmediate(r));
            await waitForBuffer();
            tcp?.cork();
          }
        }
      } finally {
        tcp?.uncork();
      }
    };
    const flushPartial = (): void => {
      for (const [type, text] of lines.flush()) void sendLines(type, [text]);
    };
    let announced = false;
    try {
      const cursor = await deps.engine.openCursor(current.runId, 0);
      current.cursor = cursor;
      for (;;) {
        const batch = await cursor.next();
        if (!batch || closed) break;
        clearTimeout(idle);
        for (const event of batch) {
          if (event.type === 'output') {
            const stream = event.data.stream === 'stderr' ? 'stderr' : 'stdout';
            await sendLines(stream, lines.push(stream, String(event.data.text ?? '')));
          } else if (event.type === 'status') {
            announced =
              (await onStatus(current, event, announced, started, flushPartial)) || announced;
          }
          await waitForBuffer();
        }
        if (lines.hasPending) idle = setTimeout(flushPartial, PARTIAL_LINE_MS).unref();
      }
    } catch (err) {
      log.error({ err, runId: current.runId }, 'cc-executor stream failed');
      notify('process.error', { error: toPatchbayError(err).message });
      if (!announced) started(toPatchbayError(err));
    } finally {
      clearTimeout(idle);
      // The session closed before the process started: the execute call gets no answer, but
      // must not wait forever either.
      if (!announced) started(new PatchbayError('INTERNAL_ERROR', 'the session closed'));
      current.done = true;
      current.cursor?.close();
    }
  };

  /** Returns whether the process is now announced as started. */
  const onStatus = async (
    current: Job,
    event: RunEvent,
    announced: boolean,
    started: (err?: PatchbayError) => void,
    flushPartial: () => void,
  ): Promise<boolean> => {
    const status = event.data.status as RunStatus;
    if (status === 'running' && !announced && typeof event.data.pid === 'number') {
      const record = await deps.store.runs.get(current.runId);
      current.pid = event.data.pid;
      current.pgid = record?.pgid ?? event.data.pid;
      started();
      notify('process.started', statusUpdate('started', current));
      return true;
    }
    if (!isTerminalStatus(status)) return false;
    flushPartial();
    const run = await deps.engine.getRun(current.runId);
    if (!announced) {
      // It ended before its process started (refused by a limit, cancelled while queued).
      started(
        new PatchbayError('INTERNAL_ERROR', run.error?.message ?? `the run ended ${status}`, {
          runId: run.id,
          status,
          error: run.error,
        }),
      );
    }
    if (status === 'cancelled') {
      if (!current.cancelled) notify('process.canceled', statusUpdate('canceled', current));
      return false;
    }
    const exit = exitCodeOf(run.exitCode, run.signal);
    const error =
      status === 'succeeded' ? null : (run.error?.message ?? `the process ended ${status}`);
    // A timeout kills the process and is a failure (the original reported "completed").
    if (status === 'timed_out' || status === 'interrupted') notify('process.error', { error });
    notify('process.completed', {
      ...statusUpdate(status === 'succeeded' ? 'completed' : 'failed', current, {
        exit_code: exit,
        error,
      }),
      execution_time: (run.durationMs ?? 0) / 1000,
      early_completion_detected: false,
      early_completion_time: null,
      time_saved: 0,
      completion_marker: null,
      run_id: run.id,
      run_status: status,
    });
    return false;
  };

  const execute = async (params: unknown) => {
    const { command, timeout } = parse(ExecuteParams, params);
    if (starting || (job && !job.done)) {
      throw new PatchbayError('CC_EXECUTOR_PROCESS_RUNNING', 'A process is already running');
    }
    starting = true;
    try {
      // Every command of the string, even where the list names `sh` (the shell agent would
      // then take the whole string).
      await assertScriptAllowed(command, allowListContext(deps));
      deps.runCreateLimiter.hit(clientKey);
      const run = await deps.engine.createRun({
        agent: 'shell',
        command: ['sh', '-c', command],
        ...(timeout ? { timeoutMs: Math.ceil(timeout * 1000) } : {}),
      });
      log.info({ runId: run.id }, 'cc-executor execute');
      const current: Job = { runId: run.id, pid: null, pgid: null, cancelled: false, done: false };
      job = current;
      const started = new Promise<void>((resolve, reject) => {
        void pump(current, (err) => (err ? reject(err) : resolve()));
      });
      await started;
      return { status: 'started', pid: current.pid, pgid: current.pgid, run_id: run.id };
    } finally {
      starting = false;
    }
  };

  const control = async (params: unknown) => {
    const { type } = parse(ControlParams, params);
    const current = job;
    if (!current || current.done) {
      throw new PatchbayError('CC_EXECUTOR_NO_PROCESS', 'No process is running');
    }
    const { engine } = deps;
    if (type === 'CANCEL') {
      current.cancelled = true;
      await engine.cancelRun(current.runId).catch(async (err: unknown) => {
        // Ended on its own meanwhile: nothing left to cancel.
        const run = await engine.getRun(current.runId);
        if (!isTerminalStatus(run.status)) throw err;
      });
    } else {
      const target: RunStatus = type === 'PAUSE' ? 'paused' : 'running';
      await (type === 'PAUSE' ? engine.pauseRun : engine.resumeRun)(current.runId).catch(
        async (err: unknown) => {
          // As SIGSTOP twice: pausing a paused process (or resuming a running one) is a no-op.
          if ((await engine.getRun(current.runId)).status !== target) throw err;
        },
      );
    }
    return current;
  };

  const answer = (id: RpcId, result: unknown): void =>
    send({ jsonrpc: '2.0', result, ...(id === null ? {} : { id }) });

  const onMessage = async (text: string): Promise<void> => {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      send(rpcError(null, new PatchbayError('RPC_PARSE_ERROR', 'Parse error')));
      return;
    }
    if (!message || typeof message !== 'object' || Array.isArray(message)) {
      send(rpcError(null, new PatchbayError('RPC_INVALID_REQUEST', 'Invalid Request')));
      return;
    }
    const { method, params, id: rawId } = message as Record<string, unknown>;
    const id: RpcId = typeof rawId === 'string' || typeof rawId === 'number' ? rawId : null;
    if (typeof method !== 'string') {
      send(rpcError(id, new PatchbayError('RPC_INVALID_REQUEST', 'Invalid Request: no method')));
      return;
    }
    try {
      switch (method) {
        case 'pong':
          lastPong = Date.now();
          return;
        case 'execute':
          answer(id, await execute(params));
          return;
        case 'control': {
          const { type } = parse(ControlParams, params);
          const current = await control(params);
          const status = controlStatus[type];
          answer(id, { status });
          notify(`process.${status}`, statusUpdate(status, current));
          return;
        }
        case 'hook_status':
          answer(id, { enabled: false, message: 'Hook integration not initialized' });
          return;
        default:
          send(
            rpcError(
              id,
              new PatchbayError('RPC_METHOD_NOT_FOUND', `Unknown method: ${method}`, { method }),
            ),
          );
      }
    } catch (err) {
      const pe = toPatchbayError(err);
      if (pe.kind === 'unexpected') log.error({ err, method }, 'cc-executor method failed');
      send(rpcError(id, pe));
    }
  };

  socket.on('message', (data, isBinary) => {
    const text = isBinary ? Buffer.from(data as Buffer).toString('utf8') : String(data);
    onMessage(text).catch((err: unknown) => log.error({ err }, 'cc-executor message failed'));
  });

  const heartbeatMs = deps.config.ccExecutorHeartbeatMs;
  const heartbeat = setInterval(() => {
    if (Date.now() - lastPong > 2 * heartbeatMs) {
      log.warn({ heartbeatMs }, 'cc-executor heartbeat missed twice: closing');
      // As the original's 1006: the connection is dropped, not closed politely.
      socket.terminate();
      return;
    }
    notify('ping', { timestamp: Date.now() / 1000 });
  }, heartbeatMs).unref();

  const close = (): void => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    sessions.delete(sessionId);
    deps.openStreams.delete(terminate);
    const current = job;
    current?.cursor?.close();
    // The session's process does not outlive it (the original's cleanup killed it too).
    if (current && !current.done) {
      deps.engine
        .cancelRun(current.runId)
        .catch((err: unknown) => log.debug({ err }, 'cc-executor cleanup cancel'));
    }
  };
  const terminate = (): void => {
    close();
    socket.close(1001, 'server shutting down');
  };
  deps.openStreams.add(terminate);
  socket.on('close', close);
  socket.on('error', close);

  send(
    notification('connected', {
      session_id: sessionId,
      version: '1.0.0',
      capabilities: ['execute', 'control', 'stream'],
    }),
  );
}
