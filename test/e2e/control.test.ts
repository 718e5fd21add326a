import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanupAll,
  FIXTURES,
  isAlive,
  sleep,
  startServer,
  trackPids,
  waitFor,
  type Api,
  type ServerHandle,
} from './helpers.js';

const KILL_GRACE_MS = 1000;
let server: ServerHandle;

beforeAll(async () => {
  // These tests read the pids a run prints, which are namespace-local under a PID namespace:
  // they check the process-group mechanism itself (containment has test/security/).
  server = await startServer({
    env: { PATCHBAY_KILL_GRACE_MS: String(KILL_GRACE_MS), PATCHBAY_RUN_CONTAINMENT: 'none' },
  });
});
afterAll(cleanupAll);

async function outputCount(api: Api, id: string): Promise<number> {
  return (await api.events(id)).filter((e) => e.type === 'output').length;
}

/** Waits for `name <pid>` lines in a run's output and returns the pids by name. */
async function pidsFromOutput(
  api: Api,
  id: string,
  names: string[],
): Promise<Record<string, number>> {
  return waitFor(
    async () => {
      const text = await api.output(id);
      const found: Record<string, number> = {};
      for (const m of text.matchAll(/^(\w+) (\d+)$/gm)) found[m[1]!] = Number(m[2]);
      // tree.sh prints `ready` once every pid line is out; the others print `ready <pid>`.
      const ready = /^ready\b/m.test(text);
      return ready && names.every((n) => found[n]) ? found : null;
    },
    `pids ${names.join(', ')} in the output of ${id}`,
  );
}

