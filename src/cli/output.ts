import type { ChangedFile, ErrorCode, Run, RunEvent, RunStatus } from '../contracts/index.js';
import { errorCatalog, isPatchbayError } from '../contracts/index.js';
import { styleOf } from './style.js';

/** User-facing output of the CLI: the one place besides the logger that writes to the terminal. */
export const out = {
  stdout: (text: string): boolean => process.stdout.write(text),
  stderr: (text: string): boolean => process.stderr.write(text),
  line: (text = ''): boolean => process.stdout.write(`${text}\n`),
  note: (text: string): boolean =>
    process.stderr.write(`${styleOf('stderr').dim('[patchbay]')} ${text}\n`),
  json: (value: unknown): boolean => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
};

/** Prints a run event as a person wants to read it: output verbatim, the rest as notes. */
/** What printing one run's events remembers between events. */
export interface PrintState {
  /** The agent streams its text in deltas: its full messages repeat them and are not printed. */
  streamed?: boolean;
  /** The last text printed did not end its line (a delta): the result ends it. */
  openLine?: boolean;
}

export function printEvent(
  event: RunEvent,
  options: { json?: boolean; quiet?: boolean } = {},
  state: PrintState = {},
): void {
  if (options.json) {
    out.stdout(`${JSON.stringify(event)}\n`);
    return;
  }
  const d = event.data;
  switch (event.type) {
    case 'output':
      // A validation gate's output is not the run's answer: stderr, never stdout.
      if (d.gate !== undefined) {
        if (!options.quiet) out.stderr(String(d.text));
      } else if (d.stream === 'stderr') out.stderr(String(d.text));
      else out.stdout(String(d.text));
      return;
    case 'dropped':
      if (!options.quiet && d.final)
        out.note(
          `output cap reached: ${String(d.droppedBytes)} bytes dropped (head and tail kept)`,
        );
      return;
    // A coding agent's answer goes to stdout like a command's output; its tool calls and
    // errors are notes on stderr.
    case 'message':
      if (d.role !== 'assistant' || typeof d.text !== 'string' || d.text === '') return;
      if (d.subtype === 'delta') {
        state.streamed = true;
        state.openLine = !d.text.endsWith('\n');
        out.stdout(d.text);
      } else if (!state.streamed) {
        out.stdout(d.text.endsWith('\n') ? d.text : `${d.text}\n`);
      }
      return;
    case 'tool_call':
      if (!options.quiet) out.note(`tool: ${String(d.name)}`);
      return;
    case 'error':
      if (!options.quiet)
        out.note(`agent ${String(d.severity ?? 'error')}: ${String(d.message ?? d.code)}`);
      return;
    // An optimizer stage: where it is, and what it stored.
    case 'progress': {
      if (options.quiet) return;
      const k = d.candidate as { index: number; total: number } | undefined;
      out.note(
        `${String(d.stage)}${k ? ` candidate ${k.index}/${k.total}` : ''}: ${String(d.message)}`,
      );
      return;
    }
    case 'artifact':
      if (!options.quiet) out.note(`artifact ${String(d.name)}: ${String(d.id)}`);
      return;
    case 'gate': {
      if (options.quiet) return;
      const round = typeof d.round === 'number' && d.round > 0 ? ` (fix round ${d.round})` : '';
      if (d.phase === 'started') out.note(`gate ${String(d.gate)}${round}: ${String(d.command)}`);
      else out.note(`gate ${String(d.gate)}${round}: ${String(d.status)}`);
      return;
    }
    case 'result':
      if (state.openLine) out.stdout('\n');
      state.openLine = false;
      return;
    case 'status':
      if (!options.quiet && (d.status === 'paused' || (d.status === 'running' && event.seq > 2))) {
        out.note(`run ${String(d.status)}`);
      }
      return;
    default:
      return;
  }
}

/**
 * Exit codes of the CLI besides a run's own (docs/cli.md has the table). 2 is the shells'
 * "misuse" code; the others follow sysexits(3), so they rarely collide with a command's own.
 */
export const EXIT = {
  ok: 0,
  /** A usage error (unknown flag, missing argument) or a request the server refused. */
  usage: 2,
  /** The run, repository, schedule… named does not exist. */
  notFound: 66,
  /** No server answers (and, for read-only commands, no store either); an operational failure. */
  unavailable: 69,
  /** A bug: please report it. */
  software: 70,
  /** The server wants a (valid) token: PATCHBAY_TOKEN or --token. */
  noPermission: 77,
  /** The configuration is invalid. */
  config: 78,
} as const;

