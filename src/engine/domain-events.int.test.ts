import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/index.js';
import { openStore } from '../store/index.js';
import { startTestEngine } from '../../test/helpers/engine.js';
import { waitFor } from '../../test/helpers/wait.js';
import type { DomainEventMap } from './domain-events.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function engine() {
  const dir = mkdtempSync(join(tmpdir(), 'pb-domain-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const config = loadConfig({ env: { PATCHBAY_DATA_DIR: dir, PATH: '/usr/bin:/bin' }, cwd: dir });
  const store = await openStore({ databaseUrl: config.databaseUrl });
  cleanups.push(() => store.close());
  return startTestEngine(config, store, cleanups);
}

describe('the engine’s domain events', () => {
  it('announce a run’s life in the order it was stored, each with the run as stored', async () => {
    const e = await engine();
    const seen: [keyof DomainEventMap, string, string][] = [];
    for (const name of [
      'runCreated',
      'runStarted',
      'runPaused',
      'runResumed',
      'runFinished',
    ] as const) {
      e.events.on(name, ({ run }) => void seen.push([name, run.id, run.status]));
    }
    const run = await e.createRun({ agent: 'shell', command: ['sh', '-c', 'sleep 3; echo hi'] });
    await waitFor(() => seen.some(([n]) => n === 'runStarted'), 'runStarted', 10_000);
    await e.pauseRun(run.id);
    await e.resumeRun(run.id);
    await e.waitForRun(run.id);
    await waitFor(() => seen.some(([n]) => n === 'runFinished'), 'runFinished', 10_000);
    expect(seen).toEqual([
      ['runCreated', run.id, 'queued'],
      ['runStarted', run.id, 'running'],
      ['runPaused', run.id, 'paused'],
      ['runResumed', run.id, 'running'],
      ['runFinished', run.id, 'succeeded'],
    ]);
  });

  it('announce a queued run cancelled before it started as finished, and nothing else', async () => {
    const e = await engine();
    const finished: DomainEventMap['runFinished'][] = [];
    const started: string[] = [];
    e.events.on('runFinished', (event) => void finished.push(event));
    e.events.on('runStarted', ({ run }) => void started.push(run.id));
    // A follow-up waits, queued, for the run before it: cancel it there.
    const first = await e.createRun({ agent: 'shell', command: ['sh', '-c', 'sleep 2'] });
    const follow = await e.createRun({ agent: 'shell', command: ['true'], workspaceOf: first.id });
    await e.cancelRun(follow.id);
    await waitFor(() => finished.some((f) => f.run.id === follow.id), 'runFinished', 10_000);
    const mine = finished.find((f) => f.run.id === follow.id)!;
    expect(mine.status).toBe('cancelled');
    expect(mine.run.error?.code).toBe('RUN_CANCELLED');
    await e.cancelRun(first.id);
    expect(started).not.toContain(follow.id);
  });
});
