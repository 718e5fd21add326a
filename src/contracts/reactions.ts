import { z } from 'zod';

/** One try of a reaction. */
export const ReactionAttempt = z.object({
  attempt: z.number().int(),
  outcome: z.enum(['succeeded', 'retrying', 'failed']),
  error: z.string().nullable(),
  startedAt: z.string(),
  finishedAt: z.string(),
});

/**
 * Something done because the run reached a state (its callback, …), decided when the run
 * ended and done once, whichever process does it: `pending` (waiting for its first or next
 * try), `running`, `succeeded` or `failed` (gave up).
 */
export const RunReaction = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(['pending', 'running', 'succeeded', 'failed']),
  attempts: z.array(ReactionAttempt),
  lastError: z.string().nullable(),
  /** A pending retry: not before this time. */
  nextAttemptAt: z.string().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
});
export type RunReaction = z.infer<typeof RunReaction>;

export const RunReactionList = z.object({ reactions: z.array(RunReaction) });
export type RunReactionList = z.infer<typeof RunReactionList>;
