import { runChildEnv, stageProcessEnv } from '../../config/index.js';
import { getAgent, StderrTail, type LaunchPlan } from '../../agents/index.js';
import { loadPty, supervise } from '../../exec/index.js';
import type { Logger } from '../../observability/index.js';
import { toRun, type RunRecord } from '../../store/index.js';
import { createAgentStream } from '../agent-stream.js';
import { createStageParser, stageArgv, stageOf, storeStageOutputs } from '../optimizations.js';
import { explainAgentExit, outcomeOf } from '../outcome.js';
import type { createRunLauncher } from '../run-containment.js';
import type { createRunWorkspaces } from '../run-workspaces.js';
import { usageShare } from '../usage-share.js';
import type { FinishingSystem } from './finishing.js';
import { agentContext, stopRequested, type ActiveRun, type EngineResources } from './resources.js';

/**
 * A claimed run's process, from spawn to its end: the launch plan (the agent's argv, or an
 * optimizer stage), the environment (clean base, the agent's credentials, the run's own env),
 * containment, the supervisor with its limits, output into events (through the agent's parser
 * when it has one), then the outcome and what the agent reported, stored by finishing.
 */
export function createProcessRunner(
  res: EngineResources,
  deps: {
    workspaces: ReturnType<typeof createRunWorkspaces>;
    launcher: ReturnType<typeof createRunLauncher>;
    finishing: FinishingSystem;
  },
) {
  const { config, store, writer, tracing, metrics } = res;
  const { launcher, finishing, workspaces } = deps;

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

  return async function runProcess(
    record: RunRecord,
    entry: ActiveRun,
    log: Logger,
  ): Promise<void> {
    const runId = record.id;
    const adapter = getAgent(record.agent);
    const stage = stageOf(record);
    const plan: LaunchPlan = stage
      ? { argv: stageArgv(record), stdin: 'ignore' }
      : adapter.plan(record, agentContext(config, record.env));
    const parser = stage ? createStageParser() : adapter.createParser?.();
    const pty = record.pty ? await loadPty() : undefined;
    if (record.pty && !pty) {
      await finishing.finalize(runId, {
        status: 'failed',
        errorCode: 'PTY_UNAVAILABLE',
        errorMessage: 'node-pty is not installed on this server',
      });
      return;
    }
    let lastDropped = 0;
    let markResult = (): void => undefined;
    // A coding agent's stderr end: its own words when it exits without a result.
    const stderrTail = !stage && record.agent !== 'shell' ? new StderrTail() : undefined;
    const agentStream = parser
      ? createAgentStream(
          parser,
          (event) => writer.append(runId, event.type, event.data, event.raw),
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
    if (proc.pid !== undefined) {
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
    if (entry.requeueRequested && !entry.cancelRequested) {
      await finishing.requeueRun(record.id, `the worker on ${res.owner.hostname} was drained`);
      return;
    }
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
    const changes = record.baseCommit ? await workspaces.recordChanges(record, log) : {};
    if (stage) await storeStageArtifacts(record, log);
    // A CLI that reports for its whole session: this run's share against the run it resumed.
    const previous =
      facts?.usageScope === 'session' && record.resumeSessionId
        ? await store.runs.lastOfSession(record.agent, record.resumeSessionId, runId)
        : undefined;
    await finishing.finalize(runId, { ...outcome, retryAfterMs }, exit, {
      ...changes,
      ...(facts && {
        sessionId: facts.sessionId ?? null,
        resultText: facts.resultText ?? null,
        ...usageShare(facts, previous),
        numTurns: facts.numTurns ?? null,
        permissionDenials: facts.permissionDenials ?? [],
        ...(facts.model ? { model: facts.model } : {}),
      }),
    });
  };
}
