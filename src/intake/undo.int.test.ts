/**
 * Undo restores exactly, on SQLite and PostgreSQL: every stored field of the task (but its
 * updatedAt), the learned weights (also when a bound stopped a step short), the edges and
 * the other task of a merge, through multi-step histories.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeDialects } from '../../test/helpers/services.js';
import { createSilentLogger } from '../observability/index.js';
import { createKeyring, openStore, type Store, type TaskRecord } from '../store/index.js';
import { createInbox, type Inbox } from './index.js';
import { at, item, NOW, sync } from '../../test/fixtures/inbox/source-items.js';

describe.each(storeDialects)('inbox undo ($name)', (dialect) => {
  let store: Store;
  let inbox: Inbox;
  let cleanup: (() => Promise<void>) | undefined;
  let skip = false;

  beforeAll(async () => {
    const opened = await dialect.open();
    if (!opened) {
      skip = true;
      return;
    }
    cleanup = opened.cleanup;
    store = await openStore({
      databaseUrl: opened.url,
      keyring: createKeyring([['k1', 'undo test key material']]),
    });
    inbox = createInbox({ store, log: createSilentLogger(), now: () => NOW });
  });
  afterAll(async () => {
    await store?.close();
    await cleanup?.();
  });

  /** Everything stored about the inbox but write times: tasks, sources, edges, weights. */
  async function world(): Promise<unknown> {
    const tasks = (await store.tasks.list({ archived: true }))
      .map(({ updatedAt: _u, ...t }: TaskRecord) => t)
      .sort((a, b) => a.id.localeCompare(b.id));
    const sources: Record<string, string[]> = {};
    for (const t of tasks) {
      sources[t.id] = (await store.tasks.listSources(t.id)).map((s) => `${s.kind}:${s.ref}`).sort();
    }
    const edges = (await store.tasks.listEdges()).map((e) => `${e.from}>${e.to}:${e.kind}`).sort();
    const weights = [
      ...(await store.tasks.affinity('sender')).entries(),
      ...(await store.tasks.affinity('source')).entries(),
    ]
      .map(([k, w]) => `${k}=${w.toFixed(9)}`)
      .sort();
    return { tasks, sources, edges, weights };
  }

  it('accept → snooze → complete → undo → undo → undo walks back each step exactly, weights at a bound included', async ({
    skip: s,
  }) => {
    if (skip) s();
    await store.tasks.deleteAll();
    const from = { role: 'from' as const, email: 'lee@acme.test' };
    await inbox.applySync(
      'gmail',
      sync([
        item('gmail', 'u1', { title: 'Sign the vendor contract', people: [from] }),
        item('gmail', 'u2', { title: 'Lunch order for Friday', people: [from] }),
      ]),
    );
    // Near the upper bound: completing moves the weight +0.5 nominally but only +0.2 really.
    await store.tasks.adjustAffinity('sender', 'lee@acme.test', 2.8);
    await inbox.rescore();
    const task = (await inbox.list({ limit: 10 })).find((t) => t.sourceRef === 'u1')!;

    const states: unknown[] = [await world()];
    await inbox.triage(task.id, { action: 'accept' });
    states.push(await world());
    await inbox.triage(task.id, { action: 'snooze', until: at(30) });
    states.push(await world());
    await inbox.triage(task.id, { action: 'horizon', horizon: 'today' });
    states.push(await world());
    await inbox.triage(task.id, { action: 'complete' });
    expect((await store.tasks.affinity('sender')).get('lee@acme.test')).toBe(3);

    for (let i = states.length - 1; i >= 0; i--) {
      await inbox.triage(task.id, { action: 'undo' });
      expect(await world()).toEqual(states[i]);
    }
    await expect(inbox.triage(task.id, { action: 'undo' })).rejects.toMatchObject({
      code: 'INBOX_TRIAGE_INVALID',
    });
    const audit = (await inbox.get(task.id)).audit.map((e) => `${e.action}:${e.toState}`);
    expect(audit).toEqual([
      'created:todo',
      'accept:accepted',
      'snooze:snoozed',
      'horizon:snoozed',
      'complete:done',
      'undo:snoozed',
      'undo:snoozed',
      'undo:accepted',
      'undo:todo',
    ]);
  });

  it('a manual merge and an identifier merge undo exactly: both tasks, their sources and edges', async ({
    skip: s,
  }) => {
    if (skip) s();
    await store.tasks.deleteAll();
    await inbox.applySync(
      'jira',
      sync([
        item('jira', '7', {
          title: 'PAY-7 Card declined on retry',
          identifiers: { issueKey: 'PAY-7', urls: ['https://acme.atlassian.net/browse/PAY-7'] },
          priority: 'high',
        }),
        item('jira', '8', {
          title: 'OPS-8 Rotate the database password',
          identifiers: { issueKey: 'OPS-8' },
          mentions: ['PAY-7'],
        }),
      ]),
    );
    await inbox.applySync(
      'github',
      sync([
        item('github', 'I_5', {
          title: 'Checkout retries twice',
          identifiers: { urls: ['https://github.com/acme/shop/issues/5'] },
          mentions: ['OPS-8'],
          dueAt: at(20),
        }),
      ]),
    );
    const tasks = await inbox.list({ limit: 10 });
    const pay = tasks.find((t) => t.title.startsWith('PAY-7'))!;
    const gh = tasks.find((t) => t.kind === 'github')!;
    expect((await store.tasks.listEdges()).length).toBeGreaterThan(0);

    // accept, then a manual merge of the GitHub issue into PAY-7, then two undos.
    const s0 = await world();
    await inbox.triage(gh.id, { action: 'accept' });
    const s1 = await world();
    await inbox.triage(gh.id, { action: 'duplicate', of: pay.id });
    const merged = await inbox.get(pay.id);
    expect(merged.sources).toHaveLength(2);
    expect(merged.dueAt).toBe(at(20));
    await inbox.triage(gh.id, { action: 'undo' });
    expect(await world()).toEqual(s1);
    await inbox.triage(gh.id, { action: 'undo' });
    expect(await world()).toEqual(s0);

    // An email naming PAY-7 joins it by identifier; undoing that merge restores both.
    const beforeMail = await world();
    const mail = await inbox.applySync(
      'gmail',
      sync([
        item('gmail', 'm7', {
          title: '[JIRA] (PAY-7) Card declined on retry',
          identifiers: { threadId: 'th7', issueKey: 'PAY-7' },
          people: [{ role: 'from', email: 'jira@acme.atlassian.net' }],
        }),
      ]),
    );
    expect(mail.merged).toBe(1);
    const merge = (await inbox.get(pay.id)).merges.find((m) => !m.undoneAt)!;
    const restored = await inbox.undoMerge(merge.id);
    expect(restored.sources.map((x) => x.ref)).toEqual(['m7']);
    const after = (await world()) as { tasks: TaskRecord[] };
    const { tasks: beforeTasks, ...beforeRest } = beforeMail as { tasks: TaskRecord[] };
    const { tasks: afterTasks, ...afterRest } = after;
    // Every task that was there is as it was; the email stands on its own.
    expect(afterTasks.filter((t) => t.id !== merge.fromTaskId)).toEqual(beforeTasks);
    expect(afterTasks.find((t) => t.id === merge.fromTaskId)).toMatchObject({
      state: 'todo',
      duplicateOf: null,
      history: [],
    });
    // Edges between the tasks that were there are as they were (the email, itself naming
    // PAY-7 now, may be the target of a mention of PAY-7 too).
    expect(
      (afterRest as { edges: string[] }).edges.filter((e) => !e.includes(merge.fromTaskId)),
    ).toEqual((beforeRest as { edges: string[] }).edges);
    expect(afterRest).toMatchObject({ sources: expect.any(Object) });
  });
});
