/** The store contract of the cursor-runner layer's tables, against SQLite and PostgreSQL. */
import { describe, expect, it } from 'vitest';
import { storeDialects } from '../../test/helpers/services.js';
import { runRecord, useDialectStore } from '../../test/helpers/store-contract.js';
import type { Store } from './store.js';

describe.each(storeDialects)('store contract: cursor-runner ($name)', (dialect) => {
  let store: Store;
  let skip = false;

  useDialectStore(dialect, (opened) => {
    if (opened) store = opened;
    else skip = true;
  });

  it('numbers tasks 1, 2, 3 even when created at once, lists them by order, moves them by compare-and-set', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const made = await Promise.all(
      [3, 1, 2].map((order) =>
        store.cursorRunner.insertTask({ prompt: `p${order}`, order, status: 0 }),
      ),
    );
    expect(new Set(made.map((t) => t.id)).size).toBe(3);
    expect((await store.cursorRunner.listTasks(0)).map((t) => t.prompt)).toEqual([
      'p1',
      'p2',
      'p3',
    ]);
    const first = made.find((t) => t.order === 1)!;
    // Two operators race for the same ready task: one takes it.
    const takes = await Promise.all([
      store.cursorRunner.updateTask(first.id, { status: 4 }, 0),
      store.cursorRunner.updateTask(first.id, { status: 4 }, 0),
    ]);
    expect(takes.filter(Boolean)).toHaveLength(1);
    expect(await store.cursorRunner.deleteTask(first.id)).toBe(true);
    expect(await store.cursorRunner.getTask(first.id)).toBeUndefined();
  });

  it('keeps a request at one run: advance and finish are compare-and-set; runs keep their origin', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const run = runRecord({ origin: 'cursor-runner' });
    await store.runs.insert(run);
    expect((await store.runs.get(run.id))?.origin).toBe('cursor-runner');
    const r = await store.cursorRunner.insertRequest({
      requestId: 'req-1',
      runId: run.id,
      params: { prompt: 'x' },
      iterations: 1,
      callbackUrl: 'http://cb.example/x',
      callbackSecret: 'hush',
      taskId: null,
      startedAt: new Date().toISOString(),
    });
    expect((await store.cursorRunner.requestOfRun(run.id))?.callbackSecret).toBe('hush');
    expect(await store.cursorRunner.advanceRequest(r.id, run.id, 'run_next')).toBe(true);
    expect(await store.cursorRunner.advanceRequest(r.id, run.id, 'run_other')).toBe(false);
    const outcome = { status: 200, body: { success: true } };
    expect(await store.cursorRunner.finishRequest(r.id, run.id, outcome)).toBe(false);
    expect(await store.cursorRunner.finishRequest(r.id, 'run_next', outcome)).toBe(true);
    const done = await store.cursorRunner.getRequest(r.id);
    expect(done).toMatchObject({ status: 'done', iterations: 2, runId: 'run_next', outcome });
  });

  it('links a conversation to one Patchbay conversation per workspace, and keeps the last per queue', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const id = `c-${Math.random().toString(36).slice(2)}`;
    expect(await store.cursorRunner.link(id, 'dir:/a', 'conv_1')).toBe('conv_1');
    expect(await store.cursorRunner.link(id, 'dir:/a', 'conv_2')).toBe('conv_1');
    expect(await store.cursorRunner.conversationOf('conv_1')).toBe(id);
    await store.cursorRunner.setLast('telegram', id);
    await store.cursorRunner.setLast('telegram', `${id}-b`);
    expect(await store.cursorRunner.getLast('telegram')).toBe(`${id}-b`);
  });
});
