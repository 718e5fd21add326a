/**
 * A run can neither escape its sandbox nor outlive itself: the real engine, real SQLite, real
 * bubblewrap and unshare, real processes. As root (here and in CI) the sandbox must still hold.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { CreateRunRequest, Run } from '../../src/contracts/index.js';
import type { Engine } from '../../src/engine/index.js';
import { startTestEngine } from '../helpers/engine.js';
import { openStore } from '../../src/store/index.js';
import { escapeMark, killWithArg, processesWithArg } from '../helpers/processes.js';
import { requireBwrap, requirePidNamespace } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';

const bwrap = await requireBwrap();
const pidns = await requirePidNamespace();
const escape = fileURLToPath(new URL('../fixtures/agents/escape.sh', import.meta.url));

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(env: Record<string, string> = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'pb-security-'));
  const root = mkdtempSync(join(tmpdir(), 'pb-security-root-'));
  cleanups.push(() => {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  });
  const config = loadConfig({
    env: {
      PATCHBAY_DATA_DIR: dataDir,
      PATCHBAY_WORKSPACE_ROOTS: root,
      PATCHBAY_KILL_GRACE_MS: '500',
      PATH: '/usr/bin:/bin',
      ...env,
    },
    cwd: dataDir,
  });
  const store = await openStore({ databaseUrl: config.databaseUrl });
  cleanups.push(() => store.close());
  const engine = await startTestEngine(config, store, cleanups);
  return { engine, dataDir, root };
}

async function outputOf(engine: Engine, id: string): Promise<string> {
  const { events } = await engine.listEvents(id, 0, 1000);
  return events
    .filter((e) => e.type === 'output')
    .map((e) => String(e.data.text))
    .join('');
}

async function runToEnd(engine: Engine, request: CreateRunRequest): Promise<Run & { out: string }> {
  const run = await engine.waitForRun((await engine.createRun(request)).id);
  return { ...run, out: await outputOf(engine, run.id) };
}

const containments: { name: string; env: Record<string, string>; skip: boolean }[] = [
  {
    name: 'a PID namespace (no sandbox)',
    env: { PATCHBAY_RUN_CONTAINMENT: 'pidns' },
    skip: !pidns,
  },
  { name: 'the bwrap sandbox', env: { PATCHBAY_SANDBOX: 'bwrap' }, skip: !bwrap },
];

describe.each(containments)('a run that leaves its process group, in $name', ({ env, skip }) => {
  /** escape.sh running in a workdir of its own, once its child and both escapees are alive. */
  async function escaping(mode: string, extra: Partial<CreateRunRequest> = {}) {
    const { engine, root } = await setup(env);
    const { mark, arg } = escapeMark();
    cleanups.push(() => killWithArg(arg));
    const workdir = join(root, 'w');
    mkdirSync(workdir);
    // The go file is in the workdir: the one place a sandboxed run shares with the host.
    const go = join(workdir, 'go');
    const run = await engine.createRun({
      agent: 'shell',
      command: [escape, mark, mode, go],
      workdir,
      ...extra,
    });
    await waitFor(async () => (await outputOf(engine, run.id)).includes('escaped'), 'escape.sh');
    await waitFor(() => processesWithArg(arg).length === 3, 'the child and both escapees to run');
    writeFileSync(go, '');
    return { engine, run, arg };
  }
  const nothingLeft = (arg: string) =>
    waitFor(() => processesWithArg(arg).length === 0, `no process left with ${arg}`, 5000);

  it.skipIf(skip)('leaves nothing behind when cancelled', async () => {
    const { engine, run, arg } = await escaping('hang');
    await engine.cancelRun(run.id);
    expect(await engine.waitForRun(run.id)).toMatchObject({ status: 'cancelled' });
    await nothingLeft(arg);
  });

  it.skipIf(skip)('leaves nothing behind when it times out (ignoring SIGTERM)', async () => {
    const { engine, run, arg } = await escaping('ignore-term', { timeoutMs: 2000 });
    expect(await engine.waitForRun(run.id)).toMatchObject({ status: 'timed_out' });
    await nothingLeft(arg);
  });

  it.skipIf(skip)('leaves nothing behind when it ends by itself', async () => {
    const { engine, run, arg } = await escaping('exit');
    expect(await engine.waitForRun(run.id)).toMatchObject({ status: 'succeeded', exitCode: 0 });
    await nothingLeft(arg);
  });
});

