/**
 * "Test all" over SSE: `POST /v1/connectors/test-all` streams `step`, `result` and `done`
 * events with ids. A dropped connection resumes with `Last-Event-ID` (the server replays what
 * was missed of the same test), so every step shows once and in order.
 */
import { useCallback, useRef, useState } from 'react';
import type { InboxConnectorKind } from '../../../src/contracts/index.js';
import { apiFetch, errorText } from '../data/api.ts';
import { errorFromResponse } from '../../../src/client/index.js';
import type { TestStep } from './inbox-api.ts';

export interface SseMessage {
  id: number | undefined;
  event: string;
  data: string;
}

/** Splits a text/event-stream body into messages (id, event, data). */
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseMessage> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let id: number | undefined;
  let event = 'message';
  let data: string[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      if (line === '') {
        if (data.length) yield { id, event, data: data.join('\n') };
        event = 'message';
        data = [];
      } else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      else if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('id:')) id = Number(line.slice(3).trim());
    }
  }
}

export interface TestAllState {
  phase: 'idle' | 'running' | 'done' | 'failed';
  steps: TestStep[];
  results: Array<{ kind: InboxConnectorKind; ok: boolean }>;
  connectors?: number;
  error?: string;
}

const RETRIES = 3;

export function useTestAll(onDone: () => void): [TestAllState, () => void] {
  const [state, setState] = useState<TestAllState>({ phase: 'idle', steps: [], results: [] });
  const running = useRef(false);
  const start = useCallback(() => {
    if (running.current) return;
    running.current = true;
    setState({ phase: 'running', steps: [], results: [] });
    void (async () => {
      let last: number | undefined;
      let finished = false;
      for (let attempt = 0; attempt <= RETRIES && !finished; attempt++) {
        try {
          const res = await apiFetch('/v1/connectors/test-all', {
            method: 'POST',
            headers: {
              accept: 'text/event-stream',
              ...(last !== undefined ? { 'last-event-id': String(last) } : {}),
            },
          });
          if (!res.ok || !res.body) throw errorFromResponse(res.status, await res.text());
          for await (const m of readEvents(res.body)) {
            last = m.id ?? last;
            const data = JSON.parse(m.data) as Record<string, unknown>;
            if (m.event === 'step') {
              setState((s) => ({ ...s, steps: [...s.steps, data as unknown as TestStep] }));
            } else if (m.event === 'result') {
              const r = data as { kind: InboxConnectorKind; ok: boolean };
              setState((s) => ({ ...s, results: [...s.results, r] }));
            } else if (m.event === 'done') {
              finished = true;
              setState((s) => ({ ...s, phase: 'done', connectors: data.connectors as number }));
            }
          }
        } catch (err) {
          if (attempt === RETRIES) {
            setState((s) => ({ ...s, phase: 'failed', error: errorText(err) }));
            finished = true;
          }
          await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
        }
      }
      running.current = false;
      onDone();
    })();
  }, [onDone]);
  return [state, start];
}
