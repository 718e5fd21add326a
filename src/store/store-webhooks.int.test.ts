/**
 * The store contract for inbound GitHub deliveries, against SQLite and PostgreSQL: a delivery
 * id is remembered once with its payload; one process at a time claims it; a failed try
 * releases it for a later one; a handled one is never listed again.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { storeDialects } from '../../test/helpers/services.js';
import { useDialectStore } from '../../test/helpers/store-contract.js';
import { createDeliveryRepository } from './github-repository.js';
import type { Database } from './schema.js';
import { createSecretBox } from './secret-box.js';
import type { Store } from './store.js';

const later = (ms: number): string => new Date(Date.now() + ms).toISOString();

describe.each(storeDialects)('store contract: webhook deliveries ($name)', (dialect) => {
  let store: Store;
  let skip = false;

  useDialectStore(dialect, (opened) => {
    if (opened) store = opened;
    else skip = true;
  });

  it('remembers once, claims once at a time, retries a released one, forgets a settled one', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const deliveries = store.webhookDeliveries;
    const id = randomUUID();
    const payload = { action: 'created', comment: { body: '@patchbay hi' } };
    expect(await deliveries.remember(id, 'github', 'issue_comment', payload)).toBe(true);
    expect(await deliveries.remember(id, 'github', 'issue_comment', payload)).toBe(false);

    // Listed once it is old enough, with its payload.
    const pending = await deliveries.listPending('github', later(1000), 100);
    expect(pending.filter((p) => p.id === id)).toEqual([
      { id, event: 'issue_comment', payload, attempts: 0 },
    ]);
    expect(
      (await deliveries.listPending('github', later(-60_000), 100)).map((p) => p.id),
    ).not.toContain(id);

    // Five processes at once: one gets the try.
    const claims = await Promise.all(
      Array.from({ length: 5 }, () => deliveries.claim(id, 'github', later(60_000))),
    );
    expect(claims.filter((c) => c !== null)).toEqual([1]);
    // Held: not listed, not claimable.
    expect(
      (await deliveries.listPending('github', later(1000), 100)).map((p) => p.id),
    ).not.toContain(id);
    expect(await deliveries.claim(id, 'github', later(60_000))).toBeNull();

    // The try failed: released, listed again, the next claim is try 2.
    await deliveries.release(id, 'github', 'GitHub answered 502');
    expect((await deliveries.listPending('github', later(1000), 100)).map((p) => p.id)).toContain(
      id,
    );
    expect(await deliveries.claim(id, 'github', later(60_000))).toBe(2);

    // A lease that ran out (its process died) is claimable again.
    await deliveries.release(id, 'github', 'x');
    expect(await deliveries.claim(id, 'github', later(-1000))).toBe(3);
    expect(await deliveries.claim(id, 'github', later(60_000))).toBe(4);

    // Handled: never listed or claimed again.
    await deliveries.settle(id, 'github');
    expect(
      (await deliveries.listPending('github', later(1000), 100)).map((p) => p.id),
    ).not.toContain(id);
    expect(await deliveries.claim(id, 'github', later(60_000))).toBeNull();
    expect(await deliveries.remember(id, 'github', 'issue_comment', payload)).toBe(false);
  });

  it('prunes handled delivery ids older than the retention window, and only those', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const deliveries = store.webhookDeliveries;
    const handled = randomUUID();
    const unhandled = randomUUID();
    const report = randomUUID();
    expect(await deliveries.remember(handled, 'github', 'ping', {})).toBe(true);
    expect(await deliveries.remember(unhandled, 'github', 'issue_comment', { a: 1 })).toBe(true);
    expect(await deliveries.remember(report, 'actions', 'report')).toBe(true);
    await deliveries.settle(handled, 'github');
    await deliveries.settle(report, 'actions');

    // Received after the cutoff: kept, still refused as redeliveries.
    await deliveries.prune(later(-60_000));
    expect(await deliveries.remember(handled, 'github', 'ping', {})).toBe(false);
    expect(await deliveries.remember(report, 'actions', 'report')).toBe(false);

    // Older than the cutoff: the handled ones of every source go, the unhandled one stays.
    expect(await deliveries.prune(later(1000))).toBeGreaterThanOrEqual(2);
    expect((await deliveries.listPending('github', later(1000), 100)).map((p) => p.id)).toContain(
      unhandled,
    );
    expect(await deliveries.remember(unhandled, 'github', 'issue_comment', { a: 1 })).toBe(false);
    expect(await deliveries.remember(handled, 'github', 'ping', {})).toBe(true);
    expect(await deliveries.remember(report, 'actions', 'report')).toBe(true);
  });

  it("seals the GitHub Action's report key in a run's delivery state and opens it on read", async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const deliveries = createDeliveryRepository(
      store.handle.db as never,
      createSecretBox(randomBytes(32)),
    );
    const runId = `run_${randomUUID()}`;
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    await deliveries.update(runId, { repository: 'o/r', actionsSecret: secret });
    await deliveries.update(runId, { dispatchedAt: '2026-01-01T00:00:00.000Z' });
    const row = await (store.handle.db as never as Kysely<Database>)
      .selectFrom('run_deliveries')
      .select('state')
      .where('run_id', '=', runId)
      .executeTakeFirstOrThrow();
    expect(row.state).not.toContain(secret.slice(6, 30));
    expect(await deliveries.get(runId)).toEqual({
      repository: 'o/r',
      actionsSecret: secret,
      dispatchedAt: '2026-01-01T00:00:00.000Z',
    });
  });
});