describe.concurrent('run control', () => {
  it('pause stops the output, resume lets it flow again', async ({ expect }) => {
    const { api } = server;
    const run = await api.createRun({ command: ['sh', `${FIXTURES}/ticker.sh`] });
    await waitFor(async () => (await outputCount(api, run.id)) >= 3, 'the ticker to print');

    const paused = await api.request('POST', `/v1/runs/${run.id}/pause`);
    expect(paused.status).toBe(200);
    expect(paused.body.status).toBe('paused');
    expect((await api.getRun(run.id)).status).toBe('paused');

    await sleep(250); // whatever was in flight when SIGSTOP landed is stored by now
    const atPause = await outputCount(api, run.id);
    await sleep(700); // ~14 ticks would have been printed if it were running
    expect(await outputCount(api, run.id)).toBe(atPause);

    const pausedAgain = await api.request('POST', `/v1/runs/${run.id}/pause`);
    expect(pausedAgain.status).toBe(409);
    expect(pausedAgain.body.error.code).toBe('RUN_NOT_ACTIVE');

    const resumed = await api.request('POST', `/v1/runs/${run.id}/resume`);
    expect(resumed.status).toBe(200);
    expect(resumed.body.status).toBe('running');
    await waitFor(
      async () => (await outputCount(api, run.id)) >= atPause + 3,
      'output to continue after resume',
      5000,
    );

    const statuses = (await api.events(run.id))
      .filter((e) => e.type === 'status')
      .map((e) => e.data.status);
    expect(statuses).toEqual(['queued', 'running', 'paused', 'running']);

    const cancelled = await api.request('POST', `/v1/runs/${run.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect((await api.waitForStatus(run.id)).status).toBe('cancelled');
  });

  it('cancel kills the whole process tree, grandchildren included', async ({ expect }) => {
    const { api } = server;
    const run = await api.createRun({ command: ['sh', `${FIXTURES}/tree.sh`] });
    const pids = await pidsFromOutput(api, run.id, ['self', 'child', 'grandchild']);
    const all = [pids.self!, pids.child!, pids.grandchild!];
    trackPids(...all);
    for (const pid of all) expect(isAlive(pid), `pid ${pid} alive before cancel`).toBe(true);

    const res = await api.request('POST', `/v1/runs/${run.id}/cancel`);
    expect(res.status).toBe(200);
    const done = await api.waitForStatus(run.id);
    expect(done.status).toBe('cancelled');
    expect(done.error?.code).toBe('RUN_CANCELLED');
    await waitFor(
      () => all.every((pid) => !isAlive(pid)),
      'every process of the run to be gone',
      3000,
    );
    for (const pid of all) {
      // kill(pid, 0) fails with ESRCH, or the pid is an unreaped zombie (see isAlive).
      expect(isAlive(pid), `pid ${pid} after cancel`).toBe(false);
    }
  });

  it('cancel of a child that ignores SIGTERM ends it with SIGKILL after the kill grace', async ({
    expect,
  }) => {
    const { api } = server;
    const run = await api.createRun({ command: ['sh', `${FIXTURES}/ignore-term.sh`] });
    const { ready } = await pidsFromOutput(api, run.id, ['ready']);
    trackPids(ready!);

    const t0 = Date.now();
    const res = await api.request('POST', `/v1/runs/${run.id}/cancel`);
    expect(res.status).toBe(200);
    const done = await api.waitForStatus(run.id);
    const elapsed = Date.now() - t0;
    expect(done.status).toBe('cancelled');
    expect(done.signal).toBe('SIGKILL');
    // It really ignored SIGTERM (so the grace was waited out)...
    expect(elapsed).toBeGreaterThanOrEqual(KILL_GRACE_MS - 100);
    // ...and SIGKILL came right after the grace.
    expect(elapsed).toBeLessThan(KILL_GRACE_MS + 2000);
    expect(isAlive(ready!)).toBe(false);
  });

  it('control verbs on a finished run are 409 RUN_NOT_ACTIVE', async ({ expect }) => {
    const { api } = server;
    const run = await api.createRun({ command: ['true'], wait: true });
    expect(run.status).toBe('succeeded');
    for (const verb of ['cancel', 'pause', 'resume']) {
      const res = await api.request('POST', `/v1/runs/${run.id}/${verb}`);
      expect(res.status, verb).toBe(409);
      expect(res.body.error.code, verb).toBe('RUN_NOT_ACTIVE');
      expect(typeof res.body.error.requestId).toBe('string');
    }
    expect((await api.getRun(run.id)).status).toBe('succeeded');
  });

  it('resume of a running (not paused) run is 409 RUN_NOT_ACTIVE; control of an unknown run is 404', async ({
    expect,
  }) => {
    const { api } = server;
    const run = await api.createRun({ command: ['sleep', '30'] });
    await api.waitForStatus(run.id, ['running']);
    const res = await api.request('POST', `/v1/runs/${run.id}/resume`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('RUN_NOT_ACTIVE');
    const missing = await api.request('POST', '/v1/runs/run_nope/cancel');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('RUN_NOT_FOUND');
    await api.request('POST', `/v1/runs/${run.id}/cancel`);
    expect((await api.waitForStatus(run.id)).status).toBe('cancelled');
  });
});

describe('cancelling a queued run', () => {
  it('cancels at once and never starts it', async ({ onTestFinished }) => {
    const own = await startServer({
      env: { PATCHBAY_MAX_CONCURRENT_RUNS: '1', PATCHBAY_KILL_GRACE_MS: '300' },
    });
    onTestFinished(() => own.stop().then(() => undefined));
    const { api } = own;
    const blocker = await api.createRun({ command: ['sleep', '30'] });
    await api.waitForStatus(blocker.id, ['running']);
    const queued = await api.createRun({ command: ['sh', '-c', 'echo SHOULD-NOT-RUN'] });
    expect(queued.status).toBe('queued');
    const queue = await api.request('GET', '/health/queue');
    expect(queue.body.queue).toMatchObject({ running: 1, waiting: 1, limit: 1 });

    const t0 = Date.now();
    const res = await api.request('POST', `/v1/runs/${queued.id}/cancel`);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('cancelled');
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(res.body.startedAt).toBeNull();

    // Free the slot: the cancelled run must not start in it.
    await api.request('POST', `/v1/runs/${blocker.id}/cancel`);
    expect((await api.waitForStatus(blocker.id)).status).toBe('cancelled');
    await sleep(300);
    const after = await api.getRun(queued.id);
    expect(after.status).toBe('cancelled');
    expect(after.startedAt).toBeNull();
    expect(after.error?.code).toBe('RUN_CANCELLED');
    const events = await api.events(queued.id);
    expect(events.map((e) => e.data.status)).toEqual(['queued', 'cancelled']);
    expect(await api.output(queued.id)).toBe('');
    expect((await api.request('GET', '/health/queue')).body.queue).toMatchObject({
      running: 0,
      waiting: 0,
    });
  });
});
