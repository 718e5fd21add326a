import { constants } from 'node:os';
import { z } from 'zod';
import type { ErrorCode, PatchbayError } from '../../../contracts/index.js';

/**
 * cc_executor's wire format (docs/compat.md, `## cc_executor`): JSON-RPC 2.0 over WebSocket,
 * its numeric error codes, its notification payloads and its 64 KB output chunks.
 */

/** JSON-RPC codes as its clients know them; our catalog code travels in `error.data.code`. */
export const RPC = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  COMMAND_NOT_ALLOWED: -32001,
  PROCESS_NOT_FOUND: -32002,
  SESSION_LIMIT: -32003,
} as const;

/** Catalog codes answered as a security refusal: -32602 with `SECURITY_DENIED` in the data. */
const SECURITY_CODES = new Set<ErrorCode>([
  'COMMAND_NOT_ALLOWED',
  'COMMAND_SCRIPT_UNCHECKABLE',
  'WORKDIR_NOT_TRUSTED',
]);

const rpcCodeOf: Partial<Record<ErrorCode, number>> = {
  VALIDATION_FAILED: RPC.INVALID_PARAMS,
  CC_EXECUTOR_PROCESS_RUNNING: RPC.INVALID_PARAMS,
  CC_EXECUTOR_NO_PROCESS: RPC.PROCESS_NOT_FOUND,
  RUN_NOT_ACTIVE: RPC.PROCESS_NOT_FOUND,
  CC_EXECUTOR_SESSION_LIMIT: RPC.SESSION_LIMIT,
  RPC_PARSE_ERROR: RPC.PARSE_ERROR,
  RPC_INVALID_REQUEST: RPC.INVALID_REQUEST,
  RPC_METHOD_NOT_FOUND: RPC.METHOD_NOT_FOUND,
};

export type RpcId = string | number | null;

/** An error answer: the original's numbers, Patchbay's string code and details in `data`. */
export function rpcError(id: RpcId, err: PatchbayError) {
  const security = SECURITY_CODES.has(err.code);
  const data: Record<string, unknown> = { code: err.code };
  if (security) data.type = 'SECURITY_DENIED';
  if (err.details !== undefined) data.details = err.details;
  return {
    jsonrpc: '2.0' as const,
    error: {
      code: security ? RPC.INVALID_PARAMS : (rpcCodeOf[err.code] ?? RPC.INTERNAL_ERROR),
      message: err.message,
      data,
    },
    // The original leaves a null id out of its answers.
    ...(id === null ? {} : { id }),
  };
}

export const notification = (method: string, params: unknown) => ({
  jsonrpc: '2.0' as const,
  method,
  params,
});

export const ExecuteParams = z.object({
  command: z.string().min(1).max(1_000_000),
  /** Seconds; the original's stream timeout, here the run's wall-clock limit. */
  timeout: z
    .number()
    .positive()
    .max(7 * 24 * 3600)
    .nullish(),
});

export const ControlParams = z.object({ type: z.enum(['PAUSE', 'RESUME', 'CANCEL']) });
export type ControlType = z.infer<typeof ControlParams>['type'];

export const controlStatus = {
  PAUSE: 'paused',
  RESUME: 'resumed',
  CANCEL: 'canceled',
} as const satisfies Record<ControlType, string>;

/** The original's StatusUpdate: every field present, null when unknown. */
export function statusUpdate(
  status: 'started' | 'completed' | 'failed' | 'paused' | 'resumed' | 'canceled',
  proc: { pid: number | null; pgid: number | null },
  extra: { exit_code?: number | null; error?: string | null } = {},
) {
  return {
    status,
    pid: proc.pid,
    pgid: proc.pgid,
    exit_code: extra.exit_code ?? null,
    error: extra.error ?? null,
  };
}

/** A shell-style exit code: the process's own, or minus the signal number that ended it. */
export function exitCodeOf(exitCode: number | null, signal: string | null): number | null {
  if (exitCode !== null) return exitCode;
  const number = signal ? constants.signals[signal as NodeJS.Signals] : undefined;
  return number === undefined ? null : -number;
}

/** Characters per `process.output` message; longer lines go in numbered chunks. */
export const MAX_CHUNK_CHARS = 65_536;
/** A line longer than this is sent as it stands (the original read lines up to 8 MB). */
export const MAX_LINE_CHARS = 8 * 1024 * 1024;

export interface OutputMessage {
  type: 'stdout' | 'stderr';
  data: string;
  truncated: boolean;
  chunk_index: number | null;
  total_chunks: number | null;
}

/** One line as `process.output` payloads: whole, or in chunks of MAX_CHUNK_CHARS. */
export function outputMessages(type: 'stdout' | 'stderr', line: string): OutputMessage[] {
  if (line.length <= MAX_CHUNK_CHARS) {
    return [{ type, data: line, truncated: false, chunk_index: null, total_chunks: null }];
  }
  const total = Math.ceil(line.length / MAX_CHUNK_CHARS);
  return Array.from({ length: total }, (_, k) => ({
    type,
    data: line.slice(k * MAX_CHUNK_CHARS, (k + 1) * MAX_CHUNK_CHARS),
    // As the original: every chunk but the last says more of its line follows.
    truncated: k < total - 1,
    chunk_index: k,
    total_chunks: total,
  }));
}

const OUTPUT_HEAD = '{"jsonrpc":"2.0","method":"process.output","params":{"type":';

/**
 * The `process.output` notifications of one line, serialized. A short line (nearly every one)
 * is written straight into its text: a process printing 25 000 lines a second would otherwise
 * make as many object trees for the garbage collector.
 */
export function outputFrames(type: 'stdout' | 'stderr', line: string): string[] {
  if (line.length <= MAX_CHUNK_CHARS) {
    return [
      `${OUTPUT_HEAD}"${type}","data":${JSON.stringify(line)},"truncated":false,"chunk_index":null,"total_chunks":null}}`,
    ];
  }
  return outputMessages(type, line).map((m) => JSON.stringify(notification('process.output', m)));
}

/**
 * Reassembles lines from output events (which split text wherever the pipe did), per stream.
 * A partial line is handed out when `flush` is called (idle output, or the end).
 */
export class LineAssembler {
  private pending: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };

  /** The complete lines in `text` (each with its newline), keeping the rest for later. */
  push(type: 'stdout' | 'stderr', text: string): string[] {
    let buf = this.pending[type] + text;
    const lines: string[] = [];
    let start = 0;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n', start)) {
      lines.push(buf.slice(start, nl + 1));
      start = nl + 1;
    }
    buf = buf.slice(start);
    while (buf.length >= MAX_LINE_CHARS) {
      lines.push(buf.slice(0, MAX_LINE_CHARS));
      buf = buf.slice(MAX_LINE_CHARS);
    }
    this.pending[type] = buf;
    return lines;
  }

  /** Partial lines held back, per stream, emptied. */
  flush(): Array<['stdout' | 'stderr', string]> {
    const out: Array<['stdout' | 'stderr', string]> = [];
    for (const type of ['stdout', 'stderr'] as const) {
      if (this.pending[type]) out.push([type, this.pending[type]]);
      this.pending[type] = '';
    }
    return out;
  }

  get hasPending(): boolean {
    return this.pending.stdout !== '' || this.pending.stderr !== '';
  }
}
