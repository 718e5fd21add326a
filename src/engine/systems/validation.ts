import { getAgent } from '../../agents/index.js';
import { isPatchbayError, type GateResult, type ValidateMode } from '../../contracts/index.js';
import type { Logger } from '../../observability/index.js';
import type { RepoGate } from '../../optimizer/index.js';
import type { RunPatch, RunRecord } from '../../store/index.js';
import { restoreWorktree, snapshotWorktree, type GitOptions } from '../../workspaces/index.js';
import { fixPrompt, type FailedGate } from '../gate-report.js';
import { runGate, skippedGate } from '../gate-runner.js';
import { outcomeOf } from '../outcome.js';
import type { RunLauncher } from '../run-containment.js';
import type { FinishOutcome } from './finishing.js';
import type { AgentTurn, FollowUpTurn } from './process.js';
import { stopRequested, type ActiveRun, type EngineResources } from './resources.js';

/** Follow-up turns an agent gets to fix failing gates when neither request nor repo says. */
export const DEFAULT_MAX_FIX_ROUNDS = 2;

export interface ValidationResult {
  /** What is stored with the run's end: the mode, each gate's result, the fix rounds. */
  patch: RunPatch;
  /** Set when the run was stopped (cancel, shutdown, a fix turn's timeout): its outcome. */
  stopped?: FinishOutcome;
}

/** What validation needs of the run's agent: its session, and a way to give it another turn. */
export interface AgentSession {
  sessionId: string | null;
  followUp(turn: FollowUpTurn): Promise<AgentTurn>;
}

/**
 * Validation: after an agent run on a repository succeeded, its worktree is checked with the
 * repository's own install, build, typecheck, lint and tests (detected as the optimizer
 * detects them, `.patchbay.json` winning), each gate a process of the run (gate-runner.ts).
 * With `fix`, the failing gates' output goes back to the agent as a follow-up turn in its
 * session, up to `maxFixRounds`, and the gates run again after each. A failing gate never
 * fails the run: its result is recorded (`validation`) for whoever delivers it.
 */
