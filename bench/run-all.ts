/**
 * Runs every benchmark in sequence, each in its own process (each starts its own server),
 * then prints one summary. Exits non-zero when any benchmark misses a target or fails.
 *
 *   npm run bench                       # everything, defaults
 *   BENCH_DURATION_S=20 npm run bench   # options reach the benchmarks as BENCH_* env vars
 *   npm run bench -- flood latency      # a subset, by name
 *   npm run bench -- worktree           # one that is not in the default set
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, RESULTS_DIR, ROOT } from './lib/harness.js';

/** What `npm run bench` runs when no name is given. */
const DEFAULT = ['flood', 'throughput', 'latency', 'fanout', 'burst'] as const;
/**
 * Run only when named (`npm run bench -- worktree`): the worktree benchmark builds a 10 000-file
 * repository and takes 100-160 s, more than the five above together, for a different requirement;
 * scale needs PostgreSQL and Redis and starts up to six processes per configuration; scan reads
 * 290 000 lines of node_modules (and runs oxlint when installed); optimizer validates ~30
 * candidates of a fixture library with real processes (3-5 min); schedules creates 10 000
 * schedules and waits for a minute boundary (1.5-3 min); hygiene runs 1 000 cycles of runs
 * ended the hard way and searches /proc after each (about 5 min); crash kill -9s and restarts a
 * server 30 times (about 3 min); agents-real runs the real claude, codex and gemini CLIs (installed
 * by `npm run test:agents-real`) 22 times each, by hand and through Patchbay (1-2 min); edits applies
 * 1 000 generated edits in process (a few seconds, no server); cc-executor streams 50 kB/s through
 * the cc_executor WebSocket for 60 s and runs 300 PAUSE → RESUME → CANCEL cycles (needs `pv`,
 * about 3 min; `BENCH_QUICK=1` for a short pass); triggers fires 200 signed
 * deliveries 50 at a time against as many POST /v1/runs (about 10 s); inbox syncs the four intake
 * connectors against their local fakes and times change → poll (about 1 min, no server).
 */
const BY_NAME = [
  'worktree',
  'scale',
  'scan',
  'optimizer',
  'schedules',
  'hygiene',
  'crash',
  'agents-real',
  'edits',
  'cc-executor',
  'triggers',
  'mcp',
  'inbox',
] as const;
const ALL = [...DEFAULT, ...BY_NAME] as const;
/** A benchmark that runs longer than this is killed and counted as failed. */
const LIMIT_MS = 5 * 60_000;

/** A value from a result file by dotted path, e.g. get(r, 'figures.healthMs.p99'). */
function get(value: unknown, path: string): string {
  let v = value;
  for (const key of path.split('.'))
    v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined;
  return v === undefined ? '?' : String(v);
}

