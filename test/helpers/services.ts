import net from 'node:net';

/** True under CI (`CI=true`): an unreachable service fails the test instead of skipping it. */
export const inCI = (process.env.CI ?? '').toLowerCase() === 'true';

function reachable(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * URL of the machine's PostgreSQL, or null (with a loud warning) when it is unreachable
 * outside CI. Under CI an unreachable server throws, so the suite fails.
 */
export async function requirePostgres(): Promise<string | null> {
  const url = process.env.PATCHBAY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const { hostname, port } = new URL(url);
  if (await reachable(hostname, Number(port || 5432))) return url;
  const message = `PostgreSQL is not reachable at ${hostname}:${port || 5432}`;
  if (inCI) throw new Error(`${message} (CI=true: failing instead of skipping)`);
  console.warn(`\n!!! SKIPPING PostgreSQL tests: ${message} !!!\n`);
  return null;
}

/** Same as requirePostgres, for Redis. */
export async function requireRedis(): Promise<string | null> {
  const url = process.env.PATCHBAY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const { hostname, port } = new URL(url);
  if (await reachable(hostname, Number(port || 6379))) return url;
  const message = `Redis is not reachable at ${hostname}:${port || 6379}`;
  if (inCI) throw new Error(`${message} (CI=true: failing instead of skipping)`);
  console.warn(`\n!!! SKIPPING Redis tests: ${message} !!!\n`);
  return null;
}
