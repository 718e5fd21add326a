import { spawn, type ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '../observability/index.js';
import { decodeWrappedExit } from './containment.js';
import { OutputCap, type OutputStream } from './output-buffer.js';
import { signalGroup } from './process-group.js';
import type { PtyModule } from './pty.js';

export interface SpawnSpec {
  /** argv[0] is the executable; nothing goes through a shell unless argv says `sh -c`. */
  argv: string[];
  cwd: string;
  /** The complete environment of the child (nothing is inherited implicitly). */
  env: Record<string, string>;
  /** `ignore` reads /dev/null; `pipe` exposes `stdin` for adapters that talk to the child. */
  stdin?: 'ignore' | 'pipe';
  /** Run in a pseudo-terminal; needs the node-pty module passed in `pty`. */
  pty?: PtyModule;
  /**
   * argv[0] is a containment wrapper (bwrap, or `pidNamespaceArgv`) that reports a program
   * killed by signal N as exit code 128+N: the exit is reported as that signal again.
   */
  wrapped?: boolean;
}

export interface SupervisorLimits {
  timeoutMs: number;
  idleTimeoutMs: number;
  resultGraceMs: number;
  killGraceMs: number;
  maxOutputBytes: number;
  outputPolicy: 'kill' | 'truncate';
  tailBytes: number;
  /**
   * With `truncate`, past the cap: the most bytes per second read (and dropped). A child
   * printing faster is held back by its full pipe; it keeps running, and the server's CPU
   * and memory are not spent on discarding gigabytes. 0 = unlimited.
   */
  dropRateBytesPerSecond?: number;
}

/** Where output goes. `saturated`/`onDrain` carry back-pressure to the child's pipes. */
export interface OutputSink {
  output(stream: OutputStream, text: string, tail: boolean): void;
  dropped(droppedBytes: number, final: boolean): void;
  readonly saturated: boolean;
  onDrain(cb: () => void): void;
}

export type ExitReason =
  | 'exited'
  | 'spawn_failed'
  | 'timeout'
  | 'idle_timeout'
  | 'cancelled'
  | 'output_limit'
  | 'result_grace';

export interface ExitInfo {
  /** Why the process ended; the first cause wins (a timeout stays a timeout). */
  reason: ExitReason;
  exitCode: number | null;
  signal: string | null;
  outputBytes: number;
  droppedBytes: number;
  durationMs: number;
  /** For spawn failures: the system's message. */
  error?: string;
}

export interface SupervisedProcess {
  readonly pid: number | undefined;
  /** Process group id (= pid: every child leads its own group). */
  readonly pgid: number | undefined;
  readonly stdin: Writable | null;
  readonly paused: boolean;
  /** SIGSTOP to the group; the idle clock stops. Returns false when not running. */
  pause(): boolean;
  /** SIGCONT to the group; the idle clock restarts. */
  resume(): boolean;
  /** SIGTERM to the group, SIGKILL after the kill grace. */
  cancel(): void;
  /** Soft interrupt (SIGINT to the group): ends an agent's turn without ending the run. */
  interrupt(): void;
  /** Starts the post-result grace clock (an agent printed its final result line). */
  markResult(): void;
  readonly exited: Promise<ExitInfo>;
}

const DROPPED_EVENT_INTERVAL_MS = 1000;
/** How long stdio may stay open after the group is gone before we stop waiting for it. */
const STDIO_CLOSE_WAIT_MS = 2000;

interface ChildHandle {
  pid: number | undefined;
  stdin: Writable | null;
  pauseReading(): void;
  resumeReading(): void;
  onData(cb: (stream: OutputStream, chunk: Buffer) => void): void;
  onExit(cb: (code: number | null, signal: string | null) => void): void;
  onSpawnError(cb: (err: Error) => void): void;
  /** Resolves once every output stream has ended. */
  closed(): Promise<void>;
  destroyStreams(): void;
}

function wrapChildProcess(child: ChildProcess): ChildHandle {
  const streams: [OutputStream, Readable | null][] = [
    ['stdout', child.stdout],
    ['stderr', child.stderr],
  ];
  const closed = Promise.all(
    streams.map(
      ([, s]) =>
        new Promise<void>((resolve) => {
          if (!s) return resolve();
          s.once('close', () => resolve());
          s.once('error', () => resolve());
        }),
    ),
  ).then(() => undefined);
  return {
    pid: child.pid,
    stdin: child.stdin,
    pauseReading: () => streams.forEach(([, s]) => s?.pause()),
    resumeReading: () => streams.forEach(([, s]) => s?.resume()),
    onData: (cb) => streams.forEach(([name, s]) => s?.on('data', (c: Buffer) => cb(name, c))),
    onExit: (cb) => child.once('exit', (code, signal) => cb(code, signal)),
    onSpawnError: (cb) => child.once('error', cb),
    closed: () => closed,
    destroyStreams: () => streams.forEach(([, s]) => s?.destroy()),
  };
}

function wrapPty(pty: PtyModule, spec: SpawnSpec): ChildHandle {
  const [file, ...args] = spec.argv;
  const term = pty.spawn(file!, args, {
    name: 'xterm-256color',
    cols: 120,
    rows: 40,
    cwd: spec.cwd,
    env: spec.env,
  });
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  return {
    pid: term.pid,
    stdin: null,
    pauseReading: () => term.pause(),
    resumeReading: () => term.resume(),
    onData: (cb) => term.onData((d: string) => cb('pty', Buffer.from(d, 'utf8'))),
    onExit: (cb) =>
      term.onExit(({ exitCode, signal }) => {
        resolveClosed();
        cb(signal ? null : exitCode, signal ? signalName(signal) : null);
      }),
    onSpawnError: () => undefined,
    closed: () => closed,
    destroyStreams: () => term.kill('SIGKILL'),
  };
}

function signalName(num: number): string {
  const entry = Object.entries(osConstants.signals).find(([, n]) => n === num);
  return entry ? entry[0] : `SIG${num}`;
}

/**
 * Spawns a child in its own process group and supervises it: three clocks (total, idle,
 * post-result grace), the output cap, back-pressure from the sink, and the control verbs.
 * `exited` always resolves, and by then no process of the group is left alive.
 */
export function supervise(
  spec: SpawnSpec,
  limits: SupervisorLimits,
  sink: OutputSink,
  log: Logger,
): SupervisedProcess {
  const startedAt = Date.now();
  const cap = new OutputCap({
    maxBytes: limits.maxOutputBytes,
    policy: limits.outputPolicy,
    tailBytes: limits.tailBytes,
  });

  let handle: ChildHandle;
  let spawnError: Error | undefined;
  try {
    if (spec.pty) {
      handle = wrapPty(spec.pty, spec);
    } else {
      const [file, ...args] = spec.argv;
      const child = spawn(file!, args, {
        cwd: spec.cwd,
        env: spec.env,
        detached: true, // setsid: the child leads a new process group and session
        stdio: [spec.stdin ?? 'ignore', 'pipe', 'pipe'],
        windowsHide: true,
      });
      handle = wrapChildProcess(child);
    }
  } catch (err) {
    spawnError = err as Error;
    handle = {
      pid: undefined,
      stdin: null,
      pauseReading: () => undefined,
      resumeReading: () => undefined,
      onData: () => undefined,
      onExit: () => undefined,
      onSpawnError: () => undefined,
      closed: () => Promise.resolve(),
      destroyStreams: () => undefined,
    };
  }

  const pid = handle.pid;
  const pgid = pid;
  let reason: ExitReason | null = null;
  let paused = false;
  let readingPaused = false;
  /** Reading held back by the drop-rate limit (separate from sink back-pressure). */
  let throttled = false;
  let throttleTimer: NodeJS.Timeout | undefined;
  let dropWindowStart = 0;
  let dropWindowBytes = 0;
  let exited = false;
  let totalTimer: NodeJS.Timeout | undefined;
  let idleTimer: NodeJS.Timeout | undefined;
  let graceTimer: NodeJS.Timeout | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  let lastDroppedReport = 0;
  let droppedTimer: NodeJS.Timeout | undefined;
  let lastReportedDropped = 0;

  const clearTimers = (): void => {
    for (const t of [totalTimer, idleTimer, graceTimer, killTimer, droppedTimer, throttleTimer]) {
      clearTimeout(t);
    }
  };

  // The idle clock: output only stamps the time; one timer checks it. Re-arming a timer per
  // chunk would cost a clearTimeout/setTimeout pair on the hottest path.
  let lastOutputAt = Date.now();
  const stopIdle = (): void => {
    clearTimeout(idleTimer);
    idleTimer = undefined;
  };
  const idleHeld = (): boolean => paused || readingPaused || throttled || exited || reason !== null;
  const checkIdle = (): void => {
    idleTimer = undefined;
    if (idleHeld()) return;
    const quiet = Date.now() - lastOutputAt;
    if (quiet >= limits.idleTimeoutMs) {
      terminate('idle_timeout');
      return;
    }
    idleTimer = setTimeout(checkIdle, limits.idleTimeoutMs - quiet);
    idleTimer.unref?.();
  };
  /** Restarts the idle clock (at spawn, resume, and when reading resumes). */
  const armIdle = (): void => {
    lastOutputAt = Date.now();
    stopIdle();
    if (idleHeld()) return;
    idleTimer = setTimeout(checkIdle, limits.idleTimeoutMs);
    idleTimer.unref?.();
  };

  function terminate(why: ExitReason): void {
    if (reason || exited || pgid === undefined) return;
    reason = why;
    stopIdle();
    clearTimeout(graceTimer);
    log.info({ pid, reason: why }, 'terminating process group');
    signalGroup(pgid, 'SIGTERM');
    // A stopped process only acts on SIGTERM once continued.
    if (paused) signalGroup(pgid, 'SIGCONT');
    paused = false;
    releaseReading();
    killTimer = setTimeout(() => {
      if (signalGroup(pgid, 'SIGKILL')) log.warn({ pid }, 'process group ignored SIGTERM; killed');
    }, limits.killGraceMs);
  }

  /** Reads again whatever held it back: the process is ending and its pipes must drain. */
  function releaseReading(): void {
    clearTimeout(throttleTimer);
    if (readingPaused || throttled) {
      readingPaused = false;
      throttled = false;
      handle.resumeReading();
    }
  }

  const dropRate = limits.dropRateBytesPerSecond ?? 0;
  const DROP_WINDOW_MS = 100;
  const throttleDrops = (bytes: number): void => {
    if (dropRate <= 0 || throttled || reason) return;
    const now = Date.now();
    if (now - dropWindowStart >= DROP_WINDOW_MS) {
      dropWindowStart = now;
      dropWindowBytes = 0;
    }
    dropWindowBytes += bytes;
    if (dropWindowBytes < (dropRate * DROP_WINDOW_MS) / 1000) return;
    throttled = true;
    stopIdle();
    handle.pauseReading();
    throttleTimer = setTimeout(
      () => {
        throttled = false;
        dropWindowStart = Date.now();
        dropWindowBytes = 0;
        if (!readingPaused && !exited) handle.resumeReading();
        armIdle();
      },
      dropWindowStart + DROP_WINDOW_MS - now,
    );
  };

  const reportDropped = (final: boolean): void => {
    if (cap.droppedBytes === lastReportedDropped && !final) return;
    if (cap.droppedBytes === 0) return;
    clearTimeout(droppedTimer);
    droppedTimer = undefined;
    lastReportedDropped = cap.droppedBytes;
    lastDroppedReport = Date.now();
    sink.dropped(cap.droppedBytes, final);
  };

  const onData = (stream: OutputStream, chunk: Buffer): void => {
    if (reason === 'output_limit') {
      cap.totalBytes += chunk.length;
      cap.droppedBytes += chunk.length;
      return;
    }
    const decision = cap.push(stream, chunk);
    if (decision.emit) sink.output(stream, decision.emit, false);
    if (decision.limitExceeded) {
      terminate('output_limit');
      return;
    }
    if (cap.exceeded) throttleDrops(chunk.length);
    if (cap.droppedBytes > lastReportedDropped) {
      const since = Date.now() - lastDroppedReport;
      if (since >= DROPPED_EVENT_INTERVAL_MS) reportDropped(false);
      else if (!droppedTimer) {
        droppedTimer = setTimeout(() => {
          droppedTimer = undefined;
          if (!exited) reportDropped(false);
        }, DROPPED_EVENT_INTERVAL_MS - since);
      }
    }
    lastOutputAt = Date.now();
    if (!idleTimer) armIdle();
    if (sink.saturated && !readingPaused) {
      // Stop reading: the pipe fills and the child blocks on write. Memory stays bounded.
      readingPaused = true;
      stopIdle();
      handle.pauseReading();
      sink.onDrain(() => {
        if (!readingPaused) return;
        readingPaused = false;
        if (!throttled) handle.resumeReading();
        armIdle();
      });
    }
  };

  const exitedPromise = new Promise<ExitInfo>((resolve) => {
    const finish = (exitCode: number | null, signal: string | null, error?: string): void => {
      clearTimers();
      for (const piece of cap.finish()) sink.output(piece.stream, piece.text, piece.tail);
      reportDropped(true);
      const info: ExitInfo = {
        reason: reason ?? (error ? 'spawn_failed' : 'exited'),
        exitCode,
        signal,
        outputBytes: cap.totalBytes,
        droppedBytes: cap.droppedBytes,
        durationMs: Date.now() - startedAt,
      };
      if (error) info.error = error;
      resolve(info);
    };

    if (spawnError || pid === undefined) {
      const report = (err: Error): void => {
        exited = true;
        finish(null, null, err.message);
      };
      if (spawnError) report(spawnError);
      else handle.onSpawnError(report);
      return;
    }

    handle.onData(onData);
    handle.onExit((rawCode, rawSignal) => {
      const { exitCode: code, signal } = spec.wrapped
        ? decodeWrappedExit(rawCode, rawSignal)
        : { exitCode: rawCode, signal: rawSignal };
      exited = true;
      stopIdle();
      clearTimeout(graceTimer);
      clearTimeout(totalTimer);
      // The leader is gone; take anything it left behind in its group with it.
      signalGroup(pgid!, 'SIGKILL');
      // Drain what is still in the pipes even if the sink is slow; it is bounded (64 KiB).
      releaseReading();
      let waited = false;
      const wait = setTimeout(() => {
        waited = true;
        log.warn({ pid }, 'output streams still open after exit; closing them');
        handle.destroyStreams();
        finish(code, signal);
      }, STDIO_CLOSE_WAIT_MS);
      void handle.closed().then(() => {
        if (waited) return;
        clearTimeout(wait);
        finish(code, signal);
      });
    });
  });

  if (pid !== undefined) {
    totalTimer = setTimeout(() => terminate('timeout'), limits.timeoutMs);
    armIdle();
  }

  return {
    pid,
    pgid,
    stdin: handle.stdin,
    get paused() {
      return paused;
    },
    pause() {
      if (pgid === undefined || exited || reason || paused) return false;
      if (!signalGroup(pgid, 'SIGSTOP')) return false;
      paused = true;
      stopIdle();
      return true;
    },
    resume() {
      if (pgid === undefined || exited || !paused) return false;
      signalGroup(pgid, 'SIGCONT');
      paused = false;
      armIdle();
      return true;
    },
    cancel() {
      terminate('cancelled');
    },
    interrupt() {
      if (pgid !== undefined && !exited) signalGroup(pgid, 'SIGINT');
    },
    markResult() {
      if (exited || reason || graceTimer) return;
      graceTimer = setTimeout(() => terminate('result_grace'), limits.resultGraceMs);
    },
    exited: exitedPromise,
  };
}
