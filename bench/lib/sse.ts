/**
 * A minimal SSE subscriber over node:http, independent of src/client so the benchmarks check
 * what is on the wire rather than what one parser makes of it.
 */
import http from 'node:http';
import { TERMINAL } from './harness.js';

export interface WireEvent {
  runId: string;
  seq: number;
  type: string;
  ts: string;
  data: Record<string, unknown>;
}

export interface StreamOptions {
  after?: number;
  agent?: http.Agent;
  /** Called for every event, in arrival order. */
  onEvent?: (event: WireEvent, sseId: string | undefined) => void;
  /** Gives up (destroys the socket) after this long. */
  timeoutMs?: number;
}

export interface StreamResult {
  events: number;
  /** The terminal status event, if one arrived. */
  terminal: WireEvent | null;
  /** Milliseconds from the request to the end of the stream. */
  ms: number;
  /** SSE frames whose `id:` differed from the event seq (must be 0). */
  idMismatches: number;
  /** Bytes of SSE received (framing included). */
  wireBytes: number;
  /** How the stream ended. */
  ended: 'end' | 'timeout' | 'error' | 'closed';
  error?: string;
}

export interface EventStream {
  /** Resolves when the response headers arrived (the server has opened its cursor). */
  opened: Promise<void>;
  done: Promise<StreamResult>;
  close(): void;
}

/** Opens GET /v1/runs/:id/events with Accept: text/event-stream and parses it as it arrives. */
export function openEventStream(
  baseUrl: string,
  runId: string,
  options: StreamOptions = {},
): EventStream {
  const started = performance.now();
  let events = 0;
  let terminal: WireEvent | null = null;
  let idMismatches = 0;
  let wireBytes = 0;
  let openedResolve!: () => void;
  let openedReject!: (err: Error) => void;
  const opened = new Promise<void>((resolve, reject) => {
    openedResolve = resolve;
    openedReject = reject;
  });
  opened.catch(() => undefined);
  let req!: http.ClientRequest;
  let timer: NodeJS.Timeout | undefined;

  const done = new Promise<StreamResult>((resolve) => {
    let settled = false;
    const finish = (ended: StreamResult['ended'], error?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const result: StreamResult = {
        events,
        terminal,
        ms: performance.now() - started,
        idMismatches,
        wireBytes,
        ended,
      };
      if (error) result.error = error;
      openedReject(new Error(error ?? ended));
      resolve(result);
    };

    req = http.get(
      `${baseUrl}/v1/runs/${encodeURIComponent(runId)}/events?after=${options.after ?? 0}`,
      { agent: options.agent ?? false, headers: { accept: 'text/event-stream' } },
      (res) => {
        if (res.statusCode !== 200) {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () =>
            finish('error', `HTTP ${String(res.statusCode)}: ${body.slice(0, 300)}`),
          );
          return;
        }
        openedResolve();
        res.setEncoding('utf8'); // a multi-byte character split across chunks stays whole
        let buffer = '';
        let scanFrom = 0;
        res.on('data', (chunk: string) => {
          wireBytes += Buffer.byteLength(chunk, 'utf8');
          buffer += chunk;
          let start = 0;
          let end: number;
          // Frames end with a blank line; search only the new part of the buffer.
          while ((end = buffer.indexOf('\n\n', Math.max(start, scanFrom))) >= 0) {
            parseFrame(buffer.slice(start, end));
            start = end + 2;
          }
          buffer = buffer.slice(start);
          scanFrom = Math.max(0, buffer.length - 1);
        });
        res.on('end', () => finish('end'));
        res.on('close', () => finish('closed'));
        res.on('error', (err) => finish('error', err.message));
      },
    );
    req.on('error', (err) => finish('error', err.message));
    if (options.timeoutMs) {
      timer = setTimeout(() => {
        finish('timeout');
        req.destroy();
      }, options.timeoutMs);
    }
  });

  function parseFrame(frame: string): void {
    let id: string | undefined;
    const data: string[] = [];
    for (const raw of frame.split('\n')) {
      const lineText = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (lineText.startsWith('data:')) data.push(lineText.slice(lineText[5] === ' ' ? 6 : 5));
      else if (lineText.startsWith('id:')) id = lineText.slice(lineText[3] === ' ' ? 4 : 3);
      // `event:`, `retry:` and `: comments` carry nothing the check needs.
    }
    if (data.length === 0) return;
    const event = JSON.parse(data.join('\n')) as WireEvent;
    events++;
    if (id !== undefined && id !== String(event.seq)) idMismatches++;
    if (event.type === 'status' && TERMINAL.has(String(event.data.status))) terminal = event;
    options.onEvent?.(event, id);
  }

  return {
    opened,
    done,
    close: () => req.destroy(),
  };
}
