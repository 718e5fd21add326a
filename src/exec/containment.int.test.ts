import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../observability/index.js';
import { escapeMark, killWithArg, processesWithArg } from '../../test/helpers/processes.js';
import { requirePidNamespace } from '../../test/helpers/services.js';
import { waitFor } from '../../test/helpers/wait.js';
import { pidNamespaceArgv } from './containment.js';
import { loadPty } from './pty.js';
import { supervise, type OutputSink, type SupervisorLimits } from './supervisor.js';

const ns = await requirePidNamespace();
const pty = await loadPty();
const escape = fileURLToPath(new URL('../../test/fixtures/agents/escape.sh', import.meta.url));
const log = createSilentLogger();

const limits: SupervisorLimits = {
  timeoutMs: 20_000,
  idleTimeoutMs: 20_000,
  resultGraceMs: 20_000,
  killGraceMs: 500,
  maxOutputBytes: 10 * 1024 * 1024,
  outputPolicy: 'truncate',
  tailBytes: 64 * 1024,
};

const scratch = mkdtempSync(join(tmpdir(), 'pb-contain-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const marks: string[] = [];
afterEach(() => {
  for (const arg of marks.splice(0)) killWithArg(arg);
});

function start(argv: string[], overrides: Partial<SupervisorLimits> = {}, usePty = false) {
  let text = '';
  const sink: OutputSink = {
    output: (_s, t) => (text += t),
    dropped: () => undefined,
    saturated: false,
    onDrain: (cb) => cb(),
  };
  const proc = supervise(
    {
      argv: pidNamespaceArgv(ns!, argv),
      cwd: tmpdir(),
      env: { PATH: '/usr/bin:/bin' },
      wrapped: true,
      ...(usePty && pty ? { pty } : {}),
    },
    { ...limits, ...overrides },
    sink,
    log,
  );
  return { proc, text: () => text };
}

/** escape.sh in a PID namespace, once its child and both escapees are running. */
async function escapee(mode: string, overrides: Partial<SupervisorLimits> = {}) {
  const { mark, arg } = escapeMark();
  marks.push(arg);
  const go = join(scratch, `go-${mark}`);
  const run = start([escape, mark, mode, go], overrides);
  await waitFor(() => run.text().includes('escaped'), 'escape.sh to start');
  await waitFor(() => processesWithArg(arg).length === 3, 'the child and both escapees to run');
  writeFileSync(go, '');
  return { ...run, arg };
}

const gone = (arg: string) =>
  waitFor(() => processesWithArg(arg).length === 0, `no process left with ${arg}`, 5000);

describe.skipIf(!ns)('runs in a PID namespace (real unshare)', () => {
  it('a cancelled run leaves nothing behind and ends by SIGTERM at once', async () => {
    const { proc, arg } = await escapee('hang');
    const t0 = Date.now();
    proc.cancel();
    const exit = await proc.exited;
    expect(exit).toMatchObject({ reason: 'cancelled', signal: 'SIGTERM', exitCode: null });
    expect(Date.now() - t0).toBeLessThan(limits.killGraceMs);
    await gone(arg);
  });

  it('a run that ends by itself leaves nothing behind', async () => {
    const { proc, arg } = await escapee('exit');
    expect(await proc.exited).toMatchObject({ reason: 'exited', exitCode: 0 });
    await gone(arg);
  });

  it('a timed-out run that ignores SIGTERM is killed after the grace, with its escapees', async () => {
    const { proc, arg } = await escapee('ignore-term', { timeoutMs: 1500 });
    const exit = await proc.exited;
    expect(exit).toMatchObject({ reason: 'timeout', signal: 'SIGKILL' });
    await gone(arg);
  });

  it('a run past its output cap leaves nothing behind', async () => {
    const { proc, arg } = await escapee('flood', {
      maxOutputBytes: 1024 * 1024,
      outputPolicy: 'kill',
    });
    expect(await proc.exited).toMatchObject({ reason: 'output_limit' });
    await gone(arg);
  });

  it('pause stops the program and resume continues it', async () => {
    const { proc, text } = start([
      'sh',
      '-c',
      'i=0; while :; do i=$((i+1)); echo "t$i"; sleep 0.05; done',
    ]);
    await waitFor(() => text().includes('t3'), 'ticks');
    expect(proc.pause()).toBe(true);
    // Stopped: no tick arrives while paused (checked over several intervals).
    const before = text().length;
    const quietUntil = Date.now() + 400;
    await waitFor(() => Date.now() > quietUntil, 'the pause window');
    expect(text().length).toBe(before);
    expect(proc.resume()).toBe(true);
    await waitFor(() => text().length > before, 'ticks after resume');
    proc.cancel();
    expect(await proc.exited).toMatchObject({ reason: 'cancelled', signal: 'SIGTERM' });
  });

  it('an interrupt reaches the program (SIGINT)', async () => {
    const { proc, text } = start(['sh', '-c', 'echo up; exec sleep 60']);
    await waitFor(() => text().includes('up'), 'the program to start');
    proc.interrupt();
    expect(await proc.exited).toMatchObject({ reason: 'exited', signal: 'SIGINT' });
  });

  it('the run sees only its own processes, not the server', async () => {
    const { proc, text } = start([
      'sh',
      '-c',
      `ls /proc | grep -c '^[0-9]'; cat /proc/${process.pid}/environ >/dev/null 2>&1 && echo sees-server || echo isolated`,
    ]);
    expect(await proc.exited).toMatchObject({ reason: 'exited', exitCode: 0 });
    const [count, verdict] = text().trim().split('\n');
    expect(Number(count)).toBeLessThan(10);
    expect(verdict).toBe('isolated');
  });

  it.skipIf(!pty)('a pty run works and leaves nothing behind when cancelled', async () => {
    const { mark, arg } = escapeMark();
    marks.push(arg);
    const { proc, text } = start([escape, mark, 'hang'], {}, true);
    await waitFor(() => text().includes('escaped'), 'escape.sh in a pty');
    await waitFor(() => processesWithArg(arg).length === 3, 'the child and both escapees to run');
    proc.cancel();
    expect(await proc.exited).toMatchObject({ reason: 'cancelled' });
    await gone(arg);
  });
});
