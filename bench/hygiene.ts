/**
 * hygiene: does any process outlive its run? Cycles of runs of `escape.sh`, which starts a
 * child in its group, a `setsid` escapee and a double-forked one (all `sleep 1000.<mark>`), and
 * then either hangs, ignores SIGTERM or floods. Each run is ended the hard way: cancelled,
 * timed out, or killed at its output cap. After each run ends, the host's /proc is searched
 * for its marked processes (for up to `--settle-ms`); any still alive then is a survivor.
 *
 * Target: 0 survivors. Reports the time per cycle. Bounded: `--cycles` and `--max-s`.
 *
 *   npx tsx bench/hygiene.ts [--cycles 1000] [--concurrency 4] [--max-s 300]
 *                            [--containment auto|pidns|none] [--sandbox none|bwrap]
 *
 * Extend it with a scenario: one exported function that runs one cycle against a server and
 * returns a `CycleResult`, added to SCENARIOS.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  api,
  fmtMs,
  heading,
  httpRequest,
  line,
  main,
  option,
  ROOT,
  round,
  roundSummary,
  sleep,
  startBenchServer,
  summarize,
  TERMINAL,
  writeResult,
  type BenchServer,
  type RunBody,
} from './lib/harness.js';

const ESCAPE = join(ROOT, 'test', 'fixtures', 'agents', 'escape.sh');
/** Processes a run of escape.sh marks: its child and the two escapees. */
const MARKED = 3;

export interface CycleResult {
  scenario: string;
  /** The run's final status. */
  status: string;
  /** Marked processes still alive `settleMs` after the run ended. */
  survivors: number;
  /** Marked processes seen alive before the run was ended (proves the check can fail). */
  seenAlive: number;
  ms: number;
}

export interface CycleContext {
  server: BenchServer;
  /** Unique per cycle: the escapees run `sleep 1000.<mark>`. */
  mark: string;
  settleMs: number;
}

/** Live (not zombie) processes whose argv contains `arg`. */
export function processesWithArg(arg: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (!readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').includes(arg)) continue;
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (!/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2))) found.push(Number(name));
    } catch {
      // gone while we looked
    }
  }
  return found;
}

async function output(server: BenchServer, id: string): Promise<string> {
  const res = await api<{ events: { type: string; data: { text?: string } }[] }>(
    'GET',
    `${server.url}/v1/runs/${id}/events?after=0&limit=200`,
  );
  return res.events
    .filter((e) => e.type === 'output')
    .map((e) => e.data.text ?? '')
    .join('');
}

async function until(cond: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await cond()) return true;
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
}

async function waitTerminal(server: BenchServer, id: string, ms = 30_000): Promise<RunBody> {
  let run!: RunBody;
  const ok = await until(async () => {
    run = await api<RunBody>('GET', `${server.url}/v1/runs/${id}`);
    return TERMINAL.has(run.status);
  }, ms);
  if (!ok) throw new Error(`run ${id} still ${run.status} after ${ms} ms`);
  return run;
}

/**
 * One run of escape.sh in `mode`, ended by `end` once its marked processes are all alive;
 * then the survivors are counted.
 */
async function cycle(
  ctx: CycleContext,
  scenario: string,
  mode: string,
  limits: Record<string, unknown>,
  end: (id: string) => Promise<void>,
): Promise<CycleResult> {
  const t0 = performance.now();
  const arg = `1000.${ctx.mark}`;
  // `go`, relative: escape.sh waits for it in its workdir (the one place a sandbox shares).
  const run = await api<RunBody & { workdir: string | null }>('POST', `${ctx.server.url}/v1/runs`, {
    agent: 'shell',
    command: ['sh', ESCAPE, ctx.mark, mode, 'go'],
    ...limits,
  });
  // Seen alive first: a scenario that ended its run before the escapees existed proves nothing.
  await until(async () => (await output(ctx.server, run.id)).includes('escaped'), 10_000);
  let seenAlive = 0;
  await until(() => (seenAlive = processesWithArg(arg).length) >= MARKED, 5000);
  const started = await api<{ workdir: string | null }>(
    'GET',
    `${ctx.server.url}/v1/runs/${run.id}`,
  );
  if (started.workdir) writeFileSync(join(started.workdir, 'go'), '');
  await end(run.id);
  const done = await waitTerminal(ctx.server, run.id);
  await until(() => processesWithArg(arg).length === 0, ctx.settleMs);
  const left = processesWithArg(arg);
  // A leak is counted, then cleaned up so that it does not skew the next cycles.
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  return {
    scenario,
    status: done.status,
    survivors: left.length,
    seenAlive,
    ms: performance.now() - t0,
  };
}

/** Cancelled while it hangs (its child and escapees alive). */
export function cancelHanging(ctx: CycleContext): Promise<CycleResult> {
  return cycle(ctx, 'cancel', 'hang', {}, async (id) => {
    await api('POST', `${ctx.server.url}/v1/runs/${id}/cancel`);
  });
}

