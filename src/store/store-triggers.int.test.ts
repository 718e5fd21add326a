/**
 * The store contract for inbound triggers, against SQLite and PostgreSQL: triggers, the
 * webhook-id replay guard, Telegram chats, updates and sent parts, and the run columns they
 * add (trigger, callback format, reply target).
 */
import { describe, expect, it } from 'vitest';
import { storeDialects } from '../../test/helpers/services.js';
import { runRecord, useDialectStore } from '../../test/helpers/store-contract.js';
import { newTriggerId } from './ids.js';
import type { Store } from './store.js';

const EPOCH = '1970-01-01T00:00:00.000Z';
const FUTURE = '2999-01-01T00:00:00.000Z';

describe.each(storeDialects)('store contract: triggers ($name)', (dialect) => {
  let store: Store;
  let skip = false;

  useDialectStore(dialect, (opened) => {
    if (opened) store = opened;
    else skip = true;
  });

  it('keeps triggers and claims each webhook-id once; a refused delivery may be claimed again', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const id = newTriggerId();
    const at = new Date().toISOString();
    await store.triggers.insert({
      id,
      name: 'issues',
      secret: 'whsec_c2VjcmV0',
      run: { prompt: '{{payload.title}}', env: { A: '{{payload.a}}' } },
      enabled: true,
      createdAt: at,
      updatedAt: at,
    });
    expect(await store.triggers.get(id)).toMatchObject({
      secret: 'whsec_c2VjcmV0',
      run: { prompt: '{{payload.title}}', env: { A: '{{payload.a}}' } },
      enabled: true,
    });
    expect(await store.triggers.update(id, { enabled: false, name: null })).toBe(true);
    expect(await store.triggers.get(id)).toMatchObject({ enabled: false, name: null });

    // Claimed by one of many at once.
    const claims = await Promise.all(
      Array.from({ length: 5 }, () => store.triggers.claimDelivery(id, 'msg_1', at, EPOCH)),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    await store.triggers.settleDelivery(id, 'msg_1', { runId: 'run_1' });
    // Started: never again, however old.
    expect(await store.triggers.claimDelivery(id, 'msg_1', at, FUTURE)).toBe(false);

    expect(await store.triggers.claimDelivery(id, 'msg_2', at, EPOCH)).toBe(true);
    await store.triggers.settleDelivery(id, 'msg_2', { errorCode: 'E', errorMessage: 'no' });
    expect(await store.triggers.claimDelivery(id, 'msg_2', new Date().toISOString(), EPOCH)).toBe(
      true,
    );
    // Pending and fresh: being handled. Pending and older than the cut-off: its process died.
    expect(await store.triggers.claimDelivery(id, 'msg_2', at, EPOCH)).toBe(false);
    expect(await store.triggers.claimDelivery(id, 'msg_2', FUTURE, FUTURE)).toBe(true);
    expect(await store.triggers.claimDelivery(id, 'msg_2', FUTURE, FUTURE)).toBe(false);
    // The same id under another trigger is another message.
    expect(await store.triggers.claimDelivery(newTriggerId(), 'msg_1', at, EPOCH)).toBe(true);

    const deliveries = await store.triggers.listDeliveries(id, 10);
    expect(deliveries.map((d) => [d.webhookId, d.outcome, d.runId])).toEqual(
      expect.arrayContaining([
        ['msg_1', 'started', 'run_1'],
        ['msg_2', 'pending', null],
      ]),
    );
    expect(await store.triggers.delete(id)).toBe(true);
    expect(await store.triggers.listDeliveries(id, 10)).toEqual([]);
    expect(await store.triggers.get(id)).toBeUndefined();
  });

  it('keeps Telegram chats, updates once and the parts sent', async ({ skip: skipTest }) => {
    if (skip) skipTest();
    const chat = `-100${Date.now()}`; // group ids exceed 32 bits
    expect(await store.telegram.chatConversation('main', chat)).toBeUndefined();
    await store.telegram.setChatConversation('main', chat, 'conv_1');
    expect(await store.telegram.chatConversation('main', chat)).toBe('conv_1');
    await store.telegram.setChatConversation('main', chat, null);
    expect(await store.telegram.chatConversation('main', chat)).toBeNull();

    const claims = await Promise.all(
      Array.from({ length: 4 }, () => store.telegram.claimUpdate('main', chat)),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await store.telegram.claimUpdate('other', chat)).toBe(true);

    await store.telegram.recordSent('run_t', 0, '10');
    await store.telegram.recordSent('run_t', 2, '12');
    await store.telegram.recordSent('run_t', 2, '13');
    expect([...(await store.telegram.sentParts('run_t'))].sort()).toEqual([0, 2]);
  });

  it('round-trips the trigger, callback format and reply target of a run', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const plain = runRecord();
    const linked = runRecord({
      triggerId: 'trg_x',
      callbackFormat: 'standard-webhooks',
      replyTo: { channel: 'telegram', bot: 'main', chatId: '-1001234567890', messageId: 7 },
    });
    await store.runs.insert(plain);
    await store.runs.insert(linked);
    expect(await store.runs.get(plain.id)).toMatchObject({
      triggerId: null,
      callbackFormat: 'patchbay',
      replyTo: null,
    });
    expect(await store.runs.get(linked.id)).toMatchObject({
      triggerId: 'trg_x',
      callbackFormat: 'standard-webhooks',
      replyTo: { channel: 'telegram', bot: 'main', chatId: '-1001234567890', messageId: 7 },
    });
    const listed = await store.runs.list({ limit: 10, triggerId: 'trg_x' });
    expect(listed.map((r) => r.id)).toEqual([linked.id]);
  });
});
