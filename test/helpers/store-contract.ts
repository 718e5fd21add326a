/**
 * Shared pieces of the store suites in src/store/ (`store*.int.test.ts`, one per area, and
 * `event-writer.int.test.ts`): a fresh store per dialect for a `describe.each(storeDialects)`
 * block, and the run records and output events they write.
 */
import { afterAll, beforeAll } from 'vitest';
import type { RunEvent } from '../../src/contracts/index.js';
import type { RunRecord } from '../../src/store/index.js';
import { openStore, type Store } from '../../src/store/store.js';
import { testRunRecord } from './records.js';
import type { StoreDialect } from './services.js';

/**
 * Opens a fresh store of `dialect` before the enclosing describe block's tests, and closes
 * and removes it after them. `ready` gets the store, or null when the dialect's server is not
 * there (the tests then skip).
 */
export function useDialectStore(dialect: StoreDialect, ready: (store: Store | null) => void): void {
  let store: Store | undefined;
  let cleanup: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    const opened = await dialect.open();
    if (!opened) {
      ready(null);
      return;
    }
    cleanup = opened.cleanup;
    store = await openStore({ databaseUrl: opened.url });
    ready(store);
  });

  afterAll(async () => {
    await store?.close();
    await cleanup?.();
  });
}

/** A queued shell run whose bigint and JSON columns are worth round-tripping. */
export function runRecord(overrides: Partial<RunRecord> = {}): RunRecord {
  return testRunRecord(
    {
      command: ['echo', 'hi'],
      env: { A: '1' },
      idleTimeoutMs: 500,
      maxOutputBytes: 5 * 1024 ** 4, // beyond 32 bits: bigint columns must round-trip
      outputPolicy: 'truncate',
    },
    overrides,
  );
}

/** Output line `seq` of a run. */
export function event(runId: string, seq: number, text = `line ${seq}`): RunEvent {
  return {
    runId,
    seq,
    type: 'output',
    ts: new Date().toISOString(),
    data: { stream: 'stdout', text },
    raw: null,
  };
}
