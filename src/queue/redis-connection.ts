import type { Redis } from 'ioredis';
import { PatchbayError } from '../contracts/index.js';
import type { Logger } from '../observability/index.js';
import { maskUrlPassword, retryConnect } from '../store/index.js';
import type { ConnectionState } from './port.js';

/** How long between two connection attempts while the start-up probe waits for Redis. */
const PROBE_RETRY_MS = 250;

/**
 * Waits up to `timeoutMs` for Redis to answer a PING, on its own short-lived connection, so
 * that an unreachable server is refused at start with one clear error, before BullMQ and the
 * pub/sub clients open connections that retry for ever (and flood the log while they do).
 * A reply error (wrong password, ACL) is final at once: waiting would not change it.
 * @throws PatchbayError QUEUE_UNAVAILABLE naming the URL (password masked) and what to check.
 */
export async function probeRedis(url: string, timeoutMs: number): Promise<void> {
  const { Redis } = await import('ioredis');
  const failure = await retryConnect(
    async (deadline) => {
      const client = new Redis(url, {
        lazyConnect: true,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        connectTimeout: Math.max(100, deadline - Date.now()),
        // ioredis otherwise keeps a closed socket's timer 2 s, and the refusing process with it.
        disconnectTimeout: 50,
      });
      // The socket's own error (ECONNREFUSED, ENOTFOUND…) says more than the rejected
      // command's "Connection is closed"; reported instead, once (unheard, ioredis prints each).
      let socketError: Error | undefined;
      client.on('error', (err: Error) => (socketError ??= err));
      try {
        await client.connect();
        await client.ping();
      } catch (err) {
        // A reply error (wrong password, ACL) is the server's own answer: kept as it is.
        throw (err as Error).name === 'ReplyError' ? err : (socketError ?? err);
      } finally {
        client.disconnect();
      }
    },
    {
      timeoutMs,
      retryMs: PROBE_RETRY_MS,
      isAnswer: (err) => (err as Error).name === 'ReplyError',
    },
  );
  if (!failure) return;
  const { reason, answered } = failure;
  const shown = maskUrlPassword(url);
  throw new PatchbayError(
    'QUEUE_UNAVAILABLE',
    `Redis at ${shown} (PATCHBAY_QUEUE_URL) ${answered ? 'refused the connection' : `did not answer within ${(timeoutMs / 1000).toFixed(1)}s`}: ${reason}. Check that Redis is running and reachable from this machine, and the URL's host, port and password; or unset PATCHBAY_QUEUE_URL to run on one machine with the embedded queue.`,
    { url: shown, setting: 'PATCHBAY_QUEUE_URL' },
  );
}

const CONNECTION_ERRORS = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** An error that only says the connection to Redis is gone (reported by its watcher). */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (typeof e?.code === 'string' && CONNECTION_ERRORS.has(e.code)) return true;
  return typeof e?.message === 'string' && /^Connection is closed/.test(e.message);
}

/**
 * Follows one ioredis client's connection: logs once when it is lost (ioredis keeps
 * reconnecting and emits an error per attempt, which would flood the log) and once when it is
 * back, and says whether it is up now (for `/ready`).
 */
export function watchConnection(
  client: Redis,
  log: Logger,
  what: string,
): { state(): ConnectionState } {
  let reason: string | null = null;
  let downSince: string | null = null;
  const lost = (message: string): void => {
    reason = message;
    if (downSince !== null) return;
    downSince = new Date().toISOString();
    log.warn({ connection: what, reason: message }, 'redis connection lost; retrying');
  };
  client.on('error', (err: Error) => lost(err.message));
  client.on('close', () => {
    if (client.status !== 'end') lost(reason ?? 'connection closed');
  });
  client.on('ready', () => {
    if (downSince !== null) {
      log.warn({ connection: what, downSince }, 'redis connection back');
    }
    reason = null;
    downSince = null;
  });
  return {
    state: () => {
      const up = client.status === 'ready';
      return {
        up,
        reason: up ? null : (reason ?? `connection ${client.status}`),
        downSince: up ? null : downSince,
      };
    },
  };
}