describe.skipIf(!bwrap)('the bwrap sandbox, started by root', () => {
  it('has no capability: cannot remount /, unmount the hidden data dir or write outside', async () => {
    const { engine, dataDir } = await setup({ PATCHBAY_SANDBOX: 'bwrap' });
    // Outside the worktree and not under /tmp (private in the sandbox anyway).
    const outside = mkdtempSync(join(homedir(), 'pb-security-outside-'));
    cleanups.push(() => rmSync(outside, { recursive: true, force: true }));
    const run = await runToEnd(engine, {
      agent: 'shell',
      command: [
        'sh',
        '-c',
        [
          'grep CapEff /proc/self/status',
          'mount -o remount,rw / 2>/dev/null; echo "remount=$?"',
          `umount -l ${dataDir} 2>/dev/null; echo "umount=$?"`,
          `cat ${join(dataDir, 'patchbay.db')} >/dev/null 2>&1 && echo db-readable || echo db-hidden`,
          `echo x > ${join(outside, 'escaped')} 2>/dev/null; echo "outside=$?"`,
          'echo x > /etc/patchbay-security-escape 2>/dev/null; echo "etc=$?"',
          'echo inside > inside.txt && echo "workdir=$?"',
        ].join('; '),
      ],
    });
    expect(run.status).toBe('succeeded');
    expect(run.out).toMatch(/CapEff:\s+0000000000000000/);
    expect(run.out).toMatch(/remount=[1-9]/);
    expect(run.out).toMatch(/umount=[1-9]/);
    expect(run.out).toContain('db-hidden');
    expect(run.out).toMatch(/outside=[1-9]/);
    expect(run.out).toMatch(/etc=[1-9]/);
    expect(run.out).toContain('workdir=0');
    expect(existsSync(join(outside, 'escaped'))).toBe(false);
    expect(existsSync('/etc/patchbay-security-escape')).toBe(false);
    expect(readFileSync(join(run.workdir!, 'inside.txt'), 'utf8')).toBe('inside\n');
  });

  it('gives an agent on a fresh HOME its state directory and file, and keeps what it saved', async () => {
    // A stand-in for the claude CLI that saves a session and its config, as the real one does.
    const bin = mkdtempSync(join(tmpdir(), 'pb-security-bin-'));
    cleanups.push(() => rmSync(bin, { recursive: true, force: true }));
    const claude = join(bin, 'claude');
    writeFileSync(
      claude,
      [
        '#!/bin/sh',
        'echo session > "$HOME/.claude/session.jsonl" || exit 3',
        'printf \'{"saved":true}\\n\' > "$HOME/.claude.json" || exit 4',
        'echo saved',
      ].join('\n'),
      { mode: 0o755 },
    );
    const { engine, root } = await setup({
      PATCHBAY_SANDBOX: 'bwrap',
      PATCHBAY_AGENT_CLAUDE_BIN: claude,
    });
    const home = join(root, 'home');
    mkdirSync(home);
    const run = await runToEnd(engine, { agent: 'claude', prompt: 'hi', env: { HOME: home } });
    expect(run.out).toContain('saved');
    expect(run.exitCode).toBe(0);
    expect(readFileSync(join(home, '.claude', 'session.jsonl'), 'utf8')).toBe('session\n');
    expect(readFileSync(join(home, '.claude.json'), 'utf8')).toBe('{"saved":true}\n');
    expect(existsSync(join(home, '.config', 'claude'))).toBe(true);
  });
});
