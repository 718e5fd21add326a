/**
 * agents-real: what Patchbay adds to a run of a real agent CLI. For each pinned CLI (claude,
 * codex, gemini in test/agents-real), against the contract suite's scripted model server for its
 * provider, one short text answer per run (one model turn, no tools), interleaved by hand,
 * Patchbay, by hand, Patchbay, … after a warm-up pair:
 *  - by hand: the CLI spawned from this process with exactly the argv, environment and stdin
 *    Patchbay's adapter plans (src/agents, with the server's own resolved config), in a fresh
 *    directory next to the runs' own; first event = first stdout line, wall = spawn to exit;
 *  - through Patchbay: `POST /v1/runs {agent, prompt}` to one `patchbay serve` (same HOME, same
 *    credentials), the run's SSE stream opened as soon as the POST answers, replaying from seq 0
 *    (an event stored before the stream opened still counts, when it arrives); first event =
 *    the first event the CLI's stdout produced (not a status event, not stderr output),
 *    wall = POST sent to the terminal status event received.
 *
 * Target (issue 12): at the median, Patchbay adds ≤ max(150 ms, 5 % of the by-hand median), for
 * both figures and every agent. Every run must answer with its own scripted text.
 *
 *   npx tsx bench/agents-real.ts [--runs 10] [--warmup 1] [--agents claude,codex,gemini]
 *     [--containment auto|none] [--event-flush-ms 5] [--by-hand-contained]
 *
 * `--containment`, `--event-flush-ms` and `--by-hand-contained` (the by-hand runs in the same
 * PID-namespace wrapper as Patchbay's) are for finding where the time goes; each is recorded.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getAgent, type CliAgentName, type LaunchPlan } from '../src/agents/index.js';
import { loadConfig, type ResolvedConfig } from '../src/config/index.js';
import { pidNamespaceArgv, probePidNamespace, type PidNamespace } from '../src/exec/index.js';
import { startAnthropicServer } from '../test/agents-real/claude/server.js';
import { codexConfig, startScriptedOpenAi } from '../test/agents-real/codex/server.js';
import { startGeminiServer } from '../test/agents-real/gemini/server.js';
import { caseTag } from '../test/agents-real/harness.js';
import {
  api,
  flag,
  heading,
  keepAliveAgent,
  line,
  main,
  option,
  round,
  startBenchServer,
  TERMINAL,
  writeResult,
  type RunBody,
  type Target,
} from './lib/harness.js';
import { openEventStream } from './lib/sse.js';

const AGENTS = ['claude', 'codex', 'gemini'] as const;
type Agent = (typeof AGENTS)[number];

const BIN_DIR = join(import.meta.dirname, '..', 'test', 'agents-real', 'node_modules', '.bin');
/** The scripted servers answer a run from the script of the case its prompt names. */
const PROMPT = `Say hello. ${caseTag('bench')}`;
/** Either figure passes when Patchbay adds at most this, or TARGET_FRACTION, whichever is larger. */
const TARGET_MS = 150;
const TARGET_FRACTION = 0.05;
const RUN_TIMEOUT_MS = 60_000;

/** One measured run. */
interface Sample {
  firstEventMs: number;
  /** Until the agent's result (the line that closes a claude run's stdin) was read. */
  resultMs: number;
  wallMs: number;
  /** The run answered with its own scripted text. */
  ok: boolean;
  detail: string;
}

/**
 * Where a Patchbay run's time went, from the events' `ts` (the server's clock when it appended
 * them; same machine, ms resolution) against this process's clock when the POST was sent and
 * when events arrived.
 */
interface PatchbaySample extends Sample {
  /** POST sent → 202 received. */
  postMs: number;
  /** POST sent → `running` appended: API, queue, workspace, containment wrapper, spawn. */
  postToRunningMs: number;
  /** `running` → the first agent event appended: the CLI's own start, under Patchbay. */
  runningToFirstEventMs: number;
  /** The first agent event appended → received here: flush, store, SSE. */
  firstEventDeliveryMs: number;
  /** The result event appended → the terminal status appended: the CLI's exit, finishing. */
  resultToTerminalMs: number;
  /** The terminal status appended → received here. */
  terminalDeliveryMs: number;
  firstEventType: string;
}

