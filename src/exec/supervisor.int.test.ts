import { chmodSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createSilentLogger } from '../observability/index.js';
import type { OutputStream } from './output-buffer.js';
import {
  supervise as superviseProcess,
  type OutputSink,
  type SupervisedProcess,
  type SupervisorLimits,
} from './supervisor.js';

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../test/fixtures/agents/${name}`, import.meta.url));
const log = createSilentLogger();

const limits: SupervisorLimits = {
  timeoutMs: 10_000,
  idleTimeoutMs: 10_000,
  resultGraceMs: 10_000,
  killGraceMs: 500,
  maxOutputBytes: 10 * 1024 * 1024,
  outputPolicy: 'truncate',
  tailBytes: 1024 * 1024,
};

function collector() {
  const chunks: { stream: OutputStream; text: string; tail: boolean }[] = [];
  const dropped: { bytes: number; final: boolean }[] = [];
  const sink: OutputSink = {
    output: (stream, text, tail) => chunks.push({ stream, text, tail }),
    dropped: (bytes, final) => dropped.push({ bytes, final }),
    saturated: false,
    onDrain: (cb) => cb(),
  };
  return { sink, chunks, dropped, text: () => chunks.map((c) => c.text).join('') };
}

const scratch = mkdtempSync(join(tmpdir(), 'pb-supervisor-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// A test that fails half-way must not leave its process behind (hang.sh runs forever).
const spawned: SupervisedProcess[] = [];
const supervise: typeof superviseProcess = (...args) => {
  const proc = superviseProcess(...args);
  spawned.push(proc);
  return proc;
};
afterEach(async () => {
  const procs = spawned.splice(0);
  for (const proc of procs) proc.cancel();
  await Promise.all(procs.map((proc) => proc.exited));
});

function run(
  argv: string[],
  overrides: Partial<SupervisorLimits> = {},
  sink = collector(),
  spec: { cwd?: string; env?: Record<string, string> } = {},
) {
  const proc = supervise(
    { argv, cwd: spec.cwd ?? tmpdir(), env: spec.env ?? { PATH: '/usr/bin:/bin' } },
    { ...limits, ...overrides },
    sink.sink,
    log,
  );
  return { proc, ...sink };
}

/** Alive and not a zombie (PID 1 here may not reap orphans). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const waitFor = async (cond: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await sleep(10);
  return cond();
};

describe('supervise (real processes)', () => {
  it.each([0, 7, 137])('passes exit code %i through', async (code) => {
    const { proc, text } = run([fixture('exit-code.sh'), String(code)]);
    const exit = await proc.exited;
    expect(exit).toMatchObject({ reason: 'exited', exitCode: code, signal: null });
    expect(text()).toBe(`exiting with ${code}\n`);
    expect(exit.outputBytes).toBe(Buffer.byteLength(`exiting with ${code}\n`));
    expect(exit.droppedBytes).toBe(0);
  });

  it('keeps stdout and stderr apart', async () => {
    const { proc, chunks } = run(['sh', '-c', 'echo out; echo err >&2']);
    await proc.exited;
    const of = (stream: string) =>
      chunks
        .filter((c) => c.stream === stream)
        .map((c) => c.text)
        .join('');
    expect(of('stdout')).toBe('out\n');
    expect(of('stderr')).toBe('err\n');
  });

  it('gives the child exactly the environment and directory it was given', async () => {
    const env = { PATH: '/usr/bin:/bin', ONLY_THIS: 'yes' };
    const printed = run(['env'], {}, collector(), { env });
    await printed.proc.exited;
    expect(printed.text().trim().split('\n').sort()).toEqual([
      'ONLY_THIS=yes',
      'PATH=/usr/bin:/bin',
    ]);
    const where = run(['pwd'], {}, collector(), { cwd: scratch });
    await where.proc.exited;
    expect(where.text().trim()).toBe(realpathSync(scratch));
  });

  it('delivers everything still in the pipes when the child exits', async () => {
    const { proc, text } = run(['sh', '-c', "head -c 1000000 /dev/zero | tr '\\0' a"]);
    const exit = await proc.exited;
    expect(exit).toMatchObject({ reason: 'exited', exitCode: 0, outputBytes: 1_000_000 });
    expect(text()).toBe('a'.repeat(1_000_000));
  });

  it('reports a missing executable as spawn_failed', async () => {
    const { proc } = run(['/nonexistent/agent']);
    const exit = await proc.exited;
    expect(exit.reason).toBe('spawn_failed');
    expect(exit.error).toMatch(/ENOENT/);
    expect(exit.exitCode).toBeNull();
    expect(proc.pid).toBeUndefined();
    expect(proc.pause()).toBe(false);
    proc.cancel(); // harmless
  });

  it('reports a file that is not executable, or a missing cwd, as spawn_failed', async () => {
    const file = join(scratch, 'not-executable.sh');
    writeFileSync(file, '#!/bin/sh\necho hi\n');
    chmodSync(file, 0o644);
    const noExec = await run([file]).proc.exited;
    expect(noExec).toMatchObject({ reason: 'spawn_failed' });
    expect(noExec.error).toMatch(/EACCES/);
    const noCwd = await run(['true'], {}, collector(), { cwd: join(scratch, 'missing') }).proc
      .exited;
    expect(noCwd.reason).toBe('spawn_failed');
  });

  it('reports a crash by signal and keeps the partial output', async () => {
    const { proc, text } = run([fixture('crash.sh')]);
    const exit = await proc.exited;
    expect(exit).toMatchObject({ reason: 'exited', exitCode: null, signal: 'SIGSEGV' });
    expect(text()).toBe('partial output\n');
  });

  it('gives the child /dev/null as stdin', async () => {
    const { proc, text } = run(['cat']);
    expect(await proc.exited).toMatchObject({ reason: 'exited', exitCode: 0 });
    expect(text()).toBe('');
  });

  it('keeps multi-byte UTF-8 intact', async () => {
    const { proc, text } = run([fixture('utf8.sh')]);
    await proc.exited;
    expect(text()).toBe('héllo wörld ✓ 日本語\nñandú 🚀\n');
  });

  it('ends a run that exceeds its total timeout', async () => {
    const { proc } = run([fixture('hang.sh')], { timeoutMs: 300 });
    const exit = await proc.exited;
    expect(exit.reason).toBe('timeout');
    expect(exit.durationMs).toBeGreaterThanOrEqual(290);
  });

  it('ends a silent run at the idle timeout', async () => {
    const { proc } = run([fixture('hang.sh')], { idleTimeoutMs: 250 });
    expect((await proc.exited).reason).toBe('idle_timeout');
  });

  it('stops the idle clock while paused, and pause really stops output', async () => {
    const { proc, chunks, text } = run([fixture('slow-lines.sh'), '12'], { idleTimeoutMs: 300 });
    await waitFor(() => chunks.length >= 2);
    expect(proc.pause()).toBe(true);
    expect(proc.paused).toBe(true);
    expect(proc.pause()).toBe(false); // already paused
    await sleep(100); // what was already in flight arrives
    const before = chunks.length;
    expect(before).toBeLessThan(12);
    await sleep(700); // more than twice the idle timeout
    expect(chunks.length).toBe(before);
    expect(proc.resume()).toBe(true);
    expect(proc.resume()).toBe(false); // not paused any more
    const exit = await proc.exited;
    expect(exit).toMatchObject({ reason: 'exited', exitCode: 0 });
    expect(text()).toBe(Array.from({ length: 12 }, (_, i) => `line ${i + 1}\n`).join(''));
  });

  it('cancel reaches a paused process at once (SIGCONT after SIGTERM)', async () => {
    const { proc, chunks } = run([fixture('hang.sh')], { killGraceMs: 5000 });
    await waitFor(() => chunks.length > 0);
    expect(proc.pause()).toBe(true);
    await sleep(50);
    const t0 = Date.now();
    proc.cancel();
    const exit = await proc.exited;
    expect(exit).toMatchObject({ reason: 'cancelled', signal: 'SIGTERM' });
    expect(Date.now() - t0).toBeLessThan(2000); // not the 5 s SIGKILL fallback
  });

  it('the total timeout still applies while paused', async () => {
    const { proc, chunks } = run([fixture('hang.sh')], { timeoutMs: 400, idleTimeoutMs: 100 });
    await waitFor(() => chunks.length > 0);
    expect(proc.pause()).toBe(true);
    const exit = await proc.exited;
    expect(exit.reason).toBe('timeout'); // and not idle_timeout: the idle clock was stopped
    expect(exit.durationMs).toBeGreaterThanOrEqual(390);
  });

  it('interrupt sends SIGINT to the group', async () => {
    const script = 'trap "echo interrupted; exit 3" INT; echo ready; while :; do sleep 0.05; done';
    const { proc, text } = run(['sh', '-c', script]);
    await waitFor(() => text().includes('ready'));
    proc.interrupt();
    const exit = await proc.exited;
    expect(exit).toMatchObject({ reason: 'exited', exitCode: 3 });
    expect(text()).toBe('ready\ninterrupted\n');
  });

  it('the first cause wins: a cancel during the kill grace of a timeout stays a timeout', async () => {
    const { proc } = run([fixture('ignore-sigterm.sh')], { timeoutMs: 200, killGraceMs: 400 });
    await sleep(300); // timed out, SIGTERM ignored, waiting for SIGKILL
    proc.cancel();
    expect(await proc.exited).toMatchObject({ reason: 'timeout', signal: 'SIGKILL' });
  });

  it('cancel kills grandchildren too', async () => {
    // The fixture reports its grandchildren's pids and its own.
    const { proc, text } = run([fixture('fork-grandchildren.sh')]);
    await waitFor(() => (text().match(/PID \d+/g) ?? []).length === 3);
    const pids = [...text().matchAll(/PID (\d+)/g)].map((m) => Number(m[1]));
    expect(pids.every(alive)).toBe(true);
    proc.cancel();
    expect((await proc.exited).reason).toBe('cancelled');
    expect(await waitFor(() => !pids.some(alive))).toBe(true);
  });

  it('cancel kills grandchildren even while output is held back by a saturated sink', async () => {
    const c = collector();
    const sink: OutputSink = { ...c.sink, saturated: true, onDrain: () => undefined };
    const pidFile = join(scratch, 'pids');
    const proc = supervise(
      {
        argv: [fixture('fork-grandchildren.sh'), pidFile],
        cwd: scratch,
        env: { PATH: '/usr/bin:/bin' },
      },
      limits,
      sink,
      log,
    );
    const readPids = () => {
      try {
        return readFileSync(pidFile, 'utf8').trim().split('\n').map(Number);
      } catch {
        return [];
      }
    };
    expect(await waitFor(() => readPids().length === 3)).toBe(true);
    const pids = readPids();
    expect(pids.every(alive)).toBe(true);
    proc.cancel();
    expect((await proc.exited).reason).toBe('cancelled');
    expect(await waitFor(() => !pids.some(alive))).toBe(true);
    expect(c.text()).toContain(`PID ${pids[2]}`); // held-back output still arrives at the end
  });

  it('kills a child that ignores SIGTERM after the kill grace', async () => {
    const { proc, chunks } = run([fixture('ignore-sigterm.sh')], { killGraceMs: 300 });
    await waitFor(() => chunks.length > 0);
    const t0 = Date.now();
    proc.cancel();
    const exit = await proc.exited;
    expect(exit).toMatchObject({ reason: 'cancelled', signal: 'SIGKILL' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    expect(Date.now() - t0).toBeLessThan(2500);
  });

  it('leaves no orphan when the leader exits normally', async () => {
    const { proc, text } = run(['sh', '-c', 'sleep 1000 & echo $!']);
    const exit = await proc.exited;
    expect(exit).toMatchObject({ reason: 'exited', exitCode: 0 });
    const pid = Number(text().trim());
    expect(await waitFor(() => !alive(pid))).toBe(true);
  });

  it('kill policy: fails at the cap', async () => {
    const { proc, text } = run([fixture('flood.sh')], {
      maxOutputBytes: 100_000,
      outputPolicy: 'kill',
    });
    const exit = await proc.exited;
    expect(exit.reason).toBe('output_limit');
    expect(Buffer.byteLength(text())).toBe(100_000);
    expect(exit.outputBytes).toBe(100_000 + exit.droppedBytes);
    expect(exit.droppedBytes).toBeGreaterThan(0);
  });

  it('truncate policy: a child that prints past the cap runs to its normal end', async () => {
    const script = "head -c 3000000 /dev/zero | tr '\\0' b; echo END";
    const { proc, chunks, dropped } = run(['sh', '-c', script], {
      maxOutputBytes: 200_000,
      tailBytes: 20_000,
      dropRateBytesPerSecond: 0,
    });
    const exit = await proc.exited;
    expect(exit).toMatchObject({ reason: 'exited', exitCode: 0, outputBytes: 3_000_004 });
    const head = chunks
      .filter((c) => !c.tail)
      .map((c) => c.text)
      .join('');
    const tail = chunks
      .filter((c) => c.tail)
      .map((c) => c.text)
      .join('');
    expect(head).toBe('b'.repeat(180_000));
    expect(tail).toBe(`${'b'.repeat(20_000 - 4)}END\n`);
    expect(exit.droppedBytes).toBe(3_000_004 - 200_000);
    expect(dropped.at(-1)).toEqual({ bytes: exit.droppedBytes, final: true });
  });

  it('truncate policy: keeps head and tail, counts the rest, keeps running', async () => {
    const { proc, chunks, dropped } = run([fixture('flood.sh')], {
      maxOutputBytes: 200_000,
      tailBytes: 20_000,
      timeoutMs: 500,
    });
    const exit = await proc.exited;
    expect(exit.reason).toBe('timeout'); // it was never killed for its output
    const head = chunks
      .filter((c) => !c.tail)
      .map((c) => c.text)
      .join('');
    const tail = chunks
      .filter((c) => c.tail)
      .map((c) => c.text)
      .join('');
    expect(Buffer.byteLength(head)).toBe(180_000);
    expect(Buffer.byteLength(tail)).toBe(20_000);
    expect(exit.droppedBytes).toBe(exit.outputBytes - 200_000);
    expect(dropped.at(-1)).toEqual({ bytes: exit.droppedBytes, final: true });
  });

  it('limits the rate at which output past the cap is read and dropped', async () => {
    const measure = async (rate: number) => {
      const { proc } = run([fixture('flood.sh')], {
        maxOutputBytes: 65_536,
        timeoutMs: 600,
        dropRateBytesPerSecond: rate,
      });
      return (await proc.exited).outputBytes;
    };
    const limited = await measure(1_000_000);
    const unlimited = await measure(0);
    expect(limited).toBeLessThan(2_000_000);
    expect(unlimited).toBeGreaterThan(limited * 5);
  });

  it('back-pressure: stops reading while the sink is saturated, without idling out', async () => {
    const c = collector();
    let saturated = true;
    let drain: (() => void) | undefined;
    const sink: OutputSink = {
      ...c.sink,
      get saturated() {
        return saturated;
      },
      onDrain: (cb) => (drain = cb),
    };
    const proc = supervise(
      { argv: [fixture('flood.sh')], cwd: tmpdir(), env: { PATH: '/usr/bin:/bin' } },
      { ...limits, idleTimeoutMs: 200, maxOutputBytes: 1024 ** 3 },
      sink,
      log,
    );
    await sleep(300);
    const early = Buffer.byteLength(c.text());
    await sleep(300);
    const during = Buffer.byteLength(c.text());
    expect(during).toBeGreaterThan(0);
    expect(during).toBe(early); // nothing more is read while saturated
    expect(during).toBeLessThan(512 * 1024); // the child is blocked on a full pipe
    saturated = false;
    drain?.();
    await waitFor(() => Buffer.byteLength(c.text()) > during + 1024 * 1024);
    proc.cancel();
    const exit = await proc.exited;
    expect(exit.reason).toBe('cancelled'); // not idle_timeout while held back
  });

  it('kills an agent that hangs after its result line once the grace is over', async () => {
    const { proc, chunks } = run([fixture('after-result-hang.sh')], { resultGraceMs: 200 });
    await waitFor(() => chunks.length > 0);
    const t0 = Date.now();
    proc.markResult();
    proc.markResult(); // a second result line does not restart the clock
    expect((await proc.exited).reason).toBe('result_grace');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
  });

  it('an agent that exits within the result grace simply exits', async () => {
    const { proc, chunks } = run([fixture('slow-lines.sh'), '3'], { resultGraceMs: 2000 });
    await waitFor(() => chunks.length > 0);
    proc.markResult();
    expect(await proc.exited).toMatchObject({ reason: 'exited', exitCode: 0 });
  });
});
