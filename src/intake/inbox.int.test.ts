/**
 * The intake core against SQLite and PostgreSQL: ingestion (upsert, removal, closed),
 * identifier-first de-duplication with its veto, similarity merges and suggestions, merge
 * undo, ranking with its inputs, complete/undo and learning, key rotation and tampering.
 */
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeDialects } from '../../test/helpers/services.js';
import { createLogger } from '../observability/index.js';
import { createKeyring, openStore, type Store } from '../store/index.js';
import { createInbox, type Inbox } from './index.js';
import { at, item, NOW, sync } from '../../test/fixtures/inbox/source-items.js';

describe.each(storeDialects)('inbox core ($name)', (dialect) => {
  let store: Store;
  let inbox: Inbox;
  let cleanup: (() => Promise<void>) | undefined;
  let skip = false;
  let dbUrl = '';
  const logged: string[] = [];

  beforeAll(async () => {
    const opened = await dialect.open();
    if (!opened) {
      skip = true;
      return;
    }
    cleanup = opened.cleanup;
    dbUrl = opened.url;
    store = await openStore({
      databaseUrl: opened.url,
      keyring: createKeyring([['k1', 'first key material, long enough']]),
    });
    const log = createLogger({
      format: 'json',
      level: 'debug',
      destination: new Writable({
        write(chunk: Buffer, _enc, done) {
          logged.push(chunk.toString());
          done();
        },
      }),
    });
    inbox = createInbox({ store, log, now: () => NOW });
  });
  afterAll(async () => {
    await store?.close();
    await cleanup?.();
  });

  it('upserts by source ref, archives removed refs, and marks closed items done', async ({
    skip: s,
  }) => {
    if (skip) s();
    await store.tasks.deleteAll();
    const first = await inbox.applySync(
      'github',
      sync([
        item('github', 'I_1', { title: 'Flaky login test on CI', snippet: 'fails one run in ten' }),
      ]),
    );
    expect(first).toMatchObject({ created: 1, updated: 0, merged: 0 });
    const again = await inbox.applySync(
      'github',
      sync([
        item('github', 'I_1', {
          title: 'Flaky login test on CI (again)',
          snippet: 'fails one run in ten',
        }),
      ]),
    );
    expect(again).toMatchObject({ created: 0, updated: 1 });
    const [task] = await inbox.list({ limit: 10 });
    expect(task).toMatchObject({ title: 'Flaky login test on CI (again)', state: 'todo' });

    await inbox.applySync(
      'github',
      sync([item('github', 'I_1', { title: 'Flaky login test on CI (again)', closed: true })]),
    );
    expect((await inbox.get(task!.id)).state).toBe('done');

    const removed = await inbox.applySync('github', sync([], ['I_1']));
    expect(removed.archived).toBe(1);
    expect(await inbox.list({ limit: 10 })).toEqual([]);
    expect((await inbox.get(task!.id)).archived).toBe(true);
  });

  it('lists tasks with their sources in one query when asked', async ({ skip: s }) => {
    if (skip) s();
    await store.tasks.deleteAll();
    await inbox.applySync(
      'gmail',
      sync([
        item('gmail', 'm1', { title: 'Release notes', identifiers: { threadId: 't1' } }),
        item('gmail', 'm2', { title: 'Re: Release notes', identifiers: { threadId: 't1' } }),
        item('gmail', 'm3', { title: 'Lunch on Friday', identifiers: { threadId: 't2' } }),
      ]),
    );
    const listed = await inbox.list({ limit: 10, include: 'sources' });
    expect(listed).toHaveLength(2);
    for (const t of listed) {
      expect(t.sources, t.title).toEqual((await inbox.get(t.id)).sources);
    }
    expect(listed.map((t) => t.sources!.map((x) => x.ref).sort()).sort()).toEqual([
      ['m1', 'm2'],
      ['m3'],
    ]);
    expect((await inbox.list({ limit: 10 })).every((t) => !('sources' in t))).toBe(true);
    expect(await store.tasks.listSourcesOf([])).toEqual(new Map());
  });

  it('joins a reply to its thread and an email to its Jira issue by identifiers; vetoes conflicting ones; merges keep every source and undo restores', async ({
    skip: s,
  }) => {
    if (skip) s();
    await store.tasks.deleteAll();
    await inbox.applySync(
      'jira',
      sync([
        item('jira', '100', {
          title: 'PAY-1 Refunds double-submitted on retry',
          snippet: 'Add idempotency keys',
          identifiers: { issueKey: 'PAY-1' },
        }),
        item('jira', '101', {
          title: 'PAY-2 Refunds double-submitted on retry',
          snippet: 'Add idempotency keys',
          identifiers: { issueKey: 'PAY-2' },
        }),
      ]),
    );
    const mail = await inbox.applySync(
      'gmail',
      sync([
        item('gmail', 'm1', {
          title: 'About PAY-1',
          snippet: 'can you look at this',
          identifiers: { threadId: 't1', messageId: '<m1@x>', issueKey: 'PAY-1' },
        }),
        item('gmail', 'm2', {
          title: 'Re: About PAY-1',
          snippet: 'any news?',
          identifiers: { threadId: 't9', messageId: '<m2@x>', inReplyTo: ['<m1@x>'] },
        }),
      ]),
    );
    expect(mail).toMatchObject({ created: 0, merged: 2 });
    const open = await inbox.list({ limit: 10 });
    // PAY-2 reads the same as PAY-1 but names another issue: never merged.
    expect(open.map((t) => t.title).sort()).toEqual([
      'PAY-1 Refunds double-submitted on retry',
      'PAY-2 Refunds double-submitted on retry',
    ]);
    const pay1 = open.find((t) => t.title.startsWith('PAY-1'))!;
    const detail = await inbox.get(pay1.id);
    expect(detail.sources.map((x) => `${x.kind}:${x.ref}`).sort()).toEqual([
      'gmail:m1',
      'gmail:m2',
      'jira:100',
    ]);
    expect(detail.merges.filter((m) => m.method === 'identifier')).toHaveLength(2);

    const mergeOfM1 = detail.merges.find((m) => m.intoTaskId === pay1.id)!;
    const restored = await inbox.undoMerge(mergeOfM1.id);
    expect(restored.state).toBe('todo');
    expect(restored.sources.map((x) => x.ref)).toEqual([expect.stringMatching(/^m/)]);
    const after = await inbox.get(pay1.id);
    expect(after.sources.length).toBe(2);
    await expect(inbox.undoMerge(mergeOfM1.id)).rejects.toMatchObject({
      code: 'INBOX_MERGE_NOT_FOUND',
    });
  });

  it('merges by similarity above the calibrated threshold and only suggests in the band below', async ({
    skip: s,
  }) => {
    if (skip) s();
    await store.tasks.deleteAll();
    await store.tasks.saveThreshold(inbox.similarity.name, { merge: 0.7, suggest: 0.2, pairs: 0 });
    await inbox.applySync(
      'github',
      sync([
        item('github', 'G1', {
          title: 'Upgrade the CI matrix to Node 22',
          snippet: 'Node 20 reaches end of life in April',
        }),
      ]),
    );
    const near = await inbox.applySync(
      'jira',
      sync([
        item('jira', 'J1', {
          title: 'Upgrade CI matrix to Node 22',
          snippet: 'Node 20 reaches its end of life in April',
        }),
      ]),
    );
    expect(near.merged).toBe(1);
    const partial = await inbox.applySync(
      'gmail',
      sync([
        item('gmail', 'E1', {
          title: 'Upgrade the CI to Node 22',
          snippet: 'the website build too',
          identifiers: { threadId: 'tt' },
        }),
      ]),
    );
    expect(partial.merged).toBe(0);
    const tasks = await inbox.list({ limit: 10 });
    expect(tasks).toHaveLength(2);
    const suggested = tasks.find((t) => t.kind === 'gmail')!;
    expect(suggested.suggestedDuplicateOf).toBe(tasks.find((t) => t.kind === 'github')!.id);
    expect(suggested.suggestedSimilarity).toBeGreaterThanOrEqual(0.2);
    expect(suggested.suggestedSimilarity).toBeLessThan(0.7);
  });

  it('ranks deterministically with stored inputs, proposes horizons, and lists the top three', async ({
    skip: s,
  }) => {
    if (skip) s();
    await store.tasks.deleteAll();
    await inbox.applySync(
      'jira',
      sync([
        item('jira', 'A', {
          title: 'Overdue outage fix',
          dueAt: at(-2),
          priority: 'highest',
          identifiers: { issueKey: 'OPS-1' },
        }),
        item('jira', 'B', {
          title: 'Due in five days',
          dueAt: at(24 * 5),
          priority: 'high',
          identifiers: { issueKey: 'OPS-2' },
          mentions: ['OPS-1'],
        }),
        item('jira', 'C', {
          title: 'Someday cleanup',
          priority: 'low',
          identifiers: { issueKey: 'OPS-3' },
          updatedAt: at(-24 * 20),
        }),
        item('jira', 'D', {
          title: 'Due in three weeks',
          dueAt: at(24 * 21),
          identifiers: { issueKey: 'OPS-4' },
        }),
        item('jira', 'E', {
          title: 'Asked directly today',
          asksUser: true,
          waitingOnUser: true,
          identifiers: { issueKey: 'OPS-5' },
        }),
      ]),
    );
    const today = await inbox.list({ horizon: 'today', limit: 3 });
    expect(today.map((t) => t.title)).toEqual(['Overdue outage fix', 'Asked directly today']);
    const a = today[0]!;
    expect(a.scoreInputs.points).toMatchObject({ due: 40, priority: 25, blocks: 5 });
    expect(a.scoreInputs.blocks).toBe(1);
    expect(a.score).toBeCloseTo(Object.values(a.scoreInputs.points).reduce((x, y) => x + y, 0));
    expect((await inbox.list({ horizon: 'week', limit: 3 })).map((t) => t.title)).toEqual([
      'Due in five days',
    ]);
    expect((await inbox.list({ horizon: 'month', limit: 3 })).map((t) => t.title)).toEqual([
      'Due in three weeks',
      'Someday cleanup',
    ]);
    // The same inputs give the same scores.
    await inbox.rescore();
    expect((await inbox.list({ horizon: 'today', limit: 3 }))[0]!.score).toBe(a.score);
    // An override moves a task; undo moves it back.
    const c = (await inbox.list({ horizon: 'month', limit: 3 }))[1]!;
    await inbox.triage(c.id, { action: 'horizon', horizon: 'today' });
    expect((await inbox.list({ horizon: 'today', limit: 3 })).map((t) => t.id)).toContain(c.id);
    await inbox.triage(c.id, { action: 'undo' });
    expect((await inbox.get(c.id)).horizon).toBe('month');
  });

  it('complete and undo restore the exact previous state, audit each change, and teach sender affinity', async ({
    skip: s,
  }) => {
    if (skip) s();
    await store.tasks.deleteAll();
    const from = { role: 'from' as const, email: 'Dana@Acme.test' };
    await inbox.applySync(
      'gmail',
      sync([
        item('gmail', 'x1', {
          title: 'Please review the rollout plan',
          people: [from],
          identifiers: { threadId: 'a' },
        }),
        item('gmail', 'x2', {
          title: 'Budget numbers for Q3',
          people: [from],
          identifiers: { threadId: 'b' },
        }),
      ]),
    );
    const [t1, t2] = (await inbox.list({ limit: 10 })).sort((x, y) =>
      x.sourceRef.localeCompare(y.sourceRef),
    );
    const until = at(48);
    await inbox.triage(t2!.id, { action: 'snooze', until });
    await inbox.triage(t2!.id, { action: 'accept' });
    const before = await inbox.get(t2!.id);
    expect(before.state).toBe('accepted');
    const affinityBefore = (await store.tasks.affinity('sender')).get('dana@acme.test') ?? 0;
    const done = await inbox.triage(t2!.id, { action: 'complete' });
    expect(done.state).toBe('done');
    expect((await store.tasks.affinity('sender')).get('dana@acme.test')).toBeCloseTo(
      affinityBefore + 0.5,
    );
    // The other task of this sender ranks higher now.
    expect((await inbox.get(t1!.id)).scoreInputs.senderAffinity).toBeCloseTo(affinityBefore + 0.5);
    expect((await inbox.list({ horizon: 'past7d', limit: 3 })).map((t) => t.id)).toEqual([t2!.id]);

    const undone = await inbox.triage(t2!.id, { action: 'undo' });
    expect({
      state: undone.state,
      snoozedUntil: undone.snoozedUntil,
      doneAt: undone.doneAt,
    }).toEqual({
      state: before.state,
      snoozedUntil: before.snoozedUntil,
      doneAt: before.doneAt,
    });
    expect((await store.tasks.affinity('sender')).get('dana@acme.test')).toBeCloseTo(
      affinityBefore,
    );
    // Undo walks back further, one action at a time (undo.int.test.ts checks every field).
    expect((await inbox.triage(t2!.id, { action: 'undo' })).state).toBe('snoozed');
    expect((await inbox.triage(t2!.id, { action: 'undo' })).state).toBe('todo');
    await expect(inbox.triage(t2!.id, { action: 'undo' })).rejects.toMatchObject({
      code: 'INBOX_TRIAGE_INVALID',
    });
    const audit = (await inbox.get(t2!.id)).audit.map((e) => e.action);
    expect(audit).toEqual(['created', 'snooze', 'accept', 'complete', 'undo', 'undo', 'undo']);

    // Marked a duplicate by hand, then undone: back on its own with its sources.
    await inbox.triage(t1!.id, { action: 'duplicate', of: t2!.id });
    expect((await inbox.get(t2!.id)).sources).toHaveLength(2);
    const back = await inbox.triage(t1!.id, { action: 'undo' });
    expect(back.state).toBe('todo');
    expect((await inbox.get(t1!.id)).sources.map((x) => x.ref)).toEqual([t1!.sourceRef]);
  });

  it('seals credentials per key id with the row as AAD, rotates to a new key, and refuses tampered rows', async ({
    skip: s,
  }) => {
    if (skip) s();
    const secret = { accessToken: 'gho_secret_value', refreshToken: 'refresh_me' };
    await store.connectors.saveCredentials('github', secret);
    const raw = await sql<{
      credentials: string;
      key_id: string;
    }>`select credentials, key_id from inbox_connectors where kind = 'github'`.execute(
      store.handle.db,
    );
    expect(raw.rows[0]!.key_id).toBe('k1');
    expect(raw.rows[0]!.credentials).not.toContain('gho_secret_value');
    expect(await store.connectors.openCredentials('github')).toEqual(secret);

    // A store opened with a new active key still reads old rows, and rotation moves them over.
    const both = await openStore({
      databaseUrl: dbUrl,
      migrate: false,
      keyring: createKeyring([
        ['k2', 'second key material, long enough'],
        ['k1', 'first key material, long enough'],
      ]),
    });
    const rotating = both;
    {
      expect(await both.connectors.openCredentials('github')).toEqual(secret);
      expect(await both.connectors.rotate()).toEqual({ rotated: 1, total: 1, unreadable: [] });
      expect(await both.connectors.rotate()).toEqual({ rotated: 0, total: 1, unreadable: [] });
      const rotated = await sql<{
        key_id: string;
      }>`select key_id from inbox_connectors where kind = 'github'`.execute(store.handle.db);
      expect(rotated.rows[0]!.key_id).toBe('k2');
      // The old keyring alone no longer has the key.
      await expect(store.connectors.openCredentials('github')).rejects.toMatchObject({
        code: 'INBOX_KEY_MISSING',
      });
    }

    // Sealed for another row: copied onto gmail, it does not open there.
    await store.connectors.saveCredentials('gmail', { accessToken: 'other' });
    const github = await sql<{
      credentials: string;
      key_id: string;
    }>`select credentials, key_id from inbox_connectors where kind = 'github'`.execute(
      store.handle.db,
    );
    await sql`update inbox_connectors set credentials = ${github.rows[0]!.credentials}, key_id = ${github.rows[0]!.key_id} where kind = 'gmail'`.execute(
      store.handle.db,
    );
    await expect(rotating.connectors.openCredentials('gmail')).rejects.toMatchObject({
      code: 'INBOX_CREDENTIALS_UNREADABLE',
    });
    // One byte flipped.
    const c = github.rows[0]!.credentials;
    const flipped = c.slice(0, 20) + (c[20] === 'A' ? 'B' : 'A') + c.slice(21);
    await sql`update inbox_connectors set credentials = ${flipped} where kind = 'github'`.execute(
      store.handle.db,
    );
    await expect(rotating.connectors.openCredentials('github')).rejects.toMatchObject({
      code: 'INBOX_CREDENTIALS_UNREADABLE',
    });
    await both.close();
    // Nothing logged carries the tokens.
    expect(logged.join('')).not.toContain('gho_secret_value');
  });
});