// ---------------------------------------------------------------- setup

/**
 * One HOME for the server and the by-hand runs, with each CLI pointed at its scripted server the
 * way the contract suite does it. Outside /tmp: Codex refuses to create its sandbox helper under
 * a temporary dir (test/agents-real/codex.test.ts).
 */
function makeHome(codexBaseUrl: string): string {
  const home = mkdtempSync(join('/var/tmp', 'patchbay-bench-agents-home-'));
  for (const dir of [
    '.config',
    '.cache',
    '.local/share',
    '.local/state',
    '.claude',
    '.codex',
    '.gemini',
  ])
    mkdirSync(join(home, dir), { recursive: true });
  // Claude Code's knobs for unattended runs, as in test/agents-real/claude.test.ts.
  const claudeKnobs = {
    CLAUDE_CODE_MAX_RETRIES: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
  };
  writeFileSync(
    join(home, '.claude', 'settings.json'),
    `${JSON.stringify({ env: claudeKnobs })}\n`,
  );
  writeFileSync(join(home, '.codex', 'config.toml'), codexConfig(codexBaseUrl));
  // API-key auth against a base URL, no silent retries (test/agents-real/gemini.test.ts).
  writeFileSync(
    join(home, '.gemini', 'settings.json'),
    `${JSON.stringify({ security: { auth: { selectedType: 'gemini-api-key' } }, general: { maxAttempts: 1 } })}\n`,
  );
  return home;
}

/** The environment startBenchServer gives the server (its rules, restated). */
function serverProcessEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('PATCHBAY_') && k !== 'NODE_OPTIONS') env[k] = v;
  }
  return { ...env, PATCHBAY_LOG_LEVEL: 'warn', PATCHBAY_LOG_FORMAT: 'json', ...extra };
}

/**
 * What the server would start for a run of `agent`: the adapter's plan from the server's own
 * configuration, and the environment merged as the process system merges it (adapter defaults,
 * then the allow-listed base, then the agent's credentials; the run sets no env of its own).
 */
function planFor(
  agent: Agent,
  config: ResolvedConfig,
  prompt: string,
): { plan: LaunchPlan; env: Record<string, string> } {
  const plan = getAgent(agent).plan(
    {
      command: null,
      prompt,
      model: null,
      args: [],
      resumeSessionId: null,
      agentPermissions: 'edit',
      sandbox: config.sandbox === 'bwrap' ? 'bwrap' : 'none',
    },
    {
      allowedCommands: config.allowedCommands,
      childPath: config.childEnvBase.PATH,
      bins: {
        claude: config.agentClaudeBin,
        cursor: config.agentCursorBin,
        codex: config.agentCodexBin,
        gemini: config.agentGeminiBin,
      } satisfies Record<CliAgentName, string>,
    },
  );
  const env = {
    ...plan.env,
    ...config.childEnvBase,
    ...config.agentCredentialValues[agent],
  };
  return { plan, env };
}

// ---------------------------------------------------------------- the two ways to run

/**
 * Spawns the planned CLI directly; times its first stdout line and its exit. Its stdout goes
 * through the adapter's parser, as a script would read it: the result closes stdin (as the
 * supervisor does) and says whether the answer was the scripted one.
 */
