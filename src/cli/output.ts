import type { Run, RunEvent, RunStatus } from '../contracts/index.js';
import { isPatchbayError } from '../contracts/index.js';

/** User-facing output of the CLI: the one place besides the logger that writes to the terminal. */
export const out = {
  stdout: (text: string): boolean => process.stdout.write(text),
  stderr: (text: string): boolean => process.stderr.write(text),
  line: (text = ''): boolean => process.stdout.write(`${text}\n`),
  note: (text: string): boolean => process.stderr.write(`[patchbay] ${text}\n`),
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
      if (d.stream === 'stderr') out.stderr(String(d.text));
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
  const seconds = run.durationMs !== null ? ` in ${(run.durationMs / 1000).toFixed(1)}s` : '';
  const detail = run.error
    ? `: ${run.error.code} (${run.error.message})`
    : run.exitCode !== null
      ? ` (exit ${run.exitCode})`
      : '';
  return `run ${run.id} ${run.status}${seconds}${detail}`;
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

/** Prints an error for a person and returns the exit code to use. */
export function reportError(err: unknown): number {
  if (isPatchbayError(err)) {
    out.stderr(`patchbay: ${err.code}: ${err.message}\n`);
    const retry = (err.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
    if (typeof retry === 'number') {
      const at = new Date(Date.now() + retry * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
      out.stderr(`patchbay: retry in ${formatSeconds(retry)} (at ${at})\n`);
    }
    return 2;
  }
  out.stderr(`patchbay: ${(err as Error).stack ?? String(err)}\n`);
  return 70; // EX_SOFTWARE
}

export function formatRunRow(run: Run): string {
  const cmd = (run.command ?? []).join(' ');
  const when = run.createdAt.replace('T', ' ').slice(0, 19);
  return `${run.id}  ${run.status.padEnd(11)}  ${when}  ${cmd.length > 60 ? `${cmd.slice(0, 57)}...` : cmd}`;
}
