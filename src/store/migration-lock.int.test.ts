import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from './db.js';
import { migrateToLatest, migrationLockFile, migrations } from './migrator.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('migrating one fresh SQLite file from several connections at once', () => {
  it('applies every migration once, in turn, and leaves no lock behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pb-migrate-lock-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'patchbay.db');
    // Each its own connection, as separate processes have: their awaits interleave.
    const handles = await Promise.all([0, 1, 2, 3].map(() => openDatabase(`sqlite://${file}`)));
    for (const h of handles) cleanups.push(() => h.db.destroy());
    const lockFile = migrationLockFile(handles[0]!)!;
    expect(lockFile).toBe(`${file}.migrate.lock`);
    const applied = await Promise.all(
      handles.map((h) => migrateToLatest(h.db as never, { lockFile })),
    );
    expect(applied.flat().sort()).toEqual(Object.keys(migrations).sort());
    expect(existsSync(lockFile)).toBe(false);
  });

  it('takes over a lock its holder left behind when it died', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pb-migrate-stale-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'patchbay.db');
    const handle = await openDatabase(`sqlite://${file}`);
    cleanups.push(() => handle.db.destroy());
    const lockFile = migrationLockFile(handle)!;
    const { closeSync, openSync, utimesSync } = await import('node:fs');
    closeSync(openSync(lockFile, 'w'));
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockFile, old, old);
    expect(await migrateToLatest(handle.db as never, { lockFile })).toEqual(
      Object.keys(migrations),
    );
  });
});