function headline(name: string, r: unknown): string {
  const g = (path: string): string => get(r, `figures.${path}`);
  if (get(r, 'error') !== '?') return `error: ${get(r, 'error')}`;
  switch (name) {
    case 'flood':
      return `peak RSS ${get(r, 'targets.0.actual')} MB, /health p99 ${g('healthMs.p99')} ms, printed ${g('outputBytes')} B, dropped ${g('droppedBytes')} B`;
    case 'throughput':
      return `${g('patchbayMBps')} MB/s vs bare pipe ${g('bareMBps')} MB/s (ratio ${g('ratioVsBare')})`;
    case 'latency':
      return `POST→running p50 ${g('postToRunningEventMs.p50')} / p99 ${g('postToRunningEventMs.p99')} ms; spawn p50 ${g('bareSpawnMs.p50')} / p99 ${g('bareSpawnMs.p99')} ms`;
    case 'fanout':
      return `${g('completeSubscribers')}+${g('completeLateSubscribers')} complete, ${g('eventsPerSubscriber')} events each, ${g('secondsGoToAllStreamsEnded')} s`;
    case 'worktree':
      return `POST→running p50 ${g('shellPostToRunningMs.p50')} / p95 ${g('shellPostToRunningMs.p95')} ms vs bare git worktree add p50 ${g('bareWorktreeAddMs.p50')} ms (overhead ${g('overheadOverBareP50Ms')} ms); fake Claude first event p50 ${g('agentPostToFirstEventMs.p50')} ms`;
    case 'scale':
      return `bare BullMQ ${g('bareBullmqJobsPerSecond')} jobs/s; runs/s embedded ${g('embedded.runsPerSecond')}, BullMQ 1/2/4 workers ${g('bullmq.workers1.runsPerSecond')}/${g('bullmq.workers2.runsPerSecond')}/${g('bullmq.workers4.runsPerSecond')}; appends/s SQLite ${g('eventAppends.sqlite.eventsPerSecondBatch100')} vs PostgreSQL ${g('eventAppends.postgres.eventsPerSecondBatch100')}`;
    case 'scan':
      return `scanner ${g('scanner.linesPerSecond')} lines/s vs oxlint ${g('oxlint.singleThread.linesPerSecond')} (ratio ${g('ratioScannerToOxlintSingleThread')})`;
    case 'optimizer':
      return `A/A false accepts ${g('falseAcceptances')}/${g('aaTrials')} (old rule with the floor forced to 0: ${g('forcedFloorOldRuleAcceptances')}); planted 10 % detected ${g('planted10Detected')}/${g('planted10Trials')}`;
    case 'schedules':
      return `${get(r, 'parameters.schedules')} schedules: /health p50 ${g('healthMs.p50')} / p99 ${g('healthMs.p99')} ms, event-loop delay p99 ${g('eventLoopDelayMs.p99')} ms, server CPU ${g('serverCpuPercent')} %`;
    case 'hygiene':
      return `${g('survivors')} surviving processes after ${g('cyclesDone')} cycles; ${g('wallMsPerCycle')} ms wall per cycle`;
    case 'burst':
      return `${g('succeeded')}/${g('runs')} succeeded in ${g('wallSeconds')} s (${g('runsPerSecond')} runs/s), max waiting ${g('maxWaitingSeen')}`;
    case 'agents-real':
      return ['claude', 'codex', 'gemini']
        .map(
          (a) =>
            `${a} +${g(`${a}.firstEvent.overheadMs`)} ms first event / +${g(`${a}.wall.overheadMs`)} ms wall`,
        )
        .join('; ');
    case 'crash':
      return `after kill -9 + restart, runs left unfinished flood/queue/callback ${g('flood.stuckRuns')}/${g('queue.stuckRuns')}/${g('callback.stuckRuns')}, event gaps ${g('queue.eventProblems')}, callback problems ${g('callback.callbackProblems')}`;
    case 'edits':
      return `${g('correctPercent')} % of ${g('edits')} drifted edits applied correctly, ${g('refused')} refused, ${g('wrongPlace')} at a wrong place`;
    case 'cc-executor':
      return `peak RSS ${g('stream.peakSampledRssMB')} MB at ${g('stream.receivedKBps')} kB/s; ${g('control.passed')}/${g('control.cycles')} PAUSE → RESUME → CANCEL cycles passed, ${g('control.orphans')} orphans`;
    case 'mcp':
      return `start_run p99 over HTTP ${g('http.start.p99')} ms, over stdio ${g('stdioRemote.start.p99')} ms (< 500)`;
    case 'inbox':
      return ['gmail', 'jira', 'github', 'drive']
        .map(
          (k) =>
            `${k} ${g(`throughput.${k}.itemsPerSecond`)} items/s, change→poll p95 ${g(`changeToPollMs.${k}.p95`)} ms`,
        )
        .join('; ');
    case 'triggers':
      return `fire→202 p50 ${g('ackMs.p50')} / p99 ${g('ackMs.p99')} ms vs POST /v1/runs p50 ${g('createRunBaselineMs.p50')} / p99 ${g('createRunBaselineMs.p99')} ms; ${g('distinctRuns')} runs`;
    default:
      return '';
  }
}

function runOne(name: string): Promise<{ code: number | null; seconds: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', join('bench', `${name}.ts`)], {
      cwd: ROOT,
      stdio: 'inherit',
      env: { ...process.env, BENCH_NO_BUILD: '1' },
    });
    const timer = setTimeout(() => {
      process.stderr.write(`\n[run-all] ${name} exceeded ${LIMIT_MS / 1000} s: killing it\n`);
      child.kill('SIGTERM');
    }, LIMIT_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: signal ? 1 : code, seconds: (Date.now() - started) / 1000 });
    });
  });
}

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const w of wanted) {
  if (!(ALL as readonly string[]).includes(w))
    throw new Error(`unknown benchmark ${w} (have: ${ALL.join(', ')})`);
}
const names = wanted.length ? ALL.filter((n) => wanted.includes(n)) : [...DEFAULT];

ensureBuilt();
const outcomes: { name: string; code: number | null; seconds: number; summary: string }[] = [];
for (const name of names) {
  process.stdout.write(`\n=== ${name} ===\n`);
  const { code, seconds } = await runOne(name);
  const file = join(RESULTS_DIR, `${name}.json`);
  let summary = 'no result file';
  if (existsSync(file)) {
    const r: unknown = JSON.parse(readFileSync(file, 'utf8'));
    summary = headline(name, r);
  }
  outcomes.push({ name, code, seconds, summary });
}

process.stdout.write('\n=== summary ===\n');
for (const o of outcomes) {
  const verdict = o.code === 0 ? 'PASS' : o.code === 1 ? 'FAIL' : 'ERROR';
  process.stdout.write(
    `  ${verdict.padEnd(5)} ${o.name.padEnd(11)} ${o.seconds.toFixed(0).padStart(4)} s  ${o.summary}\n`,
  );
}
process.exitCode = outcomes.every((o) => o.code === 0) ? 0 : 1;
