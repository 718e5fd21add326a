/** The store contract for conversations and their messages, against SQLite and PostgreSQL. */
import { describe, expect, it } from 'vitest';
import { storeDialects } from '../../test/helpers/services.js';
import { runRecord, useDialectStore } from '../../test/helpers/store-contract.js';
import type { Store } from './store.js';

describe.each(storeDialects)('store contract ($name)', (dialect) => {
  let store: Store;
  let skip = false;

  useDialectStore(dialect, (opened) => {
    if (opened) store = opened;
    else skip = true;
  });

  it('stores conversations and appends messages with consecutive seqs, even concurrently', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const at = new Date().toISOString();
    const conv = {
      id: `conv_${Math.random().toString(36).slice(2)}`,
      agent: 'claude' as const,
      title: 't',
      model: null,
      repoId: null,
      ref: null,
      workdir: '/w',
      workspaceRunId: null,
      sessionId: null,
      summary: null,
      messageCount: 0,
      createdAt: at,
      updatedAt: at,
    };
    await store.conversations.insert(conv);
    expect(await store.conversations.get(conv.id)).toEqual(conv);
    // Exactly one run becomes the workspace.
    expect(await store.conversations.claimWorkspace(conv.id, 'run_a')).toBe(true);
    expect(await store.conversations.claimWorkspace(conv.id, 'run_b')).toBe(false);
    const appended = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.conversations.appendMessage(conv.id, {
          role: i % 2 === 0 ? 'user' : 'assistant',
          content: `m${i}`,
          runId: 'run_a',
          runStatus: i % 2 === 0 ? null : 'succeeded',
        }),
      ),
    );
    expect(appended.map((m) => m.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    const messages = await store.conversations.listMessages(conv.id);
    expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(messages.find((m) => m.content === 'm1')).toMatchObject({
      role: 'assistant',
      runStatus: 'succeeded',
    });
    await store.conversations.update(conv.id, { sessionId: 's1', summary: 'sum' });
    expect(await store.conversations.get(conv.id)).toMatchObject({
      workspaceRunId: 'run_a',
      sessionId: 's1',
      summary: 'sum',
      messageCount: 20,
    });
    const run = runRecord({ conversationId: conv.id, network: true });
    await store.runs.insert(run);
    expect((await store.runs.listByConversation(conv.id)).map((r) => r.id)).toEqual([run.id]);
    expect((await store.runs.get(run.id))?.network).toBe(true);
    expect(await store.conversations.list({ limit: 10 })).toContainEqual(
      expect.objectContaining({ id: conv.id }),
    );
  });
});
