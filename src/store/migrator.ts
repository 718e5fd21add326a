import { closeSync, openSync, rmSync, statSync, utimesSync } from 'node:fs';
import { Migrator, type Kysely, type Migration, type MigrationResultSet } from 'kysely';
import { PatchbayError } from '../contracts/index.js';
import * as m0001 from './migrations/0001-runs-and-events.js';
import * as m0002 from './migrations/0002-agent-results.js';
import * as m0003 from './migrations/0003-repos.js';
import * as m0004 from './migrations/0004-run-worktrees.js';
import * as m0005 from './migrations/0005-workspace-of.js';
import * as m0006 from './migrations/0006-sandbox-and-conversations.js';
import * as m0007 from './migrations/0007-jobs.js';
import * as m0008 from './migrations/0008-workers.js';
import * as m0009 from './migrations/0009-schedules.js';
import * as m0010 from './migrations/0010-budgets.js';
import * as m0011 from './migrations/0011-optimizations.js';
import * as m0012 from './migrations/0012-run-trace.js';
import * as m0013 from './migrations/0013-agent-policy.js';
import * as m0014 from './migrations/0014-reactions.js';
import * as m0015 from './migrations/0015-llm-calls.js';
import * as m0016 from './migrations/0016-validation.js';
import * as m0017 from './migrations/0017-github.js';
import * as m0018 from './migrations/0018-triggers.js';
import * as m0019 from './migrations/0019-cursor-runner.js';
import * as m0020 from './migrations/0020-dashboard-sessions.js';
import * as m0021 from './migrations/0021-inbox.js';
import * as m0022 from './migrations/0022-inbox-sync-lease.js';
import * as m0023 from './migrations/0023-inbox-ai.js';

/** Migrations in order. Names are permanent: never rename or edit a shipped one. */
export const migrations: Record<string, Migration> = {
  '0001-runs-and-events': m0001,
  '0002-agent-results': m0002,
  '0003-repos': m0003,
  '0004-run-worktrees': m0004,
  '0005-workspace-of': m0005,
  '0006-sandbox-and-conversations': m0006,
  '0007-jobs': m0007,
  '0008-workers': m0008,
  '0009-schedules': m0009,
  '0010-budgets': m0010,
  '0011-optimizations': m0011,
  '0012-run-trace': m0012,
  '0013-agent-policy': m0013,
  '0014-reactions': m0014,
  '0015-llm-calls': m0015,
  '0016-validation': m0016,
  '0017-github': m0017,
  '0018-triggers': m0018,
  '0019-cursor-runner': m0019,
  '0020-dashboard-sessions': m0020,
  '0021-inbox': m0021,
  '0022-inbox-sync-lease': m0022,
  '0023-inbox-ai': m0023,
};

export interface MigrationStatus {
  name: string;
  executedAt: string | null;
}

function createMigrator(db: Kysely<unknown>): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    migrationTableName: 'patchbay_migrations',
    migrationLockTableName: 'patchbay_migrations_lock',
  });
}

function unwrap(result: MigrationResultSet): string[] {
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName;
    throw new PatchbayError(
      'MIGRATION_FAILED',
      `migration ${failed ?? '(unknown)'} failed: ${String((result.error as Error).message ?? result.error)}`,
      { migration: failed },
      { cause: result.error },
    );
  }
  return (result.results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** A lock file untouched this long belongs to a process that died while migrating. */
const STALE_LOCK_MS = 30_000;

/**
 * Runs `fn` holding `file` (created exclusively), so processes migrating one SQLite file at the
 * same moment (a server and its workers starting together) take turns: Kysely's migration lock
 * is a no-op on SQLite and its migrations are not transactional there, so two would interleave
 * DDL. The holder touches the file while it works; a lock left by a dead process goes stale.
 */
async function withLockFile<T>(file: string, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      closeSync(openSync(file, 'wx'));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = Date.now() - (statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (age > STALE_LOCK_MS) rmSync(file, { force: true });
      else await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
    }
  }
  const touch = setInterval(() => {
    const now = new Date();
    try {
      utimesSync(file, now, now);
    } catch {
      // removed as stale by another process: nothing to keep fresh
    }
  }, STALE_LOCK_MS / 3);
  try {
    return await fn();
  } finally {
    clearInterval(touch);
    rmSync(file, { force: true });
  }
}

/**
 * Applies every pending migration; returns the names applied. `lockFile` (SQLite): a file
 * beside the database that serialises processes migrating it at once; PostgreSQL takes a real
 * lock of its own.
 */
export async function migrateToLatest(
  db: Kysely<unknown>,
  options: { lockFile?: string } = {},
): Promise<string[]> {
  const run = async () => unwrap(await createMigrator(db).migrateToLatest());
  return options.lockFile ? withLockFile(options.lockFile, run) : run();
}

/** The lock file of a SQLite database at `location` (none in memory or for PostgreSQL). */
export function migrationLockFile(handle: { dialect: string; location: string }) {
  return handle.dialect === 'sqlite' && handle.location !== ':memory:'
    ? `${handle.location}.migrate.lock`
    : undefined;
}

/** Reverts the latest applied migration; returns its name (empty when none). */
export async function migrateDown(db: Kysely<unknown>): Promise<string[]> {
  return unwrap(await createMigrator(db).migrateDown());
}

export async function migrationStatus(db: Kysely<unknown>): Promise<MigrationStatus[]> {
  const list = await createMigrator(db).getMigrations();
  return list.map((m) => ({ name: m.name, executedAt: m.executedAt?.toISOString() ?? null }));
}