function runByHand(
  agent: Agent,
  plan: LaunchPlan,
  env: Record<string, string>,
  cwd: string,
  answer: string,
): Promise<Sample> {
  return new Promise((resolve) => {
    const parser = getAgent(agent).createParser!();
    const t0 = performance.now();
    const child = spawn(plan.argv[0]!, plan.argv.slice(1), {
      cwd,
      env,
      stdio: [plan.stdin, 'pipe', 'pipe'],
    });
    let firstAt = NaN;
    let resultAt = NaN;
    let partial = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (text: string) => {
      const lines = (partial + text).split('\n');
      partial = lines.pop()!;
      if (lines.length > 0 && Number.isNaN(firstAt)) firstAt = performance.now();
      for (const l of lines) parser.line(l.replace(/\r$/, ''));
      if (parser.facts.finished && Number.isNaN(resultAt)) {
        resultAt = performance.now();
        child.stdin?.end();
      }
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => (stderr = (stderr + text).slice(-2000)));
    child.stdin?.on('error', () => undefined);
    if (plan.input) child.stdin?.write(plan.input);
    child.once('error', (err) => {
      clearTimeout(timer);
      resolve({ firstEventMs: NaN, resultMs: NaN, wallMs: NaN, ok: false, detail: err.message });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const wallMs = performance.now() - t0;
      if (partial) parser.line(partial);
      parser.end();
      const facts = parser.facts;
      const ok = code === 0 && !facts.isError && facts.resultText?.includes(answer) === true;
      resolve({
        firstEventMs: firstAt - t0,
        resultMs: resultAt - t0,
        wallMs,
        ok,
        detail: ok
          ? ''
          : `exit ${String(code ?? signal)}, result ${JSON.stringify(facts.resultText)}: ${stderr.trim().split('\n').at(-1) ?? ''}`,
      });
    });
  });
}

/** POST /v1/runs, then the run's SSE stream from seq 0 until the terminal status event. */
async function runThroughPatchbay(
  url: string,
  agent: Agent,
  answer: string,
): Promise<PatchbaySample> {
  const t0Wall = Date.now();
  const t0 = performance.now();
  const run = await api<RunBody>('POST', `${url}/v1/runs`, { agent, prompt: PROMPT }, [202]);
  const postMs = performance.now() - t0;
  // Arrival here (performance.now()), arrival (Date.now()) and the server's ts, per milestone.
  type Seen = { at: number; wall: number; ts: number; type: string };
  const seen: Record<'running' | 'first' | 'result' | 'terminal', Seen | undefined> = {
    running: undefined,
    first: undefined,
    result: undefined,
    terminal: undefined,
  };
  const stream = openEventStream(url, run.id, {
    agent: keepAliveAgent,
    timeoutMs: RUN_TIMEOUT_MS,
    onEvent(event) {
      const now = {
        at: performance.now(),
        wall: Date.now(),
        ts: Date.parse(event.ts),
        type: event.type,
      };
      const status = event.type === 'status' ? String(event.data.status) : '';
      const fromStderr = event.type === 'output' && event.data.stream === 'stderr';
      if (status === 'running') seen.running ??= now;
      else if (TERMINAL.has(status)) seen.terminal ??= now;
      else if (event.type !== 'status' && !fromStderr) seen.first ??= now;
      if (event.type === 'result') seen.result ??= now;
    },
  });
  const result = await stream.done;
  const final = await api<RunBody & { resultText: string | null }>(
    'GET',
    `${url}/v1/runs/${run.id}`,
  );
  const ok =
    final.status === 'succeeded' &&
    final.resultText?.includes(answer) === true &&
    Object.values(seen).every(Boolean);
  const { running, first, result: res, terminal } = seen;
  return {
    firstEventMs: (first?.at ?? NaN) - t0,
    resultMs: (res?.at ?? NaN) - t0,
    wallMs: (terminal?.at ?? NaN) - t0,
    ok,
    detail: ok
      ? ''
      : `${run.id}: ${final.status}${final.error ? ` ${final.error.code}: ${final.error.message}` : ''}, result ${JSON.stringify(final.resultText)}, stream ${result.ended}`,
    postMs,
    postToRunningMs: (running?.ts ?? NaN) - t0Wall,
    runningToFirstEventMs: (first?.ts ?? NaN) - (running?.ts ?? NaN),
    firstEventDeliveryMs: (first?.wall ?? NaN) - (first?.ts ?? NaN),
    resultToTerminalMs: (terminal?.ts ?? NaN) - (res?.ts ?? NaN),
    terminalDeliveryMs: (terminal?.wall ?? NaN) - (terminal?.ts ?? NaN),
    firstEventType: first?.type ?? '',
  };
}

// ---------------------------------------------------------------- statistics

