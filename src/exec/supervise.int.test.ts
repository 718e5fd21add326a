import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createSilentLogger } from '../observability/index.js';
import type { OutputStream } from './output-buffer.js';
import { supervise, type OutputSink, type SupervisorLimits } from './supervisor.js';

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

function run(argv: string[], overrides: Partial<SupervisorLimits> = {}, sink = collector()) {
  const proc = supervise(
    { argv, cwd: tmpdir(), env: { PATH: '/usr/bin:/bin' } },
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
  it('passes the exit code through', async () => {
    const { proc, text } = run([fixture('exit-code.sh'), '7']);
    const exit = await proc.exited;
    expect(exit).toMatchObject({ reason: 'exited', exitCode: 7, signal: null });
    expect(text()).toBe('exiting with 7\n');
    expect(exit.outputBytes).toBe(15);
  });

  it('reports a missing executable as spawn_failed', async () => {
    const { proc } = run(['/nonexistent/agent']);
    const exit = await proc.exited;
    expect(exit.reason).toBe('spawn_failed');
    expect(exit.error).toMatch(/ENOENT/);
    expect(proc.pid).toBeUndefined();
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
    const { proc, chunks } = run([fixture('slow-lines.sh'), '200'], { idleTimeoutMs: 300 });
    await waitFor(() => chunks.length >= 2);
    expect(proc.pause()).toBe(true);
    await sleep(100); // what was already in flight arrives
    const before = chunks.length;
    await sleep(700); // more than twice the idle timeout
    expect(chunks.length).toBe(before);
    expect(proc.resume()).toBe(true);
    expect(await waitFor(() => chunks.length > before + 2)).toBe(true);
    proc.cancel();
    expect((await proc.exited).reason).toBe('cancelled');
  });

  it('cancel kills grandchildren too', async () => {
    const { proc, text } = run([fixture('fork-grandchildren.sh')]);
    await waitFor(() => (text().match(/PID \d+/g) ?? []).length === 3);
    const pids = [...text().matchAll(/PID (\d+)/g)].map((m) => Number(m[1]));
    expect(pids.every(alive)).toBe(true);
    proc.cancel();
    expect((await proc.exited).reason).toBe('cancelled');
    expect(await waitFor(() => !pids.some(alive))).toBe(true);
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
    expect(Buffer.byteLength(text())).toBeLessThanOrEqual(100_000);
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
    await sleep(600);
    const during = Buffer.byteLength(c.text());
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
    proc.markResult();
    expect((await proc.exited).reason).toBe('result_grace');
  });
});
