import { getAgent, StderrTail, type AgentFacts, type LaunchPlan } from '../../agents/index.js';
import { llmChildEnv, runChildEnv, stageProcessEnv } from '../../config/index.js';
import { loadPty, supervise, type ExitInfo } from '../../exec/index.js';
import type { Logger } from '../../observability/index.js';
import { isPatchbayError } from '../../contracts/index.js';
import { toRun, type RunPatch, type RunRecord } from '../../store/index.js';
import {
  createRunLedgerWriter,
  loadSessionMessages,
  storeSessionMessages,
} from '../agent-sessions.js';
import { createAgentStream } from '../agent-stream.js';
import {
  createStageParser,
  LLM_FLAG,
  stageArgv,
  stageOf,
  storeStageOutputs,
} from '../optimizations.js';
import { explainAgentExit, outcomeOf } from '../outcome.js';
import type { createRunLauncher } from '../run-containment.js';
import type { createRunWorkspaces } from '../run-workspaces.js';
import { usageShare, type UsageShare } from '../usage-share.js';
import type { FinishingSystem, FinishOutcome } from './finishing.js';
import { agentContext, stopRequested, type ActiveRun, type EngineResources } from './resources.js';
import type { ValidationSystem } from './validation.js';

/** One process of a run (the agent's turn, or a follow-up turn) and how it ended. */
export interface AgentTurn {
  exit: ExitInfo;
  outcome: FinishOutcome;
  facts: AgentFacts | undefined;
  /** Its usage and cost (its share, for a CLI that reports for its whole session). */
  share: UsageShare;
}

/** What every turn of a run shares: the ledger's writer, the transcript it resumed. */
interface TurnShared {
  ledger: ReturnType<typeof createRunLedgerWriter>;
  sessionMessages?: unknown[];
}

/** A turn after the first: the prompt it gets and the session it continues. */
export interface FollowUpTurn {
  prompt: string;
  resumeSessionId: string;
}

/**
 * A claimed run's process, from spawn to its end: the launch plan (the agent's argv, or an
 * optimizer stage), the environment (clean base, the agent's credentials, the run's own env),
 * containment, the supervisor with its limits, output into events (through the agent's parser
 * when it has one), then the outcome. A succeeded repository run is validated (validation.ts,
 * which may give the agent follow-up turns through `runTurn`); what changed, what the agent
 * reported and the gates are then stored by finishing.
 */
