import { mkdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupAll, runCli, startServer, tempDir, waitFor } from './helpers.js';

afterAll(cleanupAll);

/**
 * A refusal the CLI reports as a person reads it: the code, the documented exit code (2 for a
 * refused request, 69 for what this machine lacks: docs/cli.md), never a stack trace.
 */
function expectRefusal(
  res: { code: number | null; stderr: string },
  code: string,
  exitCode = 2,
): void {
  expect(res.code, res.stderr).toBe(exitCode);
  expect(res.stderr).toContain(`patchbay: ${code}: `);
  expect(res.stderr).not.toMatch(/\n\s+at |\.(ts|js|mjs):\d+/);
}

describe('the CLI says what to do when the server refuses', () => {
  it('repos add outside the trusted roots: the roots, and the line that trusts the parent', async () => {
    const server = await startServer();
    const root = join(server.dataDir, 'workspaces');
    const parent = realpathSync(tempDir('pb-first-use-'));
    const project = join(parent, 'my-project');
    mkdirSync(project);
    const res = await runCli(['repos', 'add', project], { env: { PATCHBAY_URL: server.url } });
    expectRefusal(res, 'WORKDIR_NOT_TRUSTED');
    expect(res.stderr).toContain(`trusted roots: ${root}.`);
    expect(res.stderr).toContain(`PATCHBAY_WORKSPACE_ROOTS=${root},${parent}\n`);
  });

  it('schedules list shows the last tick and why it was skipped', async () => {
    const server = await startServer();
    const env = { PATCHBAY_URL: server.url };
    // Valid when created; every tick is refused by the budget (no run may start at all).
    const budget = await runCli(['budgets', 'set', '--max-concurrent', '0'], { env });
    expect(budget.code, budget.stderr).toBe(0);
    const created = await runCli(['schedules', 'add', '--cron', '*/1 * * * * *', '--', 'true'], {
      env,
    });
    expect(created.code, created.stderr).toBe(0);
    const line = await waitFor(async () => {
      const res = await runCli(['schedules', 'list'], { env });
      return res.stdout.includes('skipped:') ? res.stdout : undefined;
    }, 'a skipped tick in `schedules list`');
    expect(line).toMatch(/last \S+: skipped: BUDGET_EXCEEDED \(/);
  });

  it('schedules add for an agent that is not installed: refused, with the install command', async () => {
    const server = await startServer({ env: { PATCHBAY_AGENT_GEMINI_BIN: 'no-such-gemini' } });
    const res = await runCli(
      ['schedules', 'add', '--cron', '0 9 * * 1-5', '--agent', 'gemini', '--', 'triage'],
      { env: { PATCHBAY_URL: server.url } },
    );
    expectRefusal(res, 'AGENT_NOT_INSTALLED', 69);
    expect(res.stderr).toContain('npm install -g @google/gemini-cli');
    expect(res.stderr).toContain('PATCHBAY_AGENT_GEMINI_BIN');
  });
});
