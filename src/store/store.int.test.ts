import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeDialects } from '../../test/helpers/services.js';
import type { RunEvent } from '../contracts/index.js';
import { createSilentLogger } from '../observability/index.js';
import { EventWriter } from './event-writer.js';
import type { EventRepository } from './events-repository.js';
import { migrateDown, migrateToLatest, migrations, migrationStatus } from './migrator.js';
import { testRunRecord } from '../../test/helpers/records.js';
import type { RunRecord } from './records.js';
import { newScheduleId } from './ids.js';
import type { ScheduleRecord } from './schedules-repository.js';
import { openStore, type Store } from './store.js';

function runRecord(overrides: Partial<RunRecord> = {}): RunRecord {
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

function event(runId: string, seq: number, text = `line ${seq}`): RunEvent {
  return {
    runId,
    seq,
    type: 'output',
    ts: new Date().toISOString(),
    data: { stream: 'stdout', text },
    raw: null,
  };
}

const dialects = storeDialects;

describe.each(dialects)('store contract ($name)', (dialect) => {
  let store: Store;
  let cleanup: (() => Promise<void>) | undefined;
  let skip = false;

  beforeAll(async () => {
    const opened = await dialect.open();
    if (!opened) {
      skip = true;
      return;
    }
    cleanup = opened.cleanup;
    store = await openStore({ databaseUrl: opened.url });
  });

  afterAll(async () => {
    await store?.close();
    await cleanup?.();
  });

  it('stores and reads back a run, bigints and JSON included', async ({ skip: skipTest }) => {
    if (skip) skipTest();
    const run = runRecord({ owner: { instanceId: 'i', hostname: 'h', pid: 1, bootId: null } });
    await store.runs.insert(run);
    expect(await store.runs.get(run.id)).toEqual(run);
    expect(await store.runs.get('run_missing')).toBeUndefined();
  });

  it('lists newest first with status filters and a cursor', async ({ skip: skipTest }) => {
    if (skip) skipTest();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const run = runRecord({ status: i % 2 === 0 ? 'succeeded' : 'failed' });
      ids.push(run.id);
      await store.runs.insert(run);
    }
    const page1 = await store.runs.list({ limit: 2, statuses: ['succeeded', 'failed'] });
    const page2 = await store.runs.list({
      limit: 2,
      statuses: ['succeeded', 'failed'],
      before: page1[1]!.id,
    });
    const seen = [...page1, ...page2].map((r) => r.id);
    expect(new Set(seen).size).toBe(4);
    expect(seen).toEqual([...seen].sort().reverse());
    const failed = await store.runs.list({ limit: 50, statuses: ['failed'] });
    expect(failed.every((r) => r.status === 'failed')).toBe(true);
    expect(failed.map((r) => r.id)).toEqual(expect.arrayContaining([ids[1], ids[3]]));
  });

  it('pages through every run exactly once, newest first (ids sort by creation)', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    // A status no other test uses, so this test sees only its own runs.
    const inserted: string[] = [];
    for (let i = 0; i < 7; i++) {
      const run = runRecord({ status: 'interrupted' });
      inserted.push(run.id);
      await store.runs.insert(run);
    }
    expect([...inserted].sort()).toEqual(inserted);
    const pages: string[][] = [];
    let before: string | undefined;
    for (;;) {
      const page = await store.runs.list({ limit: 3, statuses: ['interrupted'], before });
      if (page.length === 0) break;
      pages.push(page.map((r) => r.id));
      before = page.at(-1)!.id;
    }
    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(pages.flat()).toEqual([...inserted].reverse());
    expect((await store.runs.listByStatus(['interrupted'])).map((r) => r.id)).toEqual(inserted);
  });

  it('keeps the worker registry: register, heartbeat, stop, list by recency, purge', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const base = {
      role: 'worker' as const,
      hostname: 'h1',
      pid: 42,
      version: '1.0.0',
      queues: ['default', 'gpu'],
      concurrency: 3,
      state: 'active' as const,
      running: [],
      stoppedAt: null,
    };
    const id = `inst_reg_${Date.now()}`;
    await store.workers.register({
      ...base,
      id,
      startedAt: '2026-01-01T00:00:00.000Z',
      heartbeatAt: '2026-01-01T00:00:00.000Z',
    });
    expect(
      await store.workers.heartbeat(id, {
        state: 'draining',
        running: ['run_a', 'run_b'],
        at: '2026-01-01T00:00:10.000Z',
      }),
    ).toBe(true);
    expect(await store.workers.get(id)).toMatchObject({
      queues: ['default', 'gpu'],
      concurrency: 3,
      state: 'draining',
      running: ['run_a', 'run_b'],
      heartbeatAt: '2026-01-01T00:00:10.000Z',
    });
    // Not stopped: listed however old its heartbeat is (it may be lost, which callers decide).
    expect((await store.workers.list('2030-01-01T00:00:00.000Z')).map((w) => w.id)).toContain(id);
    await store.workers.markStopped(id, '2026-01-01T00:00:20.000Z');
    expect(await store.workers.get(id)).toMatchObject({ state: 'stopped', running: [] });
    expect((await store.workers.list('2030-01-01T00:00:00.000Z')).map((w) => w.id)).not.toContain(
      id,
    );
    expect((await store.workers.list('2026-01-01T00:00:00.000Z')).map((w) => w.id)).toContain(id);
    expect(await store.workers.purge('2026-01-01T00:00:30.000Z')).toBeGreaterThanOrEqual(1);
    expect(await store.workers.get(id)).toBeUndefined();
    expect(
      await store.workers.heartbeat(id, {
        state: 'active',
        running: [],
        at: '2026-01-02T00:00:00Z',
      }),
    ).toBe(false);
  });

  it('transitionWithEvent stores the change and its event together, or neither', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const run = testRunRecord({}, { status: 'running' });
    await store.runs.insert(run);
    await store.events.append([
      {
        runId: run.id,
        seq: 1,
        type: 'status',
        ts: run.createdAt,
        data: { status: 'queued' },
        raw: null,
      },
    ]);
    const ended = (seq: number) => ({
      runId: run.id,
      seq,
      type: 'status' as const,
      ts: new Date().toISOString(),
      data: { status: 'succeeded' },
      raw: null,
    });
    expect(
      await store.runs.transitionWithEvent(run.id, ['running'], { status: 'succeeded' }, ended(2)),
    ).toBe(true);
    // A second writer loses the compare-and-set and adds no event.
    expect(
      await store.runs.transitionWithEvent(run.id, ['running'], { status: 'failed' }, ended(3)),
    ).toBe(false);
    expect((await store.events.list(run.id, 0, 10)).map((e) => [e.seq, e.data.status])).toEqual([
      [1, 'queued'],
      [2, 'succeeded'],
    ]);
    expect(await store.runs.get(run.id)).toMatchObject({ status: 'succeeded', lastSeq: 2 });
  });

  it('counts runs by status', async ({ skip: skipTest }) => {
    if (skip) skipTest();
    const before = await store.runs.countByStatus();
    for (const status of ['paused', 'paused', 'timed_out'] as const)
      await store.runs.insert(runRecord({ status }));
    const after = await store.runs.countByStatus();
    expect((after.paused ?? 0) - (before.paused ?? 0)).toBe(2);
    expect((after.timed_out ?? 0) - (before.timed_out ?? 0)).toBe(1);
    expect(typeof after.paused).toBe('number');
    const sum = (c: Record<string, number | undefined>) =>
      Object.values(c).reduce<number>((n, v) => n + (v ?? 0), 0);
    expect(sum(after) - sum(before)).toBe(3);
  });

  it('update() changes only the fields given', async ({ skip: skipTest }) => {
    if (skip) skipTest();
    const run = runRecord();
    await store.runs.insert(run);
    await store.runs.update(run.id, { exitCode: 3, errorMessage: 'boom', outputBytes: 2 ** 40 });
    await store.runs.update(run.id, {});
    expect(await store.runs.get(run.id)).toEqual({
      ...run,
      exitCode: 3,
      errorMessage: 'boom',
      outputBytes: 2 ** 40,
    });
  });

  it('transition() is a compare-and-set on the status', async ({ skip: skipTest }) => {
    if (skip) skipTest();
    const run = runRecord();
    await store.runs.insert(run);
    expect(
      await store.runs.transition(run.id, ['queued'], { status: 'running', pid: 42, pgid: 42 }),
    ).toBe(true);
    expect(await store.runs.transition(run.id, ['queued'], { status: 'cancelled' })).toBe(false);
    const after = await store.runs.get(run.id);
    expect(after).toMatchObject({ status: 'running', pid: 42, pgid: 42 });
    const counts = await store.runs.countByStatus();
    expect(counts.running).toBeGreaterThanOrEqual(1);
    // Any of several source statuses; an unknown id never matches.
    expect(
      await store.runs.transition(run.id, ['paused', 'running'], { status: 'succeeded' }),
    ).toBe(true);
    expect(await store.runs.transition('run_missing', ['queued'], { status: 'running' })).toBe(
      false,
    );
    expect((await store.runs.get(run.id))!.status).toBe('succeeded');
  });

  it('transition() lets exactly one of several concurrent writers win', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const run = runRecord({ status: 'running' });
    await store.runs.insert(run);
    const outcomes = ['succeeded', 'failed', 'cancelled', 'timed_out'] as const;
    const won = await Promise.all(
      outcomes.map((status) => store.runs.transition(run.id, ['running'], { status })),
    );
    expect(won.filter(Boolean)).toHaveLength(1);
    expect((await store.runs.get(run.id))!.status).toBe(outcomes[won.indexOf(true)]);
  });

  it('appends events with a per-run seq and advances last_seq', async ({ skip: skipTest }) => {
    if (skip) skipTest();
    const a = runRecord();
    const b = runRecord();
    await store.runs.insert(a);
    await store.runs.insert(b);
    await store.events.append([event(a.id, 1), event(b.id, 1), event(a.id, 2), event(a.id, 3)]);
    expect((await store.events.list(a.id, 1, 10)).map((e) => e.seq)).toEqual([2, 3]);
    expect((await store.events.list(a.id, 0, 2)).map((e) => e.seq)).toEqual([1, 2]);
    expect(await store.events.maxSeq(a.id)).toBe(3);
    expect(await store.events.maxSeq(b.id)).toBe(1);
    expect((await store.runs.get(a.id))!.lastSeq).toBe(3);
    // The same seq twice is refused: events are append-only.
    await expect(store.events.append([event(a.id, 3)])).rejects.toThrow();
    expect(await store.events.maxSeq(a.id)).toBe(3);
    // A batch is one transaction: with one bad event, none of it is kept.
    await expect(store.events.append([event(a.id, 4), event(a.id, 3)])).rejects.toThrow();
    expect(await store.events.maxSeq(a.id)).toBe(3);
    expect((await store.runs.get(a.id))!.lastSeq).toBe(3);
    // Data and raw lines round-trip.
    const [first] = await store.events.list(a.id, 0, 1);
    expect({ ...first, ts: '' }).toEqual({ ...event(a.id, 1), ts: '' });
  });

  it('keeps the raw line and knows nothing of unknown runs', async ({ skip: skipTest }) => {
    if (skip) skipTest();
    const run = runRecord();
    await store.runs.insert(run);
    const withRaw: RunEvent = { ...event(run.id, 1, 'ünïcødé ✓'), raw: '{"type":"x"}' };
    await store.events.append([withRaw]);
    expect(await store.events.list(run.id, 0, 10)).toEqual([withRaw]);
    expect(await store.events.list('run_missing', 0, 10)).toEqual([]);
    expect(await store.events.maxSeq('run_missing')).toBe(0);
  });

  it('writes a large batch (over the bound-parameter limit) in one call', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const run = runRecord();
    await store.runs.insert(run);
    const batch = Array.from({ length: 1500 }, (_, i) => event(run.id, i + 1));
    await store.events.append(batch);
    expect(await store.events.maxSeq(run.id)).toBe(1500);
  });

  it('records callback deliveries in order', async ({ skip: skipTest }) => {
    if (skip) skipTest();
    const run = runRecord();
    await store.runs.insert(run);
    await store.callbacks.record({
      runId: run.id,
      url: 'http://x',
      attempt: 1,
      outcome: 'retrying',
      httpStatus: 500,
      error: null,
    });
    await store.callbacks.record({
      runId: run.id,
      url: 'http://x',
      attempt: 2,
      outcome: 'delivered',
      httpStatus: 200,
      error: null,
    });
    const list = await store.callbacks.listForRun(run.id);
    expect(list.map((d) => [d.attempt, d.outcome])).toEqual([
      [1, 'retrying'],
      [2, 'delivered'],
    ]);
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

  it('purges old completed jobs and keeps failed ones (the dead-letter list)', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const job = (id: string) => ({
      id,
      queue: 'purge',
      name: 'n',
      data: { id },
      state: 'waiting' as const,
      priority: 1,
      seq: id,
      runAt: '2020-01-01T00:00:00.000Z',
      attemptsMade: 0,
      maxAttempts: 1,
      backoffMs: 1,
      leaseOwner: null,
      leaseUntil: null,
      lastError: null,
      createdAt: '2020-01-01T00:00:00.000Z',
      finishedAt: null,
    });
    for (const id of ['purge/a', 'purge/b', 'purge/c']) await store.jobs.insert(job(id));
    const old = '2020-01-01T00:00:01.000Z';
    const a = await store.jobs.claim('purge', 'w', old, '2020-01-01T00:01:00.000Z');
    await store.jobs.complete(a!.id, 'w', old);
    const b = await store.jobs.claim('purge', 'w', old, '2020-01-01T00:01:00.000Z');
    await store.jobs.release(b!.id, 'w', { state: 'failed', runAt: old, lastError: 'x', now: old });
    expect(await store.jobs.deleteCompletedBefore('2021-01-01T00:00:00.000Z')).toBe(1);
    expect(await store.jobs.get('purge/a')).toBeUndefined();
    expect((await store.jobs.get('purge/b'))?.state).toBe('failed');
    expect((await store.jobs.get('purge/c'))?.state).toBe('waiting');
  });

  it('stores schedules; one of several concurrent claimers fires a tick', async ({
    skip: skipTest,
  }) => {
    if (skip) skipTest();
    const at = '2026-01-01T00:00:00.000Z';
    const schedule: ScheduleRecord = {
      id: newScheduleId(),
      name: 'nightly',
      cron: '0 3 * * *',
      timezone: 'Europe/Berlin',
      run: { command: ['echo', 'hi'], env: { A: '1' } },
      enabled: true,
      maxConsecutiveFailures: 3,
      consecutiveFailures: 0,
      pausedReason: null,
      activeSince: at,
      lastTick: null,
      createdAt: at,
      updatedAt: at,
    };
    await store.schedules.insert(schedule);
    expect(await store.schedules.get(schedule.id)).toEqual(schedule);
    expect((await store.schedules.listEnabled()).map((s) => s.id)).toContain(schedule.id);

    const tick = '2026-01-02T02:00:00.000Z';
    // Ten claimers on separate connections' worth of concurrency: exactly one wins.
    const claims = await Promise.all(
      Array.from({ length: 10 }, () => store.schedules.claimTick(schedule.id, tick, at)),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect((await store.schedules.get(schedule.id))?.lastTick).toBe(tick);
    // An older tick claimed late does not move last_tick back.
    expect(await store.schedules.claimTick(schedule.id, '2026-01-01T02:00:00.000Z', at)).toBe(true);
    expect((await store.schedules.get(schedule.id))?.lastTick).toBe(tick);

    const run = runRecord({ scheduleId: schedule.id });
    await store.runs.insert(run);
    await store.runs.insert(runRecord());
    expect(
      (await store.runs.list({ limit: 10, scheduleId: schedule.id })).map((r) => r.id),
    ).toEqual([run.id]);
    await store.schedules.recordFire(schedule.id, tick, {
      outcome: 'started',
      runId: run.id,
      errorCode: null,
      errorMessage: null,
    });
    await store.schedules.setRunStatus(run.id, 'failed');
    await store.schedules.recordFire(schedule.id, '2026-01-01T02:00:00.000Z', {
      outcome: 'skipped',
      runId: null,
      errorCode: 'BUDGET_EXCEEDED',
      errorMessage: 'over budget',
    });
    expect(await store.schedules.listFires(schedule.id, 10)).toEqual([
      {
        tick,
        firedAt: at,
        outcome: 'started',
        runId: run.id,
        error: null,
        runStatus: 'failed',
      },
      {
        tick: '2026-01-01T02:00:00.000Z',
        firedAt: at,
        outcome: 'skipped',
        runId: null,
        error: { code: 'BUDGET_EXCEEDED', message: 'over budget' },
        runStatus: null,
      },
    ]);

    expect(await store.schedules.addFailure(schedule.id)).toBe(1);
    expect(await store.schedules.addFailure(schedule.id)).toBe(2);
    expect(await store.schedules.pause(schedule.id, 'too many')).toBe(true);
    expect(await store.schedules.pause(schedule.id, 'again')).toBe(false);
    const paused = await store.schedules.get(schedule.id);
    expect(paused).toMatchObject({
      enabled: false,
      pausedReason: 'too many',
      consecutiveFailures: 2,
    });
    // A disabled schedule's ticks cannot be claimed.
    expect(await store.schedules.claimTick(schedule.id, '2026-01-03T02:00:00.000Z', at)).toBe(
      false,
    );
    expect(await store.schedules.update(schedule.id, { enabled: true, pausedReason: null })).toBe(
      true,
    );
    expect(await store.schedules.update('sched_nope', { enabled: true })).toBe(false);

    expect(await store.schedules.delete(schedule.id)).toBe(true);
    expect(await store.schedules.delete(schedule.id)).toBe(false);
    expect(await store.schedules.listFires(schedule.id, 10)).toEqual([]);
    // Its runs stay, still naming it.
    expect((await store.runs.get(run.id))?.scheduleId).toBe(schedule.id);
  });

  it('keeps optimization stages, their artifacts and proposals', async ({ skip: skipTest }) => {
    if (skip) skipTest();
    const first = runRecord({ kind: 'optimize.detect', repoId: 'repo_opt' });
    first.parentId = first.id;
    const second = runRecord({ kind: 'optimize.baseline', repoId: 'repo_opt', parentId: first.id });
    const agent = runRecord({ repoId: 'repo_opt' });
    for (const r of [first, second, agent]) await store.runs.insert(r);
    expect(await store.runs.get(second.id)).toMatchObject({
      kind: 'optimize.baseline',
      parentId: first.id,
    });
    const ids = async (o: Parameters<Store['runs']['list']>[0]) =>
      (await store.runs.list(o)).map((r) => r.id);
    expect(await ids({ limit: 10, parentId: first.id })).toEqual([second.id, first.id]);
    expect(await ids({ limit: 10, repoId: 'repo_opt', kind: 'agent' })).toEqual([agent.id]);
    expect(await ids({ limit: 10, repoId: 'repo_opt', kind: 'optimize.detect' })).toEqual([
      first.id,
    ]);
    expect(await ids({ limit: 10, repoId: 'repo_opt' })).toHaveLength(3);

    const artifact = {
      id: `art_${first.id}`,
      runId: second.id,
      optimizationId: first.id,
      repoId: 'repo_opt',
      name: 'logs.txt',
      path: `art_${first.id}/logs.txt`,
      bytes: 5_000_000_000,
      sha256: 'a'.repeat(64),
      contentType: 'text/plain',
      createdAt: '2026-01-01T00:00:00.000Z',
    };
    await store.artifacts.insert(artifact);
    expect(await store.artifacts.get(artifact.id)).toEqual(artifact);
    expect(await store.artifacts.list({ optimizationId: first.id })).toEqual([artifact]);
    expect(await store.artifacts.list({ runId: first.id })).toEqual([]);
    expect(await store.artifacts.get('art_nope')).toBeUndefined();

    const proposal = {
      id: `prop_${first.id}`,
      optimizationId: first.id,
      runId: second.id,
      repoId: 'repo_opt',
      createdAt: '2026-01-01T00:00:00.000Z',
      rule: 'prefer-set-has' as const,
      file: 'src/a.js',
      line: 3,
      summary: 's',
      explanation: 'e',
      diff: 'diff --git a/src/a.js b/src/a.js\n',
      files: ['src/a.js'],
      risk: 'low' as const,
      metrics: [],
      speedup: 0.25,
      confidence: 'proven' as const,
      evidence: { noiseFloor: 0.01, samples: 20, alpha: 0.05, node: 'v20', commit: 'abc' },
      timeline: [],
    };
    await store.proposals.insert(proposal);
    // A retried stage stores it again: nothing changes.
    await store.proposals.insert({ ...proposal, summary: 'changed' });
    expect(await store.proposals.get(proposal.id)).toEqual(proposal);
    expect(await store.proposals.list({ repoId: 'repo_opt', limit: 10 })).toEqual([proposal]);
    expect(await store.proposals.list({ repoId: 'repo_other', limit: 10 })).toEqual([]);
    expect(await store.proposals.list({ before: proposal.id, limit: 10 })).toEqual([]);
  });

  it('migrates down and up again', async ({ skip: skipTest }) => {
    if (skip) skipTest();
    const db = store.handle.db as never;
    const status = await migrationStatus(db);
    expect(status.map((m) => m.name)).toEqual(Object.keys(migrations));
    expect(status.every((m) => m.executedAt !== null)).toBe(true);
    expect(await migrateToLatest(db)).toEqual([]); // nothing pending
    const all = Object.keys(migrations);
    // Down one at a time, newest first, until nothing is applied.
    for (const name of [...all].reverse()) expect(await migrateDown(db)).toEqual([name]);
    expect((await migrationStatus(db)).every((m) => m.executedAt === null)).toBe(true);
    await expect(store.runs.get('x')).rejects.toThrow();
    expect(await migrateDown(db)).toEqual([]); // nothing left to revert
    expect(await migrateToLatest(db)).toEqual(all);
    expect(await store.runs.get('x')).toBeUndefined();
    const run = runRecord();
    await store.runs.insert(run);
    await store.events.append([event(run.id, 1)]);
    expect(await store.events.maxSeq(run.id)).toBe(1);
  });
});