export function createProcessRunner(
  res: EngineResources,
  deps: {
    workspaces: ReturnType<typeof createRunWorkspaces>;
    launcher: ReturnType<typeof createRunLauncher>;
    finishing: FinishingSystem;
    validation: ValidationSystem;
  },
) {
  const { config, store, writer, tracing, metrics } = res;
  const { launcher, finishing, workspaces, validation } = deps;

  /**
   * A stage's files, stored before its end is (a client that saw the end can fetch them), each
   * announced by an `artifact` event. A failure to store them is logged, not the run's failure.
   */
  async function storeStageArtifacts(record: RunRecord, log: Logger): Promise<void> {
    try {
      const stored = await storeStageOutputs(record, { store, dataDir: config.dataDir });
      for (const a of stored) {
        writer.append(record.id, 'artifact', { id: a.id, name: a.name, bytes: a.bytes });
      }
    } catch (err) {
      log.error({ err }, 'could not store the stage artifacts');
    }
  }

  /**
   * An optimizer stage: this installation's `optimize-stage`. With the model on (`llm: true`)
   * its model settings, keys included, go in on stdin: never in argv or the env its children
   * (the repository's own commands) inherit.
   */
  function stagePlan(record: RunRecord): LaunchPlan {
    const argv = stageArgv(record);
    if (!argv.includes(LLM_FLAG)) return { argv, stdin: 'ignore' };
    return { argv, stdin: 'pipe', input: `${JSON.stringify({ settings: llmChildEnv(config) })}\n` };
  }

  /** The session's transcript, stored before the run's end (a resume may follow at once). */
  async function storeSession(
    record: RunRecord,
    name: string,
    messages: unknown[],
    log: Logger,
  ): Promise<void> {
    try {
      const a = await storeSessionMessages(
        { store, dataDir: config.dataDir },
        record,
        name,
        messages,
      );
      writer.append(record.id, 'artifact', a);
    } catch (err) {
      log.error({ err }, 'could not store the session transcript');
    }
  }

  /**
   * One process of the run to its end. The first announces the run as started; a follow-up
   * turn runs the same agent on its prompt, continuing its session, in the same workspace.
   */
  async function runTurn(
    record: RunRecord,
    entry: ActiveRun,
    log: Logger,
    pty: Awaited<ReturnType<typeof loadPty>> | undefined,
    previous: Pick<RunRecord, 'sessionUsage' | 'sessionCostUsd'> | undefined,
    shared: TurnShared,
    followUp?: FollowUpTurn,
  ): Promise<AgentTurn> {
    const runId = record.id;
    const adapter = getAgent(record.agent);
    const stage = stageOf(record);
    const turnRecord = followUp ? { ...record, ...followUp } : record;
    const plan: LaunchPlan = stage
      ? stagePlan(record)
      : adapter.plan(
          {
            ...turnRecord,
            ...(shared.sessionMessages && { sessionMessages: shared.sessionMessages }),
            ...(record.repoId && {
              repo: {
                id: record.repoId,
                llm: (await store.repos.get(record.repoId))?.llm ?? null,
              },
            }),
          },
          agentContext(config, record.env),
        );
    const parser = stage ? createStageParser() : adapter.createParser?.();
    let lastDropped = 0;
    let markResult = (): void => undefined;
    // A coding agent's stderr end: its own words when it exits without a result.
    const stderrTail = !stage && record.agent !== 'shell' ? new StderrTail() : undefined;
    const agentStream = parser
      ? createAgentStream(
          parser,
          (event) => {
            writer.append(runId, event.type, event.data, event.raw);
            if (event.llmCall) shared.ledger.write(event.llmCall);
          },
          // The agent reported its final result: from now on the post-result grace runs.
          () => markResult(),
        )
      : undefined;
    // The adapter's headless defaults, under the clean base; an agent's provider credentials
    // (PATCHBAY_AGENT_CREDENTIALS) sit between the base and the run's own env, which wins;
    // shell runs and optimizer stages never get them.
    const credentials =
      !stage && record.agent in config.agentCredentialValues
        ? config.agentCredentialValues[record.agent as keyof typeof config.agentCredentialValues]
        : {};
    // A stage also carries the allowlist, so its own steps get this very base (child-env.ts).
    const layers = { defaults: plan.env, credentials, own: record.env };
    const env = stage ? stageProcessEnv(config, layers) : runChildEnv(config, layers);
    const { argv, wrapped } = await launcher.argvFor(record, plan.argv, env, adapter);
    const procSpan = tracing.startSpan('agent.process', {
      attributes: { 'patchbay.run.id': runId, 'process.executable.name': plan.argv[0]! },
    });
    const proc = supervise(
      { argv, cwd: record.workdir!, env, stdin: plan.stdin, pty: pty ?? undefined, wrapped },
      {
        timeoutMs: record.timeoutMs,
        idleTimeoutMs: record.idleTimeoutMs,
        resultGraceMs: config.resultGraceMs,
        killGraceMs: config.killGraceMs,
        maxOutputBytes: record.maxOutputBytes,
        outputPolicy: record.outputPolicy,
        tailBytes: config.outputTailBytes,
        dropRateBytesPerSecond: config.outputDropRate,
      },
      {
        output(stream, text, tail) {
          if (stream === 'stderr') {
            stderrTail?.push(text);
            agentStream?.pushStderr(text);
          }
          if (agentStream && stream === 'stdout') agentStream.push(text, tail);
          else
            writer.append(runId, 'output', tail ? { stream, text, tail: true } : { stream, text });
        },
        dropped(droppedBytes, final) {
          metrics.droppedBytes.inc(droppedBytes - lastDropped);
          lastDropped = droppedBytes;
          writer.append(runId, 'dropped', { reason: 'output_limit', droppedBytes, final });
        },
        get saturated() {
          return writer.saturated;
        },
        onDrain: (cb) => writer.onDrain(cb),
      },
      log,
    );
    entry.proc = proc;
    entry.softInterrupt = undefined;
    const stdin = plan.stdin === 'pipe' ? proc.stdin : null;
    if (stdin) {
      // A CLI that exits before reading its input (or after the interrupt) must not crash us.
      stdin.on('error', (err: Error) => log.debug({ err }, 'agent stdin closed early'));
      if (plan.input) stdin.write(plan.input);
      const interruptInput = plan.interruptInput;
      if (interruptInput) {
        entry.softInterrupt = () => {
          if (stdin.writableEnded || stdin.destroyed) return false;
          stdin.write(interruptInput());
          return true;
        };
      }
    }
    markResult = () => {
      proc.markResult();
      // The agent answered: with stdin closed it has nothing more to wait for, and exits.
      stdin?.end();
    };
    if (proc.pid !== undefined && followUp) {
      await store.runs.update(runId, { pid: proc.pid, pgid: proc.pgid! });
      if (stopRequested(entry)) proc.cancel();
    } else if (proc.pid !== undefined) {
      await res.withRunLock(runId, async () => {
        await store.runs.update(runId, { pid: proc.pid!, pgid: proc.pgid! });
        const stopping = stopRequested(entry) || entry.interruptRequested;
        const paused = entry.pausePending === true && !stopping && proc.pause();
        if (entry.pausePending && !paused) {
          await store.runs.transition(runId, ['paused'], { status: 'running' });
        }
        writer.append(runId, 'status', { status: paused ? 'paused' : 'running', pid: proc.pid });
      });
      log.info({ pid: proc.pid, argv0: plan.argv[0] }, 'run started');
      const started = await store.runs.get(runId);
      if (started) res.events.emit('runStarted', { run: toRun(started) });
      if (stopRequested(entry)) proc.cancel();
      // Interrupted before it existed: the agent never saw its turn, so no control request.
      else if (entry.interruptRequested) proc.interrupt();
      procSpan.setAttribute('process.pid', proc.pid);
    }
    const exit = await proc.exited;
    if (exit.exitCode !== null) procSpan.setAttribute('process.exit.code', exit.exitCode);
    if (exit.signal !== null) procSpan.setAttribute('process.exit.signal', exit.signal);
    procSpan.end();
    agentStream?.end();
    const facts = parser?.facts;
    const outcome = explainAgentExit(
      outcomeOf(exit, {
        shuttingDown: entry.shuttingDown,
        interrupted: entry.interruptRequested,
        maxOutputBytes: record.maxOutputBytes,
        agent: facts,
      }),
      exit,
      {
        agent: record.agent,
        facts,
        stderr: stderrTail?.lines() ?? [],
        ...(adapter.classifyExit ? { classify: adapter.classifyExit } : {}),
      },
    );
    // A rate limit says when to try again, when the provider said.
    const retryAfterMs =
      outcome.errorCode === 'AGENT_RATE_LIMITED' && facts?.retryAfterMs !== undefined
        ? Math.round(facts.retryAfterMs)
        : undefined;
    const share = facts
      ? usageShare(facts, previous)
      : { usage: null, costUsd: null, sessionUsage: null, sessionCostUsd: null };
    return { exit, outcome: { ...outcome, retryAfterMs }, facts, share };
  }

  return async function runProcess(
    record: RunRecord,
    entry: ActiveRun,
    log: Logger,
  ): Promise<void> {
    const runId = record.id;
    const pty = record.pty ? await loadPty() : undefined;
    if (record.pty && !pty) {
      await finishing.finalize(runId, {
        status: 'failed',
        errorCode: 'PTY_UNAVAILABLE',
        errorMessage: 'node-pty is not installed on this server',
      });
      return;
    }
    const stage = stageOf(record);
    // A CLI that reports for its whole session: this run's share against the run it resumed.
    const resumed = record.resumeSessionId
      ? await store.runs.lastOfSession(record.agent, record.resumeSessionId, runId)
      : undefined;
    // An agent whose session the server keeps gets its transcript back when resuming.
    const sessionArtifact = stage ? undefined : getAgent(record.agent).sessionArtifact;
    let sessionMessages: unknown[] | undefined;
    if (sessionArtifact && record.resumeSessionId) {
      try {
        sessionMessages = await loadSessionMessages(
          { store, dataDir: config.dataDir },
          record,
          sessionArtifact,
        );
      } catch (err) {
        if (!isPatchbayError(err)) throw err;
        await finishing.finalize(runId, {
          status: 'failed',
          errorCode: err.code,
          errorMessage: err.message,
        });
        return;
      }
    }
    const ledger = createRunLedgerWriter(store, record, log);
    const shared: TurnShared = { ledger, ...(sessionMessages ? { sessionMessages } : {}) };
    const first = await runTurn(record, entry, log, pty ?? undefined, resumed, shared);
    const turns = [first];
    let outcome = first.outcome;
    let validated: RunPatch = {};
    if (!entry.requeueRequested && first.outcome.status === 'succeeded') {
      const result = await validation.validate(record, entry, log, {
        sessionId: first.facts?.sessionId ?? null,
        followUp: async (turn) => {
          const before = turns.at(-1)!.share;
          const next = await runTurn(record, entry, log, pty ?? undefined, before, shared, turn);
          turns.push(next);
          return next;
        },
      });
      if (result.stopped) outcome = result.stopped;
      validated = result.patch;
    }
    if (entry.requeueRequested && !entry.cancelRequested) {
      await finishing.requeueRun(record.id, `the worker on ${res.owner.hostname} was drained`);
      return;
    }
    const changes = record.baseCommit ? await workspaces.recordChanges(record, log) : {};
    if (stage) await storeStageArtifacts(record, log);
    await ledger.flushed();
    // Whenever the run named its session, even with nothing new: the session's last run is
    // where the next resume looks.
    const facts = turns.at(-1)!.facts;
    if (sessionArtifact && facts?.sessionId) {
      const messages = [...(sessionMessages ?? []), ...(facts.sessionMessages ?? [])];
      await storeSession(record, sessionArtifact, messages, log);
    }
    await finishing.finalize(runId, outcome, summedExit(turns), {
      ...changes,
      ...validated,
      ...reportedFacts(turns),
    });
  };
}