/** The exit code of an error with this catalog code. */
export function exitCodeForError(code: ErrorCode): number {
  const def = errorCatalog[code];
  if (code === 'UNAUTHORIZED') return EXIT.noPermission;
  if (code === 'CONFIG_INVALID' || code === 'SERVER_UNSAFE_BIND') return EXIT.config;
  if (def.status === 404) return EXIT.notFound;
  if (def.kind === 'unexpected') return EXIT.software;
  if (def.kind === 'operational' || def.status === 503) return EXIT.unavailable;
  return EXIT.usage;
}

/** The process exit code that mirrors how a run ended (timeouts follow `timeout(1)`: 124). */
export function exitCodeOf(run: Run): number {
  if (run.exitCode !== null) return run.exitCode;
  const byStatus: Partial<Record<RunStatus, number>> = {
    succeeded: 0,
    timed_out: 124,
    cancelled: 130,
    interrupted: 1,
  };
  if (run.error?.code === 'RUN_SPAWN_FAILED') return 127;
  return byStatus[run.status] ?? 1;
}

export function describeEnd(run: Run): string {
  const style = styleOf('stderr');
  const seconds = run.durationMs !== null ? ` in ${(run.durationMs / 1000).toFixed(1)}s` : '';
  const detail = run.error
    ? `: ${run.error.code} (${run.error.message})`
    : run.exitCode !== null
      ? ` (exit ${run.exitCode})`
      : '';
  const mark = run.status === 'succeeded' ? style.ok : style.fail;
  return `${mark}run ${run.id} ${colorStatus(run.status, style)}${seconds}${detail}`;
}

/** What a repository run left: its branch and the files it changed, one per line. */
/** One line on a validated run's gates: `gates: build passed, test failed (1 fix round)`. */
export function describeGates(run: Run): string | null {
  if (!run.validation || run.validation.length === 0) return null;
  const gates = run.validation.map((g) => `${g.gate} ${g.status}`).join(', ');
  const rounds =
    run.fixRounds > 0 ? ` (${run.fixRounds} fix round${run.fixRounds > 1 ? 's' : ''})` : '';
  return `gates: ${gates}${rounds}`;
}

export function describeChanges(branch: string, files: ChangedFile[]): string[] {
  const style = styleOf('stderr');
  const lines = [`branch ${style.bold(branch)}: ${files.length} file(s) changed`];
  for (const f of files) lines.push(`  ${formatChangedFile(f, style)}`);
  return lines;
}

export function formatChangedFile(f: ChangedFile, style = styleOf('stdout')): string {
  const counts = f.binary
    ? style.dim('binary')
    : `${style.green(`+${f.added}`)} ${style.red(`-${f.removed}`)}`;
  return `${counts}\t${f.path}`;
}

function colorStatus(status: RunStatus, style = styleOf('stdout')): string {
  switch (status) {
    case 'succeeded':
      return style.green(status);
    case 'failed':
    case 'timed_out':
    case 'interrupted':
      return style.red(status);
    case 'cancelled':
    case 'paused':
      return style.yellow(status);
    case 'queued':
    case 'running':
      return style.cyan(status);
    default:
      return status;
  }
}

/** `5h 03m`, `4m 10s`, `15s`: a wait as a person reads it. */
export function formatSeconds(total: number): string {
  const s = Math.max(0, Math.round(total));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** Prints an error for a person (never a stack trace for a known error) and returns the exit code. */
export function reportError(err: unknown): number {
  const style = styleOf('stderr');
  if (isPatchbayError(err)) {
    out.stderr(`${style.fail}patchbay: ${style.red(err.code)}: ${err.message}\n`);
    const retry = (err.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
    if (typeof retry === 'number') {
      const at = new Date(Date.now() + retry * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
      out.stderr(`patchbay: retry in ${formatSeconds(retry)} (at ${at})\n`);
    }
    if (err.code === 'SERVER_UNREACHABLE')
      out.stderr(
        'patchbay: start a server with `patchbay serve`, or name yours with --url (PATCHBAY_URL)\n',
      );
    if (err.code === 'UNAUTHORIZED')
      out.stderr("patchbay: give the CLI one of the server's tokens: PATCHBAY_TOKEN or --token\n");
    return exitCodeForError(err.code);
  }
  out.stderr(`${style.fail}patchbay: ${(err as Error).stack ?? String(err)}\n`);
  return EXIT.software;
}

export function formatRunRow(run: Run): string {
  const cmd = (run.command ?? []).join(' ');
  const when = run.createdAt.replace('T', ' ').slice(0, 19);
  const status = colorStatus(run.status) + ' '.repeat(Math.max(0, 11 - run.status.length));
  return `${run.id}  ${status}  ${when}  ${cmd.length > 60 ? `${cmd.slice(0, 57)}...` : cmd}`;
}
