import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { probePidNamespace, type PidNamespace } from '../../src/exec/index.js';
import { probeBwrap } from '../../src/workspaces/index.js';

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

export interface TestDatabase {
  /** URL of the fresh, empty database. */
  url: string;
  /** Drops the database (closing whatever connections are left). */
  drop(): Promise<void>;
}

/**
 * Creates a fresh database on the server at `adminUrl`, so parallel runs and leftovers of
 * crashed runs never collide. Call `drop()` when done.
 */
export async function createPostgresDatabase(adminUrl: string): Promise<TestDatabase> {
  const name = `patchbay_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = async (statement: string): Promise<void> => {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      // A closed pool's clients may still be saying goodbye: FORCE would kill them mid-way
      // and their error would surface as an unhandled one. Give them a moment first.
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        for (let i = 0; i < 40; i++) {
          const { rows } = await client.query<{ n: string }>(
            'SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1',
            [name],
          );
          if (Number(rows[0]?.n ?? 0) === 0) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Deletes every key under `prefix:` (what a test's queue or bus left in a shared Redis). */
export async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url);
  try {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    await redis.quit();
  }
}

/**
 * `bwrap` when bubblewrap can build a sandbox on this machine, or null (with a loud warning)
 * outside CI. Under CI a missing or broken bwrap fails the suite (`.ci/run` installs it).
 */
export async function requireBwrap(): Promise<string | null> {
  // The product's own probe: the same sandbox flags the runs get.
  const message = await probeBwrap('bwrap').then(
    () => null,
    (err: Error) => err.message,
  );
  if (message === null) return 'bwrap';
  if (inCI) throw new Error(`${message} (CI=true: failing instead of skipping)`);
  console.warn(`\n!!! SKIPPING sandbox tests: ${message} (apt-get install bubblewrap) !!!\n`);
  return null;
}

/**
 * True when this process may create network and mount namespaces (`unshare --net --mount`,
 * as root), with `ip` to give their lo extra addresses; false (with a loud warning) outside
 * CI. Under CI (root) a failure fails the suite.
 */
export function requireNetns(): boolean {
  const probe = spawnSync(
    'unshare',
    ['--net', '--mount', '--propagation', 'private', 'sh', '-euc', 'ip link set lo up'],
    { encoding: 'utf8', timeout: 10_000 },
  );
  if (probe.status === 0) return true;
  const message = `cannot create a network namespace: ${(probe.stderr || String(probe.error ?? '')).trim()}`;
  if (inCI) throw new Error(`${message} (CI=true: failing instead of skipping)`);
  console.warn(`\n!!! SKIPPING network namespace tests: ${message} (they need root) !!!\n`);
  return false;
}

/** The PID-namespace wrapper runs get here, or null (skip; under CI: fail). */
export async function requirePidNamespace(): Promise<PidNamespace | null> {
  const probe = await probePidNamespace();
  if ('prefix' in probe) return probe;
  const message = `no PID namespace for runs: ${probe.reasons.join('; ')}`;
  if (inCI) throw new Error(`${message} (CI=true: failing instead of skipping)`);
  console.warn(`\n!!! SKIPPING containment tests: ${message} !!!\n`);
  return null;
}

/** A store to run a suite against: a fresh SQLite file, or a fresh PostgreSQL database. */
export interface StoreDialect {
  name: 'sqlite' | 'postgres';
  /** The store URL and how to remove it; null when the server is not there (skip). */
  open(): Promise<{ url: string; cleanup(): Promise<void> } | null>;
}

/** Both dialects, for `describe.each`: one contract, run against SQLite and PostgreSQL. */
export const storeDialects: StoreDialect[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'pb-store-'));
      return {
        url: join(dir, 'patchbay.db'),
        cleanup: async () => rmSync(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: 'postgres',
    async open() {
      const admin = await requirePostgres();
      if (!admin) return null;
      // A fresh database per run: parallel runs and leftovers never collide.
      const database = await createPostgresDatabase(admin);
      return { url: database.url, cleanup: database.drop };
    },
  },
];