/** The run's exit as finishing records it: the last process's code, every turn's output. */
function summedExit(turns: AgentTurn[]): ExitInfo {
  return {
    ...turns.at(-1)!.exit,
    outputBytes: turns.reduce((n, t) => n + t.exit.outputBytes, 0),
    droppedBytes: turns.reduce((n, t) => n + t.exit.droppedBytes, 0),
  };
}

/** What the agent reported over its turns: the last answer and session, the summed usage. */
function reportedFacts(turns: AgentTurn[]): RunPatch {
  const withFacts = turns.filter((t) => t.facts !== undefined);
  if (withFacts.length === 0) return {};
  const lastWith = <K extends keyof AgentFacts>(key: K): AgentFacts[K] | undefined =>
    withFacts.map((t) => t.facts![key]).findLast((v) => v !== undefined);
  const shares = withFacts.map((t) => t.share);
  const usages = shares.map((s) => s.usage).filter((u) => u !== null);
  const costs = shares.map((s) => s.costUsd).filter((c) => c !== null);
  const turnsCounted = withFacts.map((t) => t.facts!.numTurns).filter((n) => n !== undefined);
  const model = lastWith('model');
  return {
    sessionId: lastWith('sessionId') ?? null,
    resultText: lastWith('resultText') ?? null,
    usage:
      usages.length === 0
        ? null
        : usages.reduce((a, u) => ({
            input: a.input + u.input,
            output: a.output + u.output,
            cacheRead: a.cacheRead + u.cacheRead,
            cacheWrite: a.cacheWrite + u.cacheWrite,
          })),
    costUsd: costs.length === 0 ? null : costs.reduce((a, c) => a + c, 0),
    sessionUsage: shares.at(-1)!.sessionUsage,
    sessionCostUsd: shares.at(-1)!.sessionCostUsd,
    numTurns: turnsCounted.length === 0 ? null : turnsCounted.reduce((a, n) => a + n, 0),
    permissionDenials: withFacts.flatMap((t) => t.facts!.permissionDenials ?? []),
    ...(model ? { model } : {}),
  };
}
