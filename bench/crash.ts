/**
 * crash: kill -9 of a real `patchbay serve` (embedded SQLite, its own data dir, a free loopback
 * port) in the middle of work, then a restart on the same data dir, many times. Three
 * scenarios, `--trials` each:
 *
 *   flood     runs printing megabytes each (more runs than slots), killed mid-output
 *   queue     50 short runs against 4 slots (every fifth a follow-up of the one before, so
 *             claimed and waiting for its workspace), killed while most are queued
 *   callback  a finished run whose callback a local receiver answers 500 a few times, killed
 *             between retries
 *
 * After each restart, within a deadline: no run `queued`, `running` or `paused`; every run's
 * events numbered 1..n without a gap and ending with a terminal status event; `PRAGMA
 * integrity_check` = ok; the callback delivered exactly once, after the restart, with every
 * attempt recorded. Any miss fails the benchmark.
 *
 *   npx tsx bench/crash.ts [--trials 10] [--scenarios flood,queue,callback] [--lease-ms 2000]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  api,
  ensureBuilt,
  flag,
  freePort,
  heading,
  httpRequest,
  launcherNodeFlags,
  line,
  main,
  option,
  round,
  ROOT,
  sleep,
  summarize,
  writeResult,
  type RunBody,
} from './lib/harness.js';

const SCENARIOS = ['flood', 'queue', 'callback'] as const;
type Scenario = (typeof SCENARIOS)[number];
const UNFINISHED = ['queued', 'running', 'paused'];

interface Server9 {
  url: string;
  pid: number;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

/** `node bin/patchbay.js serve` on `dataDir` (no PATCHBAY_* inherited), once /health answers. */
async function serve(dataDir: string, env: Record<string, string>): Promise<Server9> {
  const port = await freePort();
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('PATCHBAY_') && k !== 'NODE_OPTIONS') childEnv[k] = v;
  }
  Object.assign(childEnv, { PATCHBAY_LOG_LEVEL: 'warn', PATCHBAY_LOG_FORMAT: 'json' }, env);
  const bin = join(ROOT, 'bin', 'patchbay.js');
  const args = ['serve', '--host', '127.0.0.1', '--port', String(port), '--data-dir', dataDir];
  const child: ChildProcess = spawn(process.execPath, [...launcherNodeFlags(), bin, ...args], {
    cwd: dataDir,
    env: childEnv,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let tail = '';
  child.stderr!.on('data', (c: Buffer) => (tail = (tail + c.toString('utf8')).slice(-8192)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited during start:\n${tail}`);
    const res = await httpRequest('GET', `${url}/health`, undefined, { timeoutMs: 1000 }).catch(
      () => null,
    );
    if (res?.status === 200) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`server did not answer /health within 20 s:\n${tail}`);
    }
    await sleep(25);
  }
  return {
    url,
    pid: child.pid!,
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
    },
  };
}

/** Answers 500 to the first `failures` attempts of each run, then 200; remembers every hit. */
async function receiver(failures: number) {
  const hits: { runId: string; status: number; at: number }[] = [];
  const onHit = new Set<() => void>();
  const server: Server = createServer((req, res) => {
    const runId = String(req.headers['x-patchbay-run-id']);
    const status = hits.filter((h) => h.runId === runId).length < failures ? 500 : 200;
    hits.push({ runId, status, at: Date.now() });
    req.resume();
    res.writeHead(status).end();
    for (const f of onHit) f();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hook`,
    hits,
    /** Resolves once `n` hits have arrived in all (or after `ms`). */
    async waitHits(n: number, ms: number): Promise<void> {
      const deadline = Date.now() + ms;
      while (hits.length < n && Date.now() < deadline) await sleep(5);
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const rand = (min: number, max: number): number => min + Math.random() * (max - min);

interface TrialResult {
  scenario: Scenario;
  runs: number;
  /** Runs queued/running/paused at the deadline. */
  stuck: string[];
  eventProblems: string[];
  integrity: string;
  callbackProblems: string[];
  /** From the restarted server answering /health to no unfinished run. */
  recoveryMs: number;
  statuses: Record<string, number>;
}

/** Polls the run list until nothing is unfinished or the deadline passes. */
async function settle(url: string, ids: string[], deadlineMs: number): Promise<RunBody[]> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const { runs } = await api<{ runs: RunBody[] }>('GET', `${url}/v1/runs?limit=200`);
    const mine = runs.filter((r) => ids.includes(r.id));
    if (mine.every((r) => !UNFINISHED.includes(r.status)) || Date.now() > deadline) return mine;
    await sleep(50);
  }
}

/** Seq 1..n without a gap, the last a terminal status event; integrity_check of the file. */
function checkStore(dataDir: string, ids: string[]): { problems: string[]; integrity: string } {
  const db = new Database(join(dataDir, 'patchbay.db'), { readonly: true });
  try {
    const problems: string[] = [];
    const seqs = db.prepare('SELECT seq FROM run_events WHERE run_id = ? ORDER BY seq');
    const lastEvent = db.prepare(
      'SELECT type, data FROM run_events WHERE run_id = ? ORDER BY seq DESC LIMIT 1',
    );
    for (const id of ids) {
      const got = (seqs.all(id) as { seq: number }[]).map((r) => Number(r.seq));
      const gap = got.findIndex((s, i) => s !== i + 1);
      if (gap >= 0) problems.push(`${id}: seq ${got[gap]} at position ${gap + 1}`);
      const last = lastEvent.get(id) as { type: string; data: string } | undefined;
      const status = last?.type === 'status' ? String(JSON.parse(last.data).status) : null;
      if (!status || UNFINISHED.includes(status)) {
        problems.push(`${id}: ends with ${last?.type ?? 'nothing'} ${status ?? ''}`);
      }
    }
    const integrity = db.pragma('integrity_check', { simple: true }) as string;
    return { problems, integrity };
  } finally {
    db.close();
  }
}

/** Kills what is left of the trial's run process groups (the restarted server should have). */
function killLeftovers(dataDir: string): void {
  const db = new Database(join(dataDir, 'patchbay.db'), { readonly: true });
  const groups = db.prepare('SELECT pgid FROM runs WHERE pgid IS NOT NULL').all() as {
    pgid: number;
  }[];
  db.close();
  for (const { pgid } of groups) {
    try {
      process.kill(-Number(pgid), 'SIGKILL');
    } catch {
      // gone, as it should be
    }
  }
}

async function trial(scenario: Scenario, env: Record<string, string>): Promise<TrialResult> {
  const dataDir = mkdtempSync(join(os.tmpdir(), 'patchbay-crash-'));
  const hook = scenario === 'callback' ? await receiver(3) : null;
  let server = await serve(dataDir, env);
  const ids: string[] = [];
  const create = async (body: Record<string, unknown>): Promise<void> => {
    ids.push((await api<RunBody>('POST', `${server.url}/v1/runs`, body)).id);
  };
  try {
    if (scenario === 'flood') {
      // More runs than slots, each printing 15 MB (past the 10 MiB cap: the rest is dropped,
      // paced); killed anywhere from the first bytes on.
      for (let i = 0; i < 6; i++) {
        await create({ command: ['sh', '-c', `yes flood-${i} | head -c 15000000`] });
      }
      await sleep(rand(200, 3000));
    } else if (scenario === 'queue') {
      // Every fifth run follows the one before it in its workspace (as a conversation's do):
      // its job is claimed, and it waits `queued`, while the run before it works.
      for (let i = 0; i < 50; i++) {
        const command = ['sh', '-c', `echo start ${i}; sleep 0.1; echo end ${i}`];
        await create(i % 5 === 4 ? { command, workspaceOf: ids[i - 1] } : { command });
      }
      await sleep(rand(50, 2000));
    } else {
      await create({ command: ['echo', 'done'], callbackUrl: hook!.url });
      // Killed after the 1st, 2nd or 3rd refused attempt, somewhere in its backoff.
      await hook!.waitHits(Math.ceil(rand(0, 3)), 10_000);
      await sleep(rand(0, 250));
    }
    await server.kill9();
    const restartedAt = Date.now();
    server = await serve(dataDir, env);
    const healthyAt = Date.now();
    const runs = await settle(server.url, ids, 60_000);
    const recoveryMs = Date.now() - healthyAt;
    const stuck = runs.filter((r) => UNFINISHED.includes(r.status)).map((r) => r.id);
    const statuses: Record<string, number> = {};
    for (const r of runs) {
      const key = r.status === 'failed' && r.error ? `failed:${r.error.code}` : r.status;
      statuses[key] = (statuses[key] ?? 0) + 1;
    }
    const callbackProblems: string[] = [];
    if (hook) {
      const id = ids[0]!;
      // The delivery after the restart may still be in its backoff: wait for it.
      const deadline = Date.now() + 15_000;
      while (!hook.hits.some((h) => h.status === 200) && Date.now() < deadline) await sleep(20);
      await sleep(200); // a duplicate would come right behind
      const ok = hook.hits.filter((h) => h.runId === id && h.status === 200);
      if (ok.length !== 1) callbackProblems.push(`${id}: delivered ${ok.length} times`);
      if (ok[0] && ok[0].at < restartedAt) callbackProblems.push(`${id}: delivered before kill`);
      const { deliveries } = await api<{ deliveries: { attempt: number; outcome: string }[] }>(
        'GET',
        `${server.url}/v1/runs/${id}/deliveries`,
      );
      const outcomes = deliveries.map((d) => d.outcome);
      const attempts = deliveries.map((d) => d.attempt);
      if (outcomes.at(-1) !== 'delivered' || outcomes.slice(0, -1).some((o) => o !== 'retrying'))
        callbackProblems.push(`${id}: outcomes ${outcomes.join(',')}`);
      if (attempts.some((a, i) => a !== i + 1))
        callbackProblems.push(`${id}: attempts ${attempts.join(',')}`);
    }
    const store = checkStore(dataDir, ids);
    return {
      scenario,
      runs: ids.length,
      stuck,
      eventProblems: store.problems,
      integrity: store.integrity,
      callbackProblems,
      recoveryMs,
      statuses,
    };
  } finally {
    await server.stop();
    await hook?.close();
    killLeftovers(dataDir);
    if (!flag('keep-data')) rmSync(dataDir, { recursive: true, force: true });
  }
}

await main('crash', async (startedAt) => {
  const trials = option('trials', 10);
  const leaseMs = option('lease-ms', 2000);
  const wanted = option('scenarios', SCENARIOS.join(',')).split(',') as Scenario[];
  for (const s of wanted) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario ${s}`);
  if (trials < 1 || trials > 200) throw new Error('--trials must be in [1, 200]');
  ensureBuilt();
  const env = {
    PATCHBAY_RUN_LEASE_MS: String(leaseMs),
    PATCHBAY_KILL_GRACE_MS: '500',
    PATCHBAY_CALLBACK_BACKOFF_MS: '300',
    // The callback receiver is on loopback.
    PATCHBAY_ALLOW_PRIVATE_CALLBACK_URLS: '1',
    PATCHBAY_MAX_CONCURRENT_RUNS: '4',
  };
  const figures: Record<string, unknown> = {};
  const targets = [];
  for (const scenario of wanted) {
    heading(`crash/${scenario}: ${trials} trials of kill -9 and restart on the same data dir`);
    const results: TrialResult[] = [];
    for (let i = 0; i < trials; i++) {
      const r = await trial(scenario, env);
      results.push(r);
      const bad = r.stuck.length + r.eventProblems.length + r.callbackProblems.length;
      process.stdout.write(
        `  #${String(i + 1).padStart(2)} ${JSON.stringify(r.statuses)} recovered in ${r.recoveryMs} ms${bad || r.integrity !== 'ok' ? `  PROBLEM ${JSON.stringify(r)}` : ''}\n`,
      );
    }
    const sum = (f: (r: TrialResult) => number): number => results.reduce((a, r) => a + f(r), 0);
    const statuses: Record<string, number> = {};
    for (const r of results)
      for (const [k, n] of Object.entries(r.statuses)) statuses[k] = (statuses[k] ?? 0) + n;
    const recovery = summarize(results.map((r) => r.recoveryMs));
    const f = {
      trials,
      runs: sum((r) => r.runs),
      statuses,
      stuckRuns: sum((r) => r.stuck.length),
      trialsWithStuckRuns: results.filter((r) => r.stuck.length > 0).length,
      eventProblems: sum((r) => r.eventProblems.length),
      integrityFailures: results.filter((r) => r.integrity !== 'ok').length,
      callbackProblems: sum((r) => r.callbackProblems.length),
      recoveryMs: { p50: round(recovery.p50, 0), p95: round(recovery.p95, 0), max: recovery.max },
      problems: results
        .flatMap((r) => [...r.stuck, ...r.eventProblems, ...r.callbackProblems])
        .slice(0, 10),
    };
    figures[scenario] = f;
    line('runs / statuses after recovery', `${f.runs} ${JSON.stringify(statuses)}`);
    line('stuck (queued/running/paused)', `${f.stuckRuns} in ${f.trialsWithStuckRuns} trials`);
    line('event gaps or no terminal event', String(f.eventProblems));
    line('integrity_check not ok', String(f.integrityFailures));
    if (scenario === 'callback') line('callback problems', String(f.callbackProblems));
    line(
      'recovery (ms)',
      `p50 ${f.recoveryMs.p50}  p95 ${f.recoveryMs.p95}  max ${f.recoveryMs.max}`,
    );
    const bad = f.stuckRuns + f.eventProblems + f.integrityFailures + f.callbackProblems;
    targets.push({
      name: `${scenario}: runs left unfinished, gaps, corruption, callback misses`,
      target: '0',
      actual: bad,
      pass: bad === 0,
    });
  }
  return writeResult(
    {
      benchmark: 'crash',
      description:
        'kill -9 of patchbay serve mid-work, restart on the same data dir, check recovery',
      parameters: { trials, leaseMs, scenarios: wanted, serverEnv: env },
      figures,
      targets,
      notes: [
        'Recovery of a run claimed but not started waits for its job lease (PATCHBAY_RUN_LEASE_MS, here --lease-ms) to expire.',
      ],
    },
    startedAt,
  );
});
