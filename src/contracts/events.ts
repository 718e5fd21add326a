import { z } from 'zod';
import { GateName, GateStatus, RunError, RunStatus } from './runs.js';

/** Normalized event types: one schema for every agent (ARCHITECTURE.md). */
export const RunEventType = z.enum([
  'status',
  'output',
  'message',
  'thinking',
  'tool_call',
  'tool_result',
  'usage',
  'result',
  'error',
  'dropped',
  'progress',
  'artifact',
  'gate',
]);
export type RunEventType = z.infer<typeof RunEventType>;

export const StatusEventData = z.object({
  status: RunStatus,
  exitCode: z.number().int().nullable().optional(),
  signal: z.string().nullable().optional(),
  error: RunError.nullable().optional(),
  pid: z.number().int().nullable().optional(),
  /** On `queued` after a lost worker or a drain: the attempt it waits for, and why. */
  attempt: z.number().int().optional(),
  reason: RunError.optional(),
});
export type StatusEventData = z.infer<typeof StatusEventData>;

export const OutputEventData = z.object({
  stream: z.enum(['stdout', 'stderr', 'pty']),
  text: z.string(),
  /** Set on output flushed from the tail buffer after a truncation. */
  tail: z.boolean().optional(),
  /** Output of a validation gate (not of the agent): its name. */
  gate: GateName.optional(),
});
export type OutputEventData = z.infer<typeof OutputEventData>;

export const DroppedEventData = z.object({
  reason: z.enum(['output_limit']),
  /** Bytes dropped since the run started (cumulative, so a missed event loses nothing). */
  droppedBytes: z.number().int(),
  final: z.boolean().optional(),
});
export type DroppedEventData = z.infer<typeof DroppedEventData>;

/** An optimizer stage's progress: candidate k of n, elapsed, the estimate of what is left. */
export const ProgressEventData = z.object({
  stage: z.string(),
  message: z.string(),
  candidate: z.object({ index: z.number().int(), total: z.number().int() }).optional(),
  elapsedMs: z.number(),
  etaMs: z.number().optional(),
});
export type ProgressEventData = z.infer<typeof ProgressEventData>;

/** A file the run produced, stored and downloadable at `GET /v1/artifacts/:id`. */
export const ArtifactEventData = z.object({
  id: z.string(),
  name: z.string(),
  bytes: z.number().int(),
});
export type ArtifactEventData = z.infer<typeof ArtifactEventData>;

/**
 * A validation gate started (`phase: started`) or ended (`finished`, with its status, exit
 * code, duration and the artifact id of its log). `round` 0 follows the agent's own turn.
 */
export const GateEventData = z.object({
  gate: GateName,
  command: z.string(),
  round: z.number().int(),
  phase: z.enum(['started', 'finished']),
  status: GateStatus.optional(),
  exitCode: z.number().int().nullable().optional(),
  durationMs: z.number().int().optional(),
  logArtifact: z.string().nullable().optional(),
});
export type GateEventData = z.infer<typeof GateEventData>;

/** A stored event. `seq` starts at 1 per run and is the SSE id. */
export const RunEvent = z.object({
  runId: z.string(),
  seq: z.number().int().positive(),
  type: RunEventType,
  ts: z.string(),
  data: z.record(z.string(), z.unknown()),
  raw: z.string().nullable().optional(),
});
export type RunEvent = z.infer<typeof RunEvent>;

export const RunEventList = z.object({
  events: z.array(RunEvent),
  /** Seq of the last event returned, or `after` when none: pass it back as `after`. */
  lastSeq: z.number().int(),
  /** True when the run is over and no event follows `lastSeq`. */
  done: z.boolean(),
});
export type RunEventList = z.infer<typeof RunEventList>;

export const ListEventsQuery = z
  .object({
    after: z.coerce.number().int().min(0).default(0),
    limit: z.coerce.number().int().min(1).max(5000).default(1000),
  })
  .strict();
export type ListEventsQuery = z.infer<typeof ListEventsQuery>;