describe('EventWriter', () => {
  let store: Store;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'pb-writer-'));
    store = await openStore({ databaseUrl: join(dir, 'db.sqlite') });
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function counting(repo: EventRepository, failFirst = 0) {
    let failures = failFirst;
    const calls: number[] = [];
    const wrapped: EventRepository = {
      ...repo,
      async append(events) {
        if (failures > 0) {
          failures--;
          throw new Error('disk on fire');
        }
        calls.push(events.length);
        return repo.append(events);
      },
    };
    return { wrapped, calls };
  }

  it('batches appends into few transactions and publishes in seq order', async () => {
    const run = runRecord();
    await store.runs.insert(run);
    const { wrapped, calls } = counting(store.events);
    const published: number[] = [];
    const writer = new EventWriter({
      repository: wrapped,
      log: createSilentLogger(),
      flushMs: 5,
      onFlushed: (events) => published.push(...events.map((e) => e.seq)),
    });
    writer.track(run.id, 0);
    for (let i = 0; i < 1000; i++)
      writer.append(run.id, 'output', { stream: 'stdout', text: `l${i}` });
    await writer.flush();
    expect(calls.length).toBeLessThan(5);
    expect(published).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    expect(await store.events.maxSeq(run.id)).toBe(1000);
  });

  it('flushes on its own within flushMs, numbering each run after what is stored', async () => {
    const a = runRecord();
    const b = runRecord();
    await store.runs.insert(a);
    await store.runs.insert(b);
    await store.events.append([event(a.id, 1), event(a.id, 2)]);
    const published: [string, number][] = [];
    const writer = new EventWriter({
      repository: store.events,
      log: createSilentLogger(),
      flushMs: 5,
      onFlushed: (events) =>
        published.push(...events.map((e): [string, number] => [e.runId, e.seq])),
    });
    writer.track(a.id, 2);
    writer.track(a.id, 0); // tracking again does not reset the numbering
    writer.track(b.id, 0);
    expect(writer.append(a.id, 'output', { stream: 'stdout', text: 'x' }).seq).toBe(3);
    expect(writer.append(b.id, 'output', { stream: 'stdout', text: 'y' }).seq).toBe(1);
    expect(writer.append(a.id, 'status', { status: 'succeeded' }).seq).toBe(4);
    expect(writer.lastSeq(a.id)).toBe(4);
    expect(published).toEqual([]); // nothing is published before it is durable
    for (let i = 0; i < 100 && published.length < 3; i++)
      await new Promise((r) => setTimeout(r, 5));
    expect(published).toEqual([
      [a.id, 3],
      [b.id, 1],
      [a.id, 4],
    ]);
    expect((await store.events.list(a.id, 0, 10)).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    writer.untrack(a.id);
    expect(writer.lastSeq(a.id)).toBeUndefined();
  });

  it('what flush() resolved for is durable: another connection reads it', async () => {
    const run = runRecord();
    await store.runs.insert(run);
    const writer = new EventWriter({
      repository: store.events,
      log: createSilentLogger(),
      flushMs: 60_000,
      onFlushed: () => undefined,
    });
    writer.track(run.id, 0);
    for (let i = 0; i < 10; i++)
      writer.append(run.id, 'output', { stream: 'stdout', text: `${i}` });
    await writer.close();
    const other = await openStore({ databaseUrl: join(dir, 'db.sqlite'), migrate: false });
    try {
      expect(await other.events.maxSeq(run.id)).toBe(10);
      expect((await other.runs.get(run.id))!.lastSeq).toBe(10);
    } finally {
      await other.close();
    }
  });

  it('splits a big backlog into bounded transactions', async () => {
    const run = runRecord();
    await store.runs.insert(run);
    const { wrapped, calls } = counting(store.events);
    const writer = new EventWriter({
      repository: wrapped,
      log: createSilentLogger(),
      flushMs: 1000,
      onFlushed: () => undefined,
    });
    writer.track(run.id, 0);
    const text = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 40; i++) writer.append(run.id, 'output', { stream: 'stdout', text });
    await writer.flush();
    expect(calls.length).toBeGreaterThanOrEqual(4); // 2.5 MiB in <= ~512 KiB pieces
    expect(calls.reduce((a, b) => a + b, 0)).toBe(40);
  });

  it('signals back-pressure above the high-water mark and drains after a flush', async () => {
    const run = runRecord();
    await store.runs.insert(run);
    const writer = new EventWriter({
      repository: store.events,
      log: createSilentLogger(),
      flushMs: 10_000,
      highWaterBytes: 100_000,
      onFlushed: () => undefined,
    });
    writer.track(run.id, 0);
    for (let i = 0; i < 10; i++)
      writer.append(run.id, 'output', { stream: 'stdout', text: 'y'.repeat(20_000) });
    expect(writer.saturated).toBe(true);
    let drained = 0;
    writer.onDrain(() => drained++);
    writer.onDrain(() => drained++);
    expect(drained).toBe(0);
    await writer.flush();
    expect(writer.saturated).toBe(false);
    expect(drained).toBe(2);
    // Not saturated: the callback still comes, asynchronously.
    let late = false;
    writer.onDrain(() => (late = true));
    expect(late).toBe(false);
    await Promise.resolve();
    expect(late).toBe(true);
  });

  it('retries a failed write without losing or duplicating events', async () => {
    const run = runRecord();
    await store.runs.insert(run);
    const { wrapped, calls } = counting(store.events, 1);
    const published: number[] = [];
    const writer = new EventWriter({
      repository: wrapped,
      log: createSilentLogger(),
      flushMs: 1,
      onFlushed: (events) => published.push(...events.map((e) => e.seq)),
    });
    writer.track(run.id, 0);
    for (let i = 0; i < 5; i++) writer.append(run.id, 'status', { status: 'running' });
    const flushed = writer.flush();
    // Appended while the failed batch waits for its retry: must come after it, in order.
    await new Promise((r) => setTimeout(r, 20));
    for (let i = 0; i < 3; i++) writer.append(run.id, 'output', { stream: 'stdout', text: `${i}` });
    await flushed;
    await writer.flush();
    expect(calls.length).toBeGreaterThanOrEqual(1); // the successful write(s); the failure threw
    expect(published).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await store.events.list(run.id, 0, 100)).map((e) => e.seq)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8,
    ]);
  });
});
