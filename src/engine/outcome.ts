import type { ErrorCode, RunStatus } from '../contracts/index.js';
import { assertNever, errorCatalog } from '../contracts/index.js';
import type { AgentAdapter, AgentFacts, ExitFacts } from '../agents/index.js';
import type { ExitInfo } from '../exec/index.js';

export interface RunOutcome {
  status: RunStatus;
  errorCode: ErrorCode | null;
  errorMessage: string | null;
}

function fail(status: RunStatus, code: ErrorCode, message?: string): RunOutcome {
  return { status, errorCode: code, errorMessage: message ?? errorCatalog[code].message };
}

/**
 * Maps how a process ended to the run's final status. A timeout is never a success, and a
 * run stopped because its server shut down is `interrupted`, not `cancelled`.
 */
export function outcomeOf(
  exit: ExitInfo,
  options: {
    shuttingDown: boolean;
    maxOutputBytes: number;
    agent?: AgentFacts | undefined;
    interrupted?: boolean;
  },
): RunOutcome {
  const agent = options.agent;
  // A turn ended on request: not a failure, and the session stays resumable. An agent that
  // ends its turn itself on a control request reports it as an error result; one whose
  // successful result came before the interrupt landed simply succeeded.
  if (
    options.interrupted &&
    (!agent?.finished || agent.isError) &&
    (exit.reason === 'exited' || exit.reason === 'cancelled')
  ) {
    return fail('cancelled', 'AGENT_TURN_INTERRUPTED');
  }
  // An agent's own verdict decides how a run that ended by itself (or hung after its result)
  // went; timeouts, caps and cancels keep their meaning.
  if (agent?.finished && (exit.reason === 'exited' || exit.reason === 'result_grace')) {
    if (!agent.isError) return { status: 'succeeded', errorCode: null, errorMessage: null };
    return fail('failed', agent.errorCode ?? 'AGENT_RESULT_ERROR', agent.errorMessage);
  }
  if (agent?.isError && exit.reason === 'exited') {
    return fail('failed', agent.errorCode ?? 'AGENT_RESULT_ERROR', agent.errorMessage);
  }
  switch (exit.reason) {
    case 'exited':
      if (exit.exitCode === 0) return { status: 'succeeded', errorCode: null, errorMessage: null };
      if (exit.exitCode !== null) {
        return fail('failed', 'RUN_EXIT_NONZERO', `the command exited with code ${exit.exitCode}`);
      }
      return fail(
        'failed',
        'RUN_KILLED_BY_SIGNAL',
        `the command was killed by ${exit.signal ?? 'a signal'}`,
      );
    case 'spawn_failed':
      return fail(
        'failed',
        'RUN_SPAWN_FAILED',
        `the command could not be started: ${exit.error ?? 'unknown error'}`,
      );
    case 'timeout':
      return fail('timed_out', 'RUN_TIMEOUT');
    case 'idle_timeout':
      return fail('timed_out', 'RUN_IDLE_TIMEOUT');
    case 'result_grace':
      return fail('timed_out', 'RUN_RESULT_GRACE_EXCEEDED');
    case 'output_limit':
      return fail(
        'failed',
        'OUTPUT_LIMIT_EXCEEDED',
        `the run printed more than ${options.maxOutputBytes} bytes and the output policy is kill`,
      );
    case 'cancelled':
      return options.shuttingDown
        ? fail('interrupted', 'RUN_INTERRUPTED')
        : fail('cancelled', 'RUN_CANCELLED');
    default:
      return assertNever(exit.reason, 'exit reason');
  }
}

/**
 * A coding agent's CLI that exited non-zero without a result: its own words, not only a
 * code. Its adapter may recognise the failure (an untrusted directory, a missing key);
 * otherwise a CLI that stopped before its stream began failed to set up
 * (AGENT_SETUP_FAILED), and one that stopped later keeps RUN_EXIT_NONZERO; either way the
 * message ends with the CLI's last meaningful stderr line.
 */
export function explainAgentExit(
  outcome: RunOutcome,
  exit: ExitFacts,
  options: {
    agent: string;
    facts: AgentFacts | undefined;
    stderr: string[];
    classify?: AgentAdapter['classifyExit'];
  },
): RunOutcome {
  if (outcome.errorCode !== 'RUN_EXIT_NONZERO') return outcome;
  const last = options.stderr.at(-1);
  const classified = options.classify?.(exit, options.stderr);
  if (classified) return fail('failed', classified.code, classified.message ?? last);
  if (!last) return outcome;
  if (options.facts?.sessionId === undefined) {
    return fail(
      'failed',
      'AGENT_SETUP_FAILED',
      `the ${options.agent} CLI exited with code ${exit.exitCode} before its turn began: ${last}`,
    );
  }
  return { ...outcome, errorMessage: `${outcome.errorMessage}: ${last}` };
}
