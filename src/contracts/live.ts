/**
 * `GET /v1/events`: the server's stream of what happens to runs (the engine's domain events),
 * so a page listing runs follows their status without polling. Server-sent events only.
 */
import { z } from 'zod';
import { Run } from './runs.js';

export const LiveEventType = z.enum([
  'runCreated',
  'runStarted',
  'runPaused',
  'runResumed',
  'runRequeued',
  'runFinished',
  'proposalCreated',
]);
export type LiveEventType = z.infer<typeof LiveEventType>;

/** The `data` of each SSE message named after its `type` (`event: runFinished`). */
export const LiveEvent = z.object({
  type: LiveEventType,
  /** When this process announced it (ISO 8601). */
  at: z.string(),
  /** The run as stored after the transition (for proposalCreated: the propose stage's run). */
  run: Run,
  /** runRequeued: why it was queued again. */
  reason: z.string().optional(),
  /** proposalCreated: the optimization whose proposals are stored. */
  optimizationId: z.string().optional(),
});
export type LiveEvent = z.infer<typeof LiveEvent>;

/** The `data` of the `ready` message each stream starts with. */
export const LiveStreamReady = z.object({
  /**
   * Whether this stream carries every run's transitions. True on one server, and with
   * PATCHBAY_QUEUE_URL too (every process relays its transitions over Redis); false only for a
   * feed without that relay, whose client should then also re-read what it shows now and then.
   */
  complete: z.boolean(),
});
export type LiveStreamReady = z.infer<typeof LiveStreamReady>;

const idFilter = (what: string) => z.string().min(1).max(100).optional().describe(what);

export const LiveEventsQuery = z
  .object({
    types: z
      .preprocess(
        (v) => (v === undefined ? undefined : [v].flat().flatMap((s) => String(s).split(','))),
        z.array(LiveEventType).min(1).optional(),
      )
      .describe('Only these event types (a comma list or repeated parameter).'),
    runId: idFilter('Only events of this run.'),
    parentId: idFilter("Only events of this run's children (an optimization's stages)."),
    conversationId: idFilter('Only events of the runs of this conversation.'),
    repoId: idFilter('Only events of the runs of this repository.'),
  })
  .strict();
export type LiveEventsQuery = z.infer<typeof LiveEventsQuery>;