/** Nearest-rank percentile of finite values. */
function percentile(values: number[], p: number): number {
  const s = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Median of sorted values, averaging the middle two of an even count. */
function median(values: number[]): number {
  const s = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const stats = (values: number[]) => ({
  n: values.filter(Number.isFinite).length,
  p50: round(median(values), 1),
  p90: round(percentile(values, 90), 1),
  min: round(percentile(values, 0), 1),
  max: round(percentile(values, 100), 1),
});

interface Comparison {
  byHand: ReturnType<typeof stats>;
  patchbay: ReturnType<typeof stats>;
  /** Patchbay's median − the by-hand median. */
  overheadMs: number;
  overheadPercent: number;
  /** Median of the per-pair differences (each Patchbay run − the by-hand run before it). */
  pairedOverheadMs: number;
  allowedMs: number;
  pass: boolean;
}

function compare(hand: number[], patchbay: number[]): Comparison {
  const byHand = stats(hand);
  const through = stats(patchbay);
  const overheadMs = round(median(patchbay) - median(hand), 1);
  const allowedMs = round(Math.max(TARGET_MS, TARGET_FRACTION * median(hand)), 1);
  return {
    byHand,
    patchbay: through,
    overheadMs,
    overheadPercent: round((100 * overheadMs) / median(hand), 1),
    pairedOverheadMs: round(median(patchbay.map((v, i) => v - hand[i]!)), 1),
    allowedMs,
    pass: overheadMs <= allowedMs,
  };
}

// ---------------------------------------------------------------- the benchmark

await main('agents-real', async (startedAt) => {
  const runs = option('runs', 10);
  const warmup = option('warmup', 1);
  const containment = option('containment', 'auto');
  const eventFlushMs = option('event-flush-ms', '');
  const byHandContained = flag('by-hand-contained');
  const agents = option('agents', AGENTS.join(','))
    .split(',')
    .map((a) => a.trim()) as Agent[];
  for (const a of agents) {
    if (!AGENTS.includes(a))
      throw new Error(`--agents: unknown agent ${a} (have: ${AGENTS.join(', ')})`);
    if (!existsSync(join(BIN_DIR, a)))
      throw new Error(
        `${join(BIN_DIR, a)} is missing: run \`npm run test:agents-real\` once to install the pinned CLIs`,
      );
  }
  if (runs < 1 || runs > 100) throw new Error('--runs must be in [1, 100]');

  heading(
    `agents-real: ${agents.join(', ')} by hand vs through Patchbay, ${runs} interleaved pairs each (+${warmup} warm-up)`,
  );
  const claudeModel = await startAnthropicServer();
  const codexModel = await startScriptedOpenAi();
  const geminiModel = await startGeminiServer();
  const home = makeHome(codexModel.baseUrl);
  const serverEnv: Record<string, string> = {
    HOME: home,
    PATCHBAY_AGENT_CLAUDE_BIN: join(BIN_DIR, 'claude'),
    PATCHBAY_AGENT_CODEX_BIN: join(BIN_DIR, 'codex'),
    PATCHBAY_AGENT_GEMINI_BIN: join(BIN_DIR, 'gemini'),
    ANTHROPIC_BASE_URL: claudeModel.url,
    ANTHROPIC_API_KEY: 'sk-ant-scripted-bench-key',
    OPENAI_API_KEY: 'sk-scripted-bench',
    GEMINI_API_KEY: 'scripted-bench-key',
    GOOGLE_GEMINI_BASE_URL: geminiModel.url,
    PATCHBAY_RUN_CONTAINMENT: containment,
    ...(eventFlushMs ? { PATCHBAY_EVENT_FLUSH_MS: eventFlushMs } : {}),
  };
  const server = await startBenchServer(serverEnv);
  try {
    const config = loadConfig({
      env: serverProcessEnv({ ...serverEnv, PATCHBAY_DATA_DIR: server.dataDir }),
      cwd: server.dataDir,
    });
    // By-hand runs work in fresh directories beside the runs' own (workspaces/<run id>).
    const handRoot = join(config.workspaceRoots[0]!, 'by-hand');
    mkdirSync(handRoot, { recursive: true });

    // An experiment: the by-hand runs in the PID-namespace wrapper Patchbay's runs get.
    let wrapper: PidNamespace | undefined;
    if (byHandContained) {
      const probe = await probePidNamespace();
      if (!('prefix' in probe))
        throw new Error(`no PID namespace here: ${probe.reasons.join('; ')}`);
      wrapper = probe;
    }

    let n = 0;
    const script = (agent: Agent): string => {
      const answer = `Scripted answer ${++n}.`;
      const usage = { input: 100, output: 8 };
      if (agent === 'claude') claudeModel.script('bench', { kind: 'text', text: answer, usage });
      else if (agent === 'codex')
        codexModel.queue('bench', { kind: 'text', text: answer, usage: { ...usage, cached: 0 } });
      else geminiModel.script('bench', { text: answer, usage: { prompt: 100, candidates: 8 } });
      return answer;
    };
    const pending = (agent: Agent): number =>
      agent === 'claude'
        ? claudeModel.pending()
        : agent === 'codex'
          ? codexModel.pending()
          : geminiModel.pending();

    const hand = new Map<Agent, Sample[]>(agents.map((a) => [a, []]));
    const through = new Map<Agent, PatchbaySample[]>(agents.map((a) => [a, []]));
    const failures: string[] = [];
    const argvs: Record<string, string[]> = {};
    for (let i = 0; i < warmup + runs; i++) {
      const counted = i >= warmup;
      for (const agent of agents) {
        // Interleaved: by hand, then through Patchbay, then the next agent.
        let answer = script(agent);
        const { plan, env } = planFor(agent, config, PROMPT);
        argvs[agent] = plan.argv;
        if (wrapper) plan.argv = pidNamespaceArgv(wrapper, plan.argv);
        const cwd = mkdtempSync(join(handRoot, `${agent}-`));
        const a = await runByHand(agent, plan, env, cwd, answer);
        if (pending(agent) !== 0) a.ok = false;
        answer = script(agent);
        const b = await runThroughPatchbay(server.url, agent, answer);
        if (pending(agent) !== 0) b.ok = false;
        if (!a.ok) failures.push(`${agent} by hand #${i}: ${a.detail}`);
        if (!b.ok) failures.push(`${agent} patchbay #${i}: ${b.detail}`);
        process.stdout.write(
          `  ${counted ? `#${String(i - warmup + 1).padStart(2)}` : 'w-up'} ${agent.padEnd(6)} by hand first ${a.firstEventMs.toFixed(0).padStart(5)} wall ${a.wallMs.toFixed(0).padStart(5)} ms | Patchbay first ${b.firstEventMs.toFixed(0).padStart(5)} wall ${b.wallMs.toFixed(0).padStart(5)} ms${a.ok && b.ok ? '' : '  FAILED'}\n`,
        );
        if (counted) {
          hand.get(agent)!.push(a);
          through.get(agent)!.push(b);
        }
      }
    }

    const figures: Record<string, unknown> = {};
    const targets: Target[] = [];
    heading('results (ms; median, p90)');
    for (const agent of agents) {
      const h = hand.get(agent)!;
      const p = through.get(agent)!;
      const firstEvent = compare(
        h.map((s) => s.firstEventMs),
        p.map((s) => s.firstEventMs),
      );
      const wall = compare(
        h.map((s) => s.wallMs),
        p.map((s) => s.wallMs),
      );
      // Where the time goes: comparable stretches of both, then Patchbay's own parts.
      const stretches = {
        resultToExit: compare(
          h.map((s) => s.wallMs - s.resultMs),
          p.map((s) => s.wallMs - s.resultMs),
        ),
        firstEventToResult: compare(
          h.map((s) => s.resultMs - s.firstEventMs),
          p.map((s) => s.resultMs - s.firstEventMs),
        ),
      };
      const parts = {
        postAnsweredMs: stats(p.map((s) => s.postMs)),
        postToRunningMs: stats(p.map((s) => s.postToRunningMs)),
        runningToFirstEventMs: stats(p.map((s) => s.runningToFirstEventMs)),
        firstEventDeliveryMs: stats(p.map((s) => s.firstEventDeliveryMs)),
        resultToTerminalMs: stats(p.map((s) => s.resultToTerminalMs)),
        terminalDeliveryMs: stats(p.map((s) => s.terminalDeliveryMs)),
        firstEventTypes: [...new Set(p.map((s) => s.firstEventType))],
      };
      figures[agent] = {
        firstEvent,
        wall,
        ...stretches,
        patchbayParts: parts,
        argv: argvs[agent]!.slice(1),
      };
      const show = (c: Comparison): string =>
        `by hand ${c.byHand.p50} (p90 ${c.byHand.p90}), Patchbay ${c.patchbay.p50} (p90 ${c.patchbay.p90}): ${c.overheadMs >= 0 ? '+' : ''}${c.overheadMs} ms (${c.overheadPercent} %; paired ${c.pairedOverheadMs}), allowed ${c.allowedMs}`;
      line(`${agent} first event`, show(firstEvent));
      line(`${agent} wall`, show(wall));
      line(
        '  result → exit (p50)',
        `by hand ${stretches.resultToExit.byHand.p50}, Patchbay ${stretches.resultToExit.patchbay.p50}`,
      );
      line(
        '  Patchbay parts (p50)',
        `POST→running ${parts.postToRunningMs.p50}, running→first event ${parts.runningToFirstEventMs.p50} (by hand, spawn→first: ${firstEvent.byHand.p50}), delivery ${parts.firstEventDeliveryMs.p50}; result→terminal ${parts.resultToTerminalMs.p50}, delivery ${parts.terminalDeliveryMs.p50}`,
      );
      for (const [name, c] of [
        ['time to first event', firstEvent],
        ['wall time', wall],
      ] as const) {
        targets.push({
          name: `${agent}: ${name} added at the median`,
          target: `≤ max(${TARGET_MS} ms, ${TARGET_FRACTION * 100} % of by hand) = ${c.allowedMs} ms`,
          actual: c.overheadMs,
          unit: 'ms',
          pass: c.pass,
        });
      }
    }
    if (failures.length) line('failures', failures.slice(0, 6).join('; '));
    targets.push({
      name: 'every run answered with its own scripted text',
      target: `${2 * agents.length * (warmup + runs)} of ${2 * agents.length * (warmup + runs)}`,
      actual: `${2 * agents.length * (warmup + runs) - failures.length} of ${2 * agents.length * (warmup + runs)}`,
      pass: failures.length === 0,
    });
    figures.failures = failures;

    await server.stop();
    return writeResult(
      {
        benchmark: 'agents-real',
        description:
          'Real agent CLIs against scripted model servers: time to first event and wall time by hand vs through patchbay serve (POST → SSE), interleaved.',
        parameters: {
          runs,
          warmup,
          agents,
          prompt: PROMPT,
          reply: 'one short text answer (one model turn, no tools)',
          versions: { claude: '2.1.332', codex: '0.171.0', gemini: '0.61.0' },
          containment,
          byHandContained,
          eventFlushMs: eventFlushMs || 'default (5)',
          byHandCwd: 'a fresh empty directory under the server workspace root',
          patchbayRun:
            'POST /v1/runs {agent, prompt}: a fresh directory per run, agentPermissions edit',
        },
        figures,
        targets,
        notes: [
          'Medians average the middle two of an even count; p90 is nearest-rank. Times are from performance.now() in the load generator.',
          "By hand: argv, env and stdin from the adapter plan and the server's resolved config (src/agents, src/config), spawned without containment; first event = first stdout line, wall = spawn to close.",
          'Through Patchbay: POST sent to the first non-status, non-stderr event on an SSE stream (after=0) opened when the POST answered, and to the terminal status event.',
          "patchbayBreakdown uses the server clock (ms resolution): createdAt→startedAt, an event's ts→its arrival, finishedAt→the terminal event's arrival.",
        ],
      },
      startedAt,
    );
  } finally {
    await server.stop();
    await Promise.all([claudeModel.close(), codexModel.close(), geminiModel.close()]);
    if (!flag('keep-data')) rmSync(home, { recursive: true, force: true });
  }
});
