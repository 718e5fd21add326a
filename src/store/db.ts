import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type { Database } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Where the data lives, with any password removed (safe to log). */
  location: string;
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/**
 * A URL as it may be shown to a person or logged: any password replaced by `***`.
 * @example maskUrlPassword('redis://:s3cret@cache:6379') // 'redis://:***@cache:6379'
 */
export function maskUrlPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
  }
}

/** What waiting for a server at start came to, when it did not answer as hoped. */
export interface ConnectFailure {
  /** The last attempt's reason. */
  reason: string;
  /** The server itself answered with an error (bad password, no such database): final. */
  answered: boolean;
}

/**
 * Tries `attempt` every `retryMs` until it resolves or `timeoutMs` has passed, stopping at once
 * when the server answered with an error of its own (`isAnswer`): waiting would not change it.
 * Resolves with undefined on success, else with the last failure. Shared by the PostgreSQL and
 * Redis start-up probes.
 */
export async function retryConnect(
  attempt: (deadline: number) => Promise<void>,
  options: { timeoutMs: number; retryMs: number; isAnswer(err: unknown): boolean },
): Promise<ConnectFailure | undefined> {
  const deadline = Date.now() + options.timeoutMs;
  let failure: ConnectFailure = { reason: 'no answer', answered: false };
  for (;;) {
    try {
      await attempt(deadline);
      return undefined;
    } catch (err) {
      failure = {
        reason: ((err as Error).message || String(err)).replace(/\.$/, ''),
        answered: options.isAnswer(err),
      };
      if (failure.answered) return failure;
    }
    if (Date.now() + options.retryMs >= deadline) return failure;
    await new Promise((r) => setTimeout(r, options.retryMs));
  }
}

/** How long a PostgreSQL query waits for a connection before it fails (not for ever). */
const PG_CONNECT_TIMEOUT_MS = 10_000;

function sqlitePath(url: string): string {
  if (url.startsWith('sqlite://')) return url.slice('sqlite://'.length);
  if (url.startsWith('sqlite:')) return url.slice('sqlite:'.length);
  return url;
}

/** Opens the store's database: SQLite (WAL) by default, PostgreSQL for a postgres:// URL. */
export async function openDatabase(url: string): Promise<DatabaseHandle> {
  if (isPostgresUrl(url)) {
    // Loaded on demand: the single-machine default never pays for the PostgreSQL driver.
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({
      connectionString: url,
      max: 10,
      connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS,
    });
    // A connection that breaks (PostgreSQL restarted, network cut) must not end the process:
    // the pool hears it while the connection is idle, each client itself while it is checked
    // out between two queries (a transaction). The query in flight fails with the reason,
    // the broken client is dropped when released, and the next query opens a new one.
    pool.on('error', () => undefined);
    pool.on('connect', (client) => client.on('error', () => undefined));
    const safe = new URL(url);
    safe.password = '';
    return {
      db: new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }),
      dialect: 'postgres',
      location: safe.toString(),
    };
  }
  const path = sqlitePath(url);
  if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
  const sqlite = new SqliteDatabase(path);
  // WAL lets readers (SSE replay, the CLI) work while the writer appends events.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  // better-sqlite3 builds SQLite with a 16 MiB page cache per connection; our access is
  // appends and short index range reads, and 1 MiB serves them as fast (bench/throughput.ts)
  // while keeping the server's memory flat (bench/flood.ts: the big cache cost ~16 MB of RSS).
  sqlite.pragma('cache_size = -1024');
  return {
    db: new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) }),
    dialect: 'sqlite',
    location: path,
  };
}
