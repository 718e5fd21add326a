import { afterAll, describe, expect, it } from 'vitest';
import {
  cleanupAll,
  FIXTURES,
  isAlive,
  readSse,
  startServer,
  tempDir,
  trackPids,
  waitFor,
  type Api,
} from './helpers.js';

afterAll(cleanupAll);

async function pidsFromOutput(api: Api, id: string): Promise<Record<string, number>> {
  return waitFor(async () => {
    const text = await api.output(id);
    const found: Record<string, number> = {};
    for (const m of text.matchAll(/^(\w+) (\d+)$/gm)) found[m[1]!] = Number(m[2]);
    return /^ready/m.test(text) && found.self && found.child && found.grandchild ? found : null;
  }, `the pids printed by tree.sh in ${id}`);
}

describe('crash recovery', () => {
  it('marks a run of a killed server interrupted, kills its orphans, and runs the queued one', async () => {
    const dataDir = tempDir();
    // The pids tree.sh prints are namespace-local under a PID namespace: this test checks the
    // process-group mechanism itself (containment has test/security/).
    const env = {
      PATCHBAY_MAX_CONCURRENT_RUNS: '1',
      PATCHBAY_KILL_GRACE_MS: '500',
      PATCHBAY_RUN_CONTAINMENT: 'none',
    };
    const first = await startServer({ dataDir, env });

    const victim = await first.api.createRun({ command: ['sh', `${FIXTURES}/tree.sh`] });
    const pids = await pidsFromOutput(first.api, victim.id);
    const all = [pids.self!, pids.child!, pids.grandchild!];
    trackPids(...all);
    const waiting = await first.api.createRun({ command: ['sh', '-c', 'echo picked-up; pwd'] });
    expect(waiting.status).toBe('queued');
    expect((await first.api.getRun(victim.id)).status).toBe('running');

    await first.crash(); // kill -9: no shutdown code runs
    for (const pid of all) expect(isAlive(pid), `orphan ${pid} survives the crash`).toBe(true);

    const second = await startServer({ dataDir, env });
    const recovered = await second.api.getRun(victim.id);
    expect(recovered.status).toBe('interrupted');
    expect(recovered.error?.code).toBe('RUN_INTERRUPTED');
    expect(recovered.finishedAt).not.toBeNull();
    await waitFor(
      () => all.every((pid) => !isAlive(pid)),
      'the orphaned process group to be killed',
      3000,
    );

    const events = await second.api.events(victim.id);
    const last = events[events.length - 1]!;
    expect(last.type).toBe('status');
    expect(last.data.status).toBe('interrupted');
    expect(events.map((e) => e.seq)).toEqual(
      Array.from({ length: events.length }, (_, i) => i + 1),
    );

    const done = await second.api.waitForStatus(waiting.id);
    expect(done.status).toBe('succeeded');
    expect(await second.api.output(waiting.id)).toContain('picked-up\n');

    // A subscriber of the interrupted run gets its history and the stream closes.
    const sse = await readSse(`${second.url}/v1/runs/${victim.id}/events`, { timeoutMs: 5000 });
    expect(sse.ended).toBe(true);
    expect(sse.events[sse.events.length - 1]!.data.status).toBe('interrupted');
    await second.stop();
  });
});

describe('graceful shutdown', () => {
  it('SIGTERM ends running runs as interrupted, leaves no process, and exits 0', async () => {
    const dataDir = tempDir();
    const env = { PATCHBAY_KILL_GRACE_MS: '1000', PATCHBAY_RUN_CONTAINMENT: 'none' };
    const server = await startServer({ dataDir, env });
    const run = await server.api.createRun({ command: ['sh', `${FIXTURES}/tree.sh`] });
    const pids = await pidsFromOutput(server.api, run.id);
    const all = [pids.self!, pids.child!, pids.grandchild!];
    trackPids(...all);

    const t0 = Date.now();
    const { code, signal } = await server.stop(10_000);
    const took = Date.now() - t0;
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(took).toBeLessThan(4000);
    for (const pid of all) expect(isAlive(pid), `pid ${pid} after shutdown`).toBe(false);

    const again = await startServer({ dataDir, env });
    const after = await again.api.getRun(run.id);
    expect(after.status).toBe('interrupted');
    expect(after.error?.code).toBe('RUN_INTERRUPTED');
    await again.stop();
  });

  // Regression: shutdown used to close streams before stopping runs, so a live subscriber
  // never saw `interrupted`.
  it('a live SSE subscriber receives the interrupted status before the stream closes', async () => {
    const server = await startServer({ env: { PATCHBAY_KILL_GRACE_MS: '500' } });
    const run = await server.api.createRun({ command: ['sh', '-c', 'echo up; sleep 30'] });
    await waitFor(async () => (await server.api.output(run.id)) === 'up\n', 'the run to print');
    let frames = 0;
    const stream = readSse(`${server.url}/v1/runs/${run.id}/events`, {
      timeoutMs: 8000,
      onFrame: () => frames++,
    });
    await waitFor(() => frames >= 3, 'the subscriber to receive the history so far');
    expect((await server.stop(10_000)).code).toBe(0);
    const sse = await stream;
    expect(sse.ended).toBe(true);
    expect(sse.events.length).toBeGreaterThan(0);
    expect(sse.events[sse.events.length - 1]!.data.status).toBe('interrupted');
  });

  it('SIGTERM with a child that ignores SIGTERM still exits 0 within the kill grace', async () => {
    const dataDir = tempDir();
    const server = await startServer({
      dataDir,
      env: { PATCHBAY_KILL_GRACE_MS: '800', PATCHBAY_RUN_CONTAINMENT: 'none' },
    });
    const run = await server.api.createRun({ command: ['sh', `${FIXTURES}/ignore-term.sh`] });
    const pid = Number(
      (
        await waitFor(async () => /^ready (\d+)$/m.exec(await server.api.output(run.id)), 'ready')
      )[1],
    );
    trackPids(pid);
    const t0 = Date.now();
    const { code } = await server.stop(10_000);
    const took = Date.now() - t0;
    expect(code).toBe(0);
    expect(took).toBeGreaterThanOrEqual(700); // it had to wait out the grace...
    expect(took).toBeLessThan(800 + 3000); // ...and no longer than that plus slack
    expect(isAlive(pid)).toBe(false);
  });
});
