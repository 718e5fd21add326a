import type { TerminalStatus } from '../../contracts/index.js';
import type { Logger } from '../../observability/index.js';
import type { RunRecord } from '../../store/index.js';

/**
 * Something done because a run reached a state, durably: decided in the same transaction as
 * the run's end (the outbox), done by whichever process takes it, exactly once per (reaction,
 * run) once it succeeds, retried with backoff otherwise, every try recorded. One file each.
 */
export interface Reaction {
  /** Stable: stored with every row (`callback`, `pull-request`, …). */
  readonly name: string;
  /** Whether a run that just ended with `status` gets this reaction. */
  appliesTo(record: RunRecord, status: TerminalStatus): boolean;
  /**
   * Does it. Resolving is success; throwing fails this try: retried after backoff while
   * tries remain, unless the error is a ReactionGaveUp. `signal` aborts when the process
   * stops: give up quickly, the reaction is tried again elsewhere.
   */
  perform(context: ReactionContext): Promise<void>;
  /** Tries before the reaction fails for good. */
  readonly maxAttempts: number;
  /** Wait before try n+1: backoffMs × 2^(n−1). */
  readonly backoffMs: number;
}

export interface ReactionContext {
  /** The run as stored now (ended). */
  record: RunRecord;
  /** 1 for the first try; a try after a crash counts as a new one. */
  attempt: number;
  signal: AbortSignal;
  log: Logger;
}

/** Thrown by a reaction that must not be tried again (a refused target, a 4xx). */
export class ReactionGaveUp extends Error {
  override readonly name = 'ReactionGaveUp';
}
