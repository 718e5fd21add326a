/**
 * Follows a run's events: history by pages (`after=seq`), then the SSE stream from the last
 * seq, reconnecting with capped, jittered backoff. Events are appended once per animation
 * frame, however many arrive, so a flood re-renders the page at most at the display's rate.
 */
import { useEffect, useRef, useState } from 'react';
import type { RunEvent } from '../../../src/contracts/index.js';
import { errorFromResponse, parseSse } from '../../../src/client/index.js';
import { api, apiFetch, errorText } from '../data/api.ts';
import { EventStore } from './event-store.ts';
import { isTerminal } from './format.ts';

export type StreamState = 'loading' | 'connecting' | 'live' | 'reconnecting' | 'ended' | 'error';

const PAGE = 2000;
const MAX_BACKOFF_MS = 10_000;

export interface RunStream {
  readonly store: EventStore;
  /** Changes whenever events were appended. */
  readonly version: number;
  readonly state: StreamState;
  /** Attempts since the connection was last up (0 when live). */
  readonly attempt: number;
  readonly error: string | undefined;
}

const isEnd = (e: RunEvent): boolean =>
  e.type === 'status' && isTerminal(e.data.status as Parameters<typeof isTerminal>[0]);

export function useRunStream(runId: string, onEvents?: (batch: RunEvent[]) => void): RunStream {
  const [store, setStore] = useState(() => new EventStore());
  const [version, setVersion] = useState(0);
  const [state, setState] = useState<StreamState>('loading');
  const [attempt, setAttempt] = useState(0);
  const [error, setError] = useState<string | undefined>();
  const onEventsRef = useRef(onEvents);
  onEventsRef.current = onEvents;

  useEffect(() => {
    const current = new EventStore();
    setStore(current);
    setVersion(0);
    setState('loading');
    const ctrl = new AbortController();
    let pending: RunEvent[] = [];
    let frame = 0;
    const flush = (): void => {
      frame = 0;
      const batch = pending;
      pending = [];
      if (current.append(batch) > 0) {
        setVersion((v) => v + 1);
        onEventsRef.current?.(batch);
      }
    };
    const push = (event: RunEvent): void => {
      pending.push(event);
      if (!frame) frame = requestAnimationFrame(flush);
    };
    const sleep = (ms: number): Promise<void> =>
      new Promise((resolve) => {
        const timer = setTimeout(resolve, ms);
        ctrl.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
      });

    void (async () => {
      let after = 0;
      let ended = false;
      try {
        for (;;) {
          const page = await api.listEvents(runId, after, PAGE);
          for (const e of page.events) push(e);
          after = page.lastSeq;
          if (page.done) ended = true;
          if (ended || page.events.length < PAGE) break;
        }
      } catch (err) {
        if (ctrl.signal.aborted) return;
        setError((err as Error).message);
        setState('error');
        return;
      }
      let tries = 0;
      while (!ended && !ctrl.signal.aborted) {
        setState(tries === 0 ? 'connecting' : 'reconnecting');
        setAttempt(tries);
        try {
          const res = await apiFetch(
            `/v1/runs/${encodeURIComponent(runId)}/events?after=${after}`,
            { headers: { accept: 'text/event-stream' }, signal: ctrl.signal },
          );
          if (!res.ok || !res.body) {
            const failure = errorFromResponse(res.status, await res.text());
            // A client error (the run is gone, the session ended) does not heal by retrying.
            if (res.status >= 400 && res.status < 500 && res.status !== 429) {
              setError(errorText(failure));
              setState('error');
              return;
            }
            throw failure;
          }
          tries = 0;
          setAttempt(0);
          setState('live');
          for await (const event of parseSse(res.body)) {
            after = Math.max(after, event.seq);
            push(event);
            if (isEnd(event)) ended = true;
          }
        } catch (err) {
          if (ctrl.signal.aborted) return;
          setError(errorText(err));
        }
        if (ended || ctrl.signal.aborted) break;
        tries++;
        setState('reconnecting');
        setAttempt(tries);
        const backoff = Math.min(MAX_BACKOFF_MS, 250 * 2 ** tries);
        await sleep(backoff / 2 + Math.random() * (backoff / 2));
      }
      if (ended) setState('ended');
    })();

    return () => {
      ctrl.abort();
      if (frame) cancelAnimationFrame(frame);
    };
  }, [runId]);

  return { store, version, state, attempt, error };
}
