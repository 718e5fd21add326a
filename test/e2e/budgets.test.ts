import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupAll, runCli, startServer, tempDir, type ServerHandle } from './helpers.js';

afterAll(cleanupAll);

describe('patchbay budgets (CLI against a server)', () => {
  let server: ServerHandle;
  let env: Record<string, string>;

  beforeAll(async () => {
    server = await startServer();
    env = { PATCHBAY_URL: server.url, PATCHBAY_DATA_DIR: tempDir() };
  });

  it('sets limits one flag at a time, lists usage, refuses a run clearly, and removes', async () => {
    const set = await runCli(['budgets', 'set', '--max-runs-per-day', '1'], { env });
    expect(set.code, set.stderr).toBe(0);
    // A second `set` keeps the limits it does not name.
    const more = await runCli(['budgets', 'set', '--max-concurrent', '5', '--json'], { env });
    expect(JSON.parse(more.stdout)).toMatchObject({ maxRunsPerDay: 1, maxConcurrentRuns: 5 });

    expect((await runCli(['run', '--', 'true'], { env })).code).toBe(0);
    const refused = await runCli(['run', '--', 'true'], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('BUDGET_EXCEEDED: global budget: at most 1 runs per day');
    expect(refused.stderr).toMatch(/retry in \d+(h \d\dm|m \d\ds|s) \(at \d{4}-\d\d-\d\dT/);

    const list = await runCli(['budgets', 'list'], { env });
    expect(list.stdout).toMatch(/^global {2}\(day resets in/m);
    expect(list.stdout).toMatch(/runs\/day +1 \/ 1/);

    const bad = await runCli(['budgets', 'set', '--max-runs-per-day', '-2'], { env });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('expected a whole number >= 0');

    expect((await runCli(['budgets', 'rm'], { env })).stdout).toBe('removed the global budget\n');
    expect((await runCli(['run', '--', 'true'], { env })).code).toBe(0);
  });
});
