/**
 * The server's live feed of run transitions (`GET /v1/events`), one connection for the whole
 * app, shared by every page that lists runs. Reconnects with capped, jittered backoff; while
 * it is down (or when the server says its feed is not complete: Redis scale-out) subscribers
 * are asked to re-read what they show every SLOW_POLL_MS instead of being told of changes.
 */
import { useEffect, useRef, useSyncExternalStore } from 'react';
import type { LiveEvent, LiveStreamReady } from '../../../src/contracts/index.js';
import { parseSseMessages } from '../../../src/client/index.js';
import { apiFetch } from './api.ts';

export type LiveState = 'idle' | 'connecting' | 'live' | 'reconnecting' | 'stopped';

export interface LiveStatus {
  readonly state: LiveState;
  /** Failed attempts since the feed was last up. */
  readonly attempt: number;
  /** False when the server's feed misses runs that move in other processes. */
  readonly complete: boolean;
}

export interface LiveSubscriber {
  /** A run changed (every event; filter in the subscriber). */
  onEvent(event: LiveEvent): void;
  /** Events may have been missed: re-read what the page shows. */
  onResync(): void;
}

export const SLOW_POLL_MS = 30_000;
const MAX_BACKOFF_MS = 10_000;

const subscribers = new Set<LiveSubscriber>();
const watchers = new Set<() => void>();
let status: LiveStatus = { state: 'idle', attempt: 0, complete: true };
let ctrl: AbortController | undefined;
let slowPoll = 0;

function setStatus(next: Partial<LiveStatus>): void {
  status = { ...status, ...next };
  for (const w of watchers) w();
  // Re-read slowly whenever the feed cannot be trusted to say everything.
  const trusted = status.state === 'live' && status.complete;
  if (trusted && slowPoll) {
    window.clearInterval(slowPoll);
    slowPoll = 0;
  } else if (!trusted && !slowPoll && subscribers.size > 0) {
    slowPoll = window.setInterval(resyncAll, SLOW_POLL_MS);
  }
}

function resyncAll(): void {
  if (document.visibilityState === 'hidden') return;
  for (const s of subscribers) s.onResync();
}

async function run(signal: AbortSignal): Promise<void> {
  let tries = 0;
  let connectedBefore = false;
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = window.setTimeout(resolve, ms);
      signal.addEventListener('abort', () => window.clearTimeout(timer), { once: true });
    });
  while (!signal.aborted) {
    setStatus({ state: tries === 0 && !connectedBefore ? 'connecting' : 'reconnecting' });
    try {
      const res = await apiFetch('/v1/events', {
        headers: { accept: 'text/event-stream' },
        signal,
      });
      if (res.status === 401 || res.status === 403) {
        // The session ended: the login page takes over; nothing to retry.
        await res.body?.cancel();
        setStatus({ state: 'stopped' });
        return;
      }
      if (!res.ok || !res.body) throw new Error(`GET /v1/events answered ${res.status}`);
      for await (const message of parseSseMessages(res.body)) {
        if (message.event === 'ready') {
          const ready = JSON.parse(message.data) as LiveStreamReady;
          tries = 0;
          setStatus({ state: 'live', attempt: 0, complete: ready.complete });
          // What happened while we were away was not sent: re-read.
          if (connectedBefore) resyncAll();
          connectedBefore = true;
        } else if (message.event === 'overflow') {
          resyncAll();
        } else {
          const event = JSON.parse(message.data) as LiveEvent;
          for (const s of subscribers) s.onEvent(event);
        }
      }
    } catch {
      if (signal.aborted) return;
    }
    tries++;
    setStatus({ state: 'reconnecting', attempt: tries });
    const backoff = Math.min(MAX_BACKOFF_MS, 250 * 2 ** tries);
    await sleep(backoff / 2 + Math.random() * (backoff / 2));
  }
}

function subscribe(subscriber: LiveSubscriber): () => void {
  subscribers.add(subscriber);
  if (!ctrl) {
    ctrl = new AbortController();
    void run(ctrl.signal);
  }
  setStatus({});
  return () => {
    subscribers.delete(subscriber);
    if (subscribers.size > 0) return;
    ctrl?.abort();
    ctrl = undefined;
    window.clearInterval(slowPoll);
    slowPoll = 0;
    setStatus({ state: 'idle', attempt: 0 });
  };
}

/**
 * Follows the live feed while the component is mounted: `onEvent` for each run transition,
 * `onResync` when events may have been missed (a reconnect, an overflow, the slow poll).
 */
export function useLiveEvents(onEvent: (e: LiveEvent) => void, onResync: () => void): void {
  const ref = useRef({ onEvent, onResync });
  ref.current = { onEvent, onResync };
  useEffect(
    () =>
      subscribe({
        onEvent: (e) => ref.current.onEvent(e),
        onResync: () => ref.current.onResync(),
      }),
    [],
  );
}

/** `fn` at most once per `ms` (the last call of a burst is not lost): for reloads per event. */
export function throttled(fn: () => void, ms: number): () => void {
  let last = 0;
  let timer = 0;
  return () => {
    const wait = last + ms - Date.now();
    if (wait <= 0) {
      last = Date.now();
      fn();
    } else if (!timer) {
      timer = window.setTimeout(() => {
        timer = 0;
        last = Date.now();
        fn();
      }, wait);
    }
  };
}

/** The feed's state, for the visible indicator. */
export function useLiveStatus(): LiveStatus {
  return useSyncExternalStore(
    (watch) => {
      watchers.add(watch);
      return () => watchers.delete(watch);
    },
    () => status,
  );
}
