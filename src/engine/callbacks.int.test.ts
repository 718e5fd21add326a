import { getEventListeners } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, createSilentLogger } from '../observability/index.js';
import { openStore, toRun, type Store } from '../store/index.js';
import { testRunRecord } from '../../test/helpers/records.js';
import { waitFor } from '../../test/helpers/wait.js';
import { deliverCallback, type CallbackOptions } from './callbacks.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'pb-callbacks-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const store = await openStore({ databaseUrl: `sqlite://${join(dir, 'patchbay.db')}` });
  cleanups.push(() => store.close());
  return store;
}

/** A real receiver on loopback that answers 500 to the first `failures` attempts of each run. */
async function flakyReceiver(failures: number): Promise<{ url: string; hits: () => number }> {
  const seen = new Map<string, number>();
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits++;
    const id = String(req.headers['x-patchbay-run-id']);
    const n = (seen.get(id) ?? 0) + 1;
    seen.set(id, n);
    req.resume();
    res.writeHead(n <= failures ? 500 : 200).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/hook`, hits: () => hits };
}

const options = (backoffMs: number): CallbackOptions => ({
  secret: 'k',
  maxAttempts: 6,
  backoffMs,
  timeoutMs: 5000,
  userAgent: 'patchbay/test',
  // The receiver is on loopback.
  allowPrivate: true,
});

describe('callback retries', () => {
  it('leave no abort listener on the shared signal, however many deliveries retried', async () => {
    const store = await setup();
    const hook = await flakyReceiver(2);
    const shared = new AbortController();
    const deps = {
      options: options(1),
      repository: store.callbacks,
      log: createSilentLogger(),
      metrics: createMetrics(),
      signal: shared.signal,
    };
    const runs = Array.from({ length: 200 }, () =>
      testRunRecord({ callbackUrl: hook.url }, { status: 'succeeded' }),
    );
    for (const r of runs) await store.runs.insert(r);
    // In batches, as finished runs come: every delivery fails twice, so sleeps twice.
    const results: boolean[] = [];
    for (let i = 0; i < runs.length; i += 20) {
      const batch = runs.slice(i, i + 20);
      results.push(
        ...(await Promise.all(batch.map((r) => deliverCallback(toRun(r), hook.url, deps)))),
      );
    }
    expect(results.every(Boolean)).toBe(true);
    expect(hook.hits()).toBe(600);
    const attempts = await store.callbacks.listForRun(runs[0]!.id);
    expect(attempts.map((a) => a.outcome)).toEqual(['retrying', 'retrying', 'delivered']);
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
  });

  it('an abort still ends a backoff at once, and removes its listener', async () => {
    const store = await setup();
    const hook = await flakyReceiver(100);
    const shared = new AbortController();
    const run = testRunRecord({ callbackUrl: hook.url }, { status: 'succeeded' });
    await store.runs.insert(run);
    const delivering = deliverCallback(toRun(run), hook.url, {
      options: options(60_000),
      repository: store.callbacks,
      log: createSilentLogger(),
      metrics: createMetrics(),
      signal: shared.signal,
    });
    // The first attempt failed: the delivery is now in its 60 s backoff, listening.
    await waitFor(
      () => getEventListeners(shared.signal, 'abort').length === 1,
      'the delivery to wait for its backoff',
    );
    expect((await store.callbacks.listForRun(run.id)).map((a) => a.outcome)).toEqual(['retrying']);
    const t0 = Date.now();
    shared.abort();
    expect(await delivering).toBe(false);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
    expect(hook.hits()).toBe(1);
  });
});