export function createValidationSystem(
  res: EngineResources,
  deps: { launcher: RunLauncher; gitOptions: GitOptions },
) {
  const { writer } = res;

  /**
   * Runs one round of gates and then undoes what they did to files git does not ignore (a
   * lockfile an install rewrote, a build output missing from .gitignore): the run's diff and
   * commit, and the agent's next turn, see the agent's work only.
   */
  async function cleanRound(
    record: RunRecord,
    entry: ActiveRun,
    log: Logger,
    gates: RepoGate[],
    round: number,
  ): ReturnType<typeof runRound> {
    const workdir = record.workdir!;
    const before = await snapshotWorktree(workdir, deps.gitOptions).catch((err: unknown) => {
      log.warn({ err }, 'could not snapshot the worktree before the gates');
      return null;
    });
    const ran = await runRound(record, entry, log, gates, round);
    if (before) {
      try {
        const undone = await restoreWorktree(workdir, before, deps.gitOptions);
        if (undone.length > 0) log.info({ round, files: undone.length }, 'gate changes undone');
      } catch (err) {
        log.warn({ err }, 'could not undo what the gates changed in the worktree');
      }
    }
    return ran;
  }

  /** Agent runs on a repository are validated; commands in a directory and stages are not. */
  const applies = (record: RunRecord): boolean =>
    record.kind === 'agent' && record.repoId !== null && record.workdir !== null;

  /**
   * One round: every gate in order; after a failed install the rest cannot run. A stop
   * (cancel, shutdown, drain) or an interrupt skips the gates after the one it stopped.
   */
  async function runRound(
    record: RunRecord,
    entry: ActiveRun,
    log: Logger,
    gates: RepoGate[],
    round: number,
  ): Promise<{ results: GateResult[]; failed: FailedGate[] }> {
    const results: GateResult[] = [];
    const failed: FailedGate[] = [];
    let blocked = false;
    for (const gate of gates) {
      if (blocked || stopRequested(entry) || entry.interruptRequested) {
        results.push(skippedGate(res, record.id, gate, round));
        continue;
      }
      const ran = await runGate(res, deps.launcher, { record, entry, log, gate, round });
      results.push(ran.result);
      if (ran.result.status !== 'passed') {
        failed.push({ result: ran.result, output: ran.output });
        if (gate.gate === 'install') blocked = true;
      }
    }
    return { results, failed };
  }

  /** The gates and the repository's defaults; null (with an `error` event) when unreadable. */
  async function gatesOf(record: RunRecord, log: Logger) {
    try {
      // The optimizer's module graph (~180 KB of code) loads with the first validated run, not
      // at every start (docs/architecture.md, "Memory").
      const { detectGates } = await import('../../optimizer/index.js');
      return await detectGates(record.workdir!, log);
    } catch (err) {
      const code = isPatchbayError(err) ? err.code : 'INTERNAL_ERROR';
      const message = `validation skipped: ${(err as Error).message}`;
      writer.append(record.id, 'error', { code, message, severity: 'warning' });
      log.warn({ err }, 'could not detect the repository checks');
      return null;
    }
  }

  async function validate(
    record: RunRecord,
    entry: ActiveRun,
    log: Logger,
    session: AgentSession,
  ): Promise<ValidationResult> {
    if (!applies(record) || record.validateMode === 'off') {
      return { patch: applies(record) ? { validateMode: 'off' } : {} };
    }
    const detected = await gatesOf(record, log);
    if (!detected) return { patch: {} };
    const asked: ValidateMode = record.validateMode ?? detected.defaults.mode ?? 'report';
    if (asked === 'off') return { patch: { validateMode: 'off' } };
    // The request's `fix` was refused for such an agent; the repository's default reports.
    const canFix = asked === 'fix' && getAgent(record.agent).capabilities.resume;
    const mode: ValidateMode = canFix ? 'fix' : 'report';
    const maxRounds =
      record.maxFixRounds ?? detected.defaults.maxFixRounds ?? DEFAULT_MAX_FIX_ROUNDS;
    let round = 0;
    let fixRounds = 0;
    let sessionId = session.sessionId;
    for (;;) {
      const { results, failed } = await cleanRound(record, entry, log, detected.gates, round);
      const patch: RunPatch = { validateMode: mode, validation: results, fixRounds };
      // Stopped during the gates (or before them, once the agent was done): the run ends as a
      // stopped process would have, not `succeeded`.
      if (stopRequested(entry)) return { patch, stopped: stoppedOutcome(entry, record) };
      if (failed.length === 0 || !canFix || round >= maxRounds || entry.interruptRequested) {
        return { patch };
      }
      if (!sessionId) {
        writer.append(record.id, 'error', {
          code: 'AGENT_RESULT_ERROR',
          message:
            'validation: the agent reported no session to continue, so it cannot fix the failing gates',
          severity: 'warning',
        });
        return { patch };
      }
      round += 1;
      fixRounds = round;
      log.info({ round, failed: failed.map((f) => f.result.gate) }, 'validation fix round');
      const turn = await session.followUp({
        prompt: fixPrompt(failed, round, maxRounds),
        resumeSessionId: sessionId,
      });
      sessionId = turn.facts?.sessionId ?? sessionId;
      if (turn.outcome.status !== 'succeeded') {
        const roundPatch = { ...patch, fixRounds };
        // A stop (cancel, shutdown, a timeout) ends the run as it would have ended the agent;
        // a turn that failed on its own leaves the run as the gates before it left it.
        if (stopRequested(entry) || turn.outcome.status !== 'failed') {
          return { patch: roundPatch, stopped: turn.outcome };
        }
        writer.append(record.id, 'error', {
          code: turn.outcome.errorCode ?? 'AGENT_RESULT_ERROR',
          message: `validation: fix round ${round} failed: ${turn.outcome.errorMessage ?? 'the agent reported an error'}`,
          severity: 'warning',
        });
        return { patch: roundPatch };
      }
    }
  }

  return { validate };
}

/** How a run stopped between or during its gates ends: cancelled, or interrupted by a shutdown. */
function stoppedOutcome(entry: ActiveRun, record: RunRecord): FinishOutcome {
  const exit = {
    reason: 'cancelled' as const,
    exitCode: null,
    signal: null,
    outputBytes: 0,
    droppedBytes: 0,
    durationMs: 0,
  };
  return outcomeOf(exit, {
    shuttingDown: entry.shuttingDown,
    maxOutputBytes: record.maxOutputBytes,
  });
}

export type ValidationSystem = ReturnType<typeof createValidationSystem>;