/** Cancelled while it ignores SIGTERM: SIGKILL after the kill grace. */
export function cancelIgnoringTerm(ctx: CycleContext): Promise<CycleResult> {
  return cycle(ctx, 'cancel-ignore-term', 'ignore-term', {}, async (id) => {
    await api('POST', `${ctx.server.url}/v1/runs/${id}/cancel`);
  });
}

/** Timed out while it ignores SIGTERM. */
export function timeoutIgnoringTerm(ctx: CycleContext): Promise<CycleResult> {
  return cycle(ctx, 'timeout-ignore-term', 'ignore-term', { timeoutMs: 1000 }, () =>
    Promise.resolve(),
  );
}

/** Killed at its output cap (policy kill) while flooding. */
export function outputCap(ctx: CycleContext): Promise<CycleResult> {
  return cycle(
    ctx,
    'output-cap',
    'flood',
    { maxOutputBytes: 256 * 1024, outputPolicy: 'kill' },
    () => Promise.resolve(),
  );
}

export type Scenario = (ctx: CycleContext) => Promise<CycleResult>;

/** Every scenario, by the name its results carry; cycles take them in turn. */
export const SCENARIOS: Record<string, Scenario> = {
  cancel: cancelHanging,
  'cancel-ignore-term': cancelIgnoringTerm,
  'timeout-ignore-term': timeoutIgnoringTerm,
  'output-cap': outputCap,
};

await main('hygiene', async (startedAt) => {
  const cycles = option('cycles', 1000);
  const concurrency = option('concurrency', 4);
  const maxS = option('max-s', 300);
  const settleMs = option('settle-ms', 2000);
  const containment = option('containment', 'auto');
  const sandbox = option('sandbox', 'none');
  const server = await startBenchServer({
    PATCHBAY_RUN_CONTAINMENT: containment,
    PATCHBAY_SANDBOX: sandbox,
    PATCHBAY_KILL_GRACE_MS: '200',
    PATCHBAY_MAX_CONCURRENT_RUNS: String(concurrency),
    PATCHBAY_RUN_CREATE_RATE_LIMIT: '100000',
  });
  const results: CycleResult[] = [];
  const deadline = Date.now() + maxS * 1000;
  try {
    const health = await httpRequest('GET', `${server.url}/health`);
    heading(
      `hygiene: ${cycles} cycles, ${concurrency} at a time, containment=${containment}, sandbox=${sandbox}`,
    );
    if (health.status !== 200) throw new Error(`server unhealthy: ${health.status}`);
    const scenarios = Object.values(SCENARIOS);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < cycles && Date.now() < deadline) {
        const n = next++;
        const scenario = scenarios[n % scenarios.length]!;
        results.push(await scenario({ server, mark: `${process.pid}${n}`, settleMs }));
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: concurrency }, worker));
    const wallMs = performance.now() - t0;

    const survivors = results.reduce((s, r) => s + r.survivors, 0);
    const unproven = results.filter((r) => r.seenAlive < MARKED).length;
    const byScenario: Record<string, unknown> = {};
    for (const name of Object.keys(SCENARIOS)) {
      const mine = results.filter((r) => r.scenario === name);
      byScenario[name] = {
        cycles: mine.length,
        survivors: mine.reduce((s, r) => s + r.survivors, 0),
        statuses: countBy(mine.map((r) => r.status)),
        ms: roundSummary(summarize(mine.map((r) => r.ms))),
      };
    }
    const perCycle = summarize(results.map((r) => r.ms));
    line(
      'cycles done',
      `${results.length} of ${cycles}${results.length < cycles ? ' (time bound hit)' : ''}`,
    );
    line('surviving processes', String(survivors));
    line('cycles not seen alive first', String(unproven));
    line('time per cycle', fmtMs(perCycle));
    line('wall time per cycle', `${round(wallMs / Math.max(1, results.length))} ms`);
    for (const [name, s] of Object.entries(byScenario)) line(`  ${name}`, JSON.stringify(s));
    return writeResult(
      {
        benchmark: 'hygiene',
        description:
          'Runs that are cancelled, time out or exceed their output cap, with a child in the group, a setsid and a double-fork escapee, some ignoring SIGTERM: processes left alive afterwards.',
        parameters: { cycles, concurrency, maxS, settleMs, containment, sandbox },
        figures: {
          cyclesDone: results.length,
          survivors,
          unproven,
          perCycleMs: roundSummary(perCycle),
          wallMsPerCycle: round(wallMs / Math.max(1, results.length)),
          byScenario,
        },
        targets: [
          { name: 'surviving processes', target: '= 0', actual: survivors, pass: survivors === 0 },
          {
            name: 'cycles that saw every marked process alive before the end',
            target: `= ${results.length}`,
            actual: results.length - unproven,
            pass: unproven === 0,
          },
        ],
        notes: [
          'A survivor is a marked process (sleep 1000.<mark>) alive settleMs after its run ended; each is SIGKILLed after counting.',
        ],
      },
      startedAt,
    );
  } finally {
    await server.stop();
  }
});

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
