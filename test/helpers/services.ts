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
 * The service's URL, or null (with a loud warning) when it is unreachable outside CI.
 * Under CI an unreachable server throws, so the suite fails instead of skipping.
 */
async function requireService(
  name: string,
  url: string,
  defaultPort: number,
): Promise<string | null> {
  const { hostname, port } = new URL(url);
  const where = `${hostname}:${port || defaultPort}`;
  if (await reachable(hostname, Number(port || defaultPort))) return url;
  const message = `${name} is not reachable at ${where}`;
  if (inCI) throw new Error(`${message} (CI=true: failing instead of skipping)`);
  console.warn(`\n!!! SKIPPING ${name} tests: ${message} !!!\n`);
  return null;
}

export function requirePostgres(): Promise<string | null> {
  const url = process.env.PATCHBAY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  return requireService('PostgreSQL', url, 5432);
}

export function requireRedis(): Promise<string | null> {
  return requireService(
    'Redis',
    process.env.PATCHBAY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    6379,
  );
}
