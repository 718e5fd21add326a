/**
 * The store contract for dashboard sessions, against SQLite and PostgreSQL: kept by the hash
 * of their id, deleted at logout, and pruned once expired.
 */
import { describe, expect, it } from 'vitest';
import { storeDialects } from '../../test/helpers/services.js';
import { useDialectStore } from '../../test/helpers/store-contract.js';
import type { Store } from './store.js';

describe.each(storeDialects)('store contract: dashboard sessions ($name)', (dialect) => {
  let store: Store;
  let skip = false;

  useDialectStore(dialect, (opened) => {
    if (opened) store = opened;
    else skip = true;
  });

  it('keeps, deletes and prunes sessions', async ({ skip: skipTest }) => {
    if (skip) skipTest();
    const session = (idHash: string, expiresAt: string) => ({
      idHash,
      identity: 'token:0011223344556677',
      scopes: ['*'],
      createdAt: '2026-01-01T00:00:00.000Z',
      expiresAt,
    });
    await store.sessions.insert(session('a'.repeat(64), '2026-01-01T12:00:00.000Z'));
    await store.sessions.insert(session('b'.repeat(64), '2026-01-02T12:00:00.000Z'));
    await store.sessions.insert(session('c'.repeat(64), '2026-01-03T12:00:00.000Z'));
    expect(await store.sessions.get('a'.repeat(64))).toEqual(
      session('a'.repeat(64), '2026-01-01T12:00:00.000Z'),
    );
    expect(await store.sessions.get('d'.repeat(64))).toBeUndefined();
    // An id is stored once.
    await expect(
      store.sessions.insert(session('a'.repeat(64), '2026-01-05T00:00:00.000Z')),
    ).rejects.toThrow();

    expect(await store.sessions.delete('c'.repeat(64))).toBe(true);
    expect(await store.sessions.delete('c'.repeat(64))).toBe(false);
    expect(await store.sessions.get('c'.repeat(64))).toBeUndefined();

    // Expired at exactly `now` counts as expired.
    expect(await store.sessions.prune('2026-01-01T12:00:00.000Z')).toBe(1);
    expect(await store.sessions.get('a'.repeat(64))).toBeUndefined();
    expect(await store.sessions.get('b'.repeat(64))).toBeDefined();
  });
});
