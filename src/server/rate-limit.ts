import { PatchbayError } from '../contracts/index.js';

/**
 * A fixed-window counter per client key (token or address). Small and shared by the HTTP
 * route and the WebSocket `run.create`, so neither is a way around the other.
 */
export function createRateLimiter(options: { max: number; windowMs: number; now?: () => number }) {
  const now = options.now ?? Date.now;
  const windows = new Map<string, { start: number; count: number }>();
  let lastSweep = now();
  return {
    /** @throws PatchbayError RATE_LIMITED with `retryAfterSeconds` in details. */
    hit(key: string): void {
      const t = now();
      if (t - lastSweep > options.windowMs) {
        for (const [k, w] of windows) if (t - w.start >= options.windowMs) windows.delete(k);
        lastSweep = t;
      }
      let w = windows.get(key);
      if (!w || t - w.start >= options.windowMs) {
        w = { start: t, count: 0 };
        windows.set(key, w);
      }
      w.count++;
      if (w.count > options.max) {
        const retryAfterSeconds = Math.max(1, Math.ceil((w.start + options.windowMs - t) / 1000));
        throw new PatchbayError(
          'RATE_LIMITED',
          `too many runs created; retry in ${retryAfterSeconds}s`,
          { retryAfterSeconds, limit: options.max, windowMs: options.windowMs },
        );
      }
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;

/**
 * Counts failures (wrong tokens) per client key in a fixed window; once a key has `max`, it is
 * refused until the window ends, so guessing tokens costs a minute per `max` tries.
 */
export function createFailureThrottle(options: {
  max: number;
  windowMs: number;
  now?: () => number;
}) {
  const limiter = createRateLimiter({ ...options, max: options.max - 1 });
  const blocked = new Map<string, number>();
  const now = options.now ?? Date.now;
  return {
    /** @throws PatchbayError RATE_LIMITED while the key is blocked. */
    assertAllowed(key: string): void {
      const until = blocked.get(key);
      if (until === undefined) return;
      const left = until - now();
      if (left <= 0) {
        blocked.delete(key);
        return;
      }
      const retryAfterSeconds = Math.max(1, Math.ceil(left / 1000));
      throw new PatchbayError(
        'RATE_LIMITED',
        `too many failed authentication attempts; retry in ${retryAfterSeconds}s`,
        { retryAfterSeconds },
      );
    },
    fail(key: string): void {
      try {
        limiter.hit(key);
      } catch {
        if (blocked.size > 10_000) blocked.clear();
        blocked.set(key, now() + options.windowMs);
      }
    },
  };
}
