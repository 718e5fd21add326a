import { z } from 'zod';

/**
 * The task inbox's API shapes: tasks (normalised from connector items, scored, triaged), the
 * graph of how they relate, and connectors. See docs/inbox.md.
 */

export const InboxConnectorKind = z.enum(['gmail', 'jira', 'github', 'drive']);
export type InboxConnectorKind = z.infer<typeof InboxConnectorKind>;

export const Horizon = z.enum(['today', 'week', 'month']);
export type Horizon = z.infer<typeof Horizon>;

export const TaskState = z.enum(['todo', 'accepted', 'snoozed', 'duplicate', 'declined', 'done']);
export type TaskState = z.infer<typeof TaskState>;

export const TaskPerson = z.object({
  role: z.string(),
  name: z.string().optional(),
  email: z.string().optional(),
  handle: z.string().optional(),
  isUser: z.boolean().optional(),
});
export type TaskPerson = z.infer<typeof TaskPerson>;

/** What a score was made of: each signal's value and the points it gave. */
export const ScoreInputs = z.object({
  /** Days until due (negative: overdue); null without a due date. */
  dueInDays: z.number().nullable(),
  priority: z.string().nullable(),
  asksUser: z.boolean(),
  waitingOnUser: z.boolean(),
  /** The sender's learned affinity (0 when unknown) and who the sender is. */
  sender: z.string().nullable(),
  senderAffinity: z.number(),
  /** Days since the source last changed. */
  ageDays: z.number(),
  /** Tasks that point at this one (mentions, issue links). */
  blocks: z.number().int(),
  source: z.string(),
  sourcePrior: z.number(),
  /** Points per signal; `score` is their sum. */
  points: z.record(z.string(), z.number()),
});
export type ScoreInputs = z.infer<typeof ScoreInputs>;

export const TaskSource = z.object({
  kind: InboxConnectorKind,
  ref: z.string(),
  url: z.string().nullable(),
  title: z.string(),
  removed: z.boolean(),
  updatedAt: z.string(),
});
export type TaskSource = z.infer<typeof TaskSource>;

export const InboxTask = z.object({
  id: z.string(),
  kind: InboxConnectorKind,
  sourceRef: z.string(),
  url: z.string().nullable(),
  title: z.string(),
  snippet: z.string(),
  people: z.array(TaskPerson),
  labels: z.array(z.string()),
  dueAt: z.string().nullable(),
  priority: z.string().nullable(),
  asksUser: z.boolean(),
  waitingOnUser: z.boolean(),
  sourceCreatedAt: z.string(),
  sourceUpdatedAt: z.string(),
  score: z.number(),
  scoreInputs: ScoreInputs,
  /** The horizon the signals propose, and the user's override (null: none). */
  horizonProposed: Horizon,
  horizonOverride: Horizon.nullable(),
  horizon: Horizon,
  state: TaskState,
  snoozedUntil: z.string().nullable(),
  duplicateOf: z.string().nullable(),
  /** A possible duplicate below the automatic merge threshold, for the user to decide. */
  suggestedDuplicateOf: z.string().nullable(),
  suggestedSimilarity: z.number().nullable(),
  archived: z.boolean(),
  runId: z.string().nullable(),
  prUrl: z.string().nullable(),
  doneAt: z.string().nullable(),
  /**
   * The optional LLM pass's suggestion (PATCHBAY_INBOX_LLM): a short summary and up to 3
   * labels, apart from the source's own `labels`. Shown only: never an input to the score.
   */
  aiSummary: z.string().nullable(),
  aiLabels: z.array(z.string()),
  /** `provider:model` that wrote them; null when none did. */
  aiModel: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type InboxTask = z.infer<typeof InboxTask>;

export const TaskAuditEvent = z.object({
  id: z.string(),
  action: z.string(),
  fromState: z.string().nullable(),
  toState: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()).nullable(),
  at: z.string(),
});
export type TaskAuditEvent = z.infer<typeof TaskAuditEvent>;

export const TaskMerge = z.object({
  id: z.string(),
  intoTaskId: z.string(),
  fromTaskId: z.string(),
  method: z.enum(['identifier', 'similarity', 'manual']),
  similarity: z.number().nullable(),
  createdAt: z.string(),
  undoneAt: z.string().nullable(),
});
export type TaskMerge = z.infer<typeof TaskMerge>;

export const TaskDetail = InboxTask.extend({
  sources: z.array(TaskSource),
  audit: z.array(TaskAuditEvent),
  merges: z.array(TaskMerge),
});
export type TaskDetail = z.infer<typeof TaskDetail>;

export const ListTasksQuery = z.object({
  horizon: z.enum(['today', 'week', 'month', 'past7d']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(3),
  state: TaskState.optional(),
  /** `sources`: each task carries its source links (one query for the page, not one per task). */
  include: z
    .enum(['sources'])
    .optional()
    .describe('`sources`: each task carries its source links, as `GET /v1/tasks/:id` has them'),
});
export type ListTasksQuery = z.input<typeof ListTasksQuery>;

/** A task of a list; `sources` only with `?include=sources`. */
export const TaskListItem = InboxTask.extend({ sources: z.array(TaskSource).optional() });
export type TaskListItem = z.infer<typeof TaskListItem>;

export const TaskList = z.object({ tasks: z.array(TaskListItem) });
export type TaskList = z.infer<typeof TaskList>;

export const TaskIdParams = z.object({ id: z.string().min(1).max(100) });

export const SnoozeRequest = z
  .object({
    until: z.iso.datetime({ offset: true }).describe('Back in the inbox at this time.'),
  })
  .strict();
export const DuplicateRequest = z
  .object({ of: z.string().min(1).max(100).describe('The task this one duplicates.') })
  .strict();
export const HorizonRequest = z
  .object({ horizon: Horizon.nullable().describe('null: back to the proposed horizon.') })
  .strict();

/** Body of `POST /v1/tasks/:id/run`: a run request whose prompt is built from the task. */
export const TaskRunRequest = z
  .object({
    agent: z.string().min(1).max(50),
    repo: z.string().min(1).max(100).optional(),
    ref: z.string().min(1).max(200).optional(),
    model: z.string().min(1).max(200).optional(),
    deliver: z.enum(['none', 'branch', 'draft_pr', 'pr']).optional(),
    /** Extra instructions appended to the prompt built from the task. */
    instructions: z.string().max(20_000).optional(),
    completeOnSuccess: z
      .boolean()
      .optional()
      .describe('Mark the task done when the run succeeds (default false).'),
  })
  .strict();
export type TaskRunRequest = z.input<typeof TaskRunRequest>;

export const GraphNode = z.object({
  id: z.string(),
  title: z.string(),
  kind: InboxConnectorKind,
  state: TaskState,
  lane: z.enum(['past7d', 'today', 'week', 'month']),
  score: z.number(),
  at: z.string(),
});
export const GraphEdge = z.object({
  from: z.string(),
  to: z.string(),
  kind: z.enum(['reply', 'issue_link', 'mention', 'temporal']),
});
export const TaskGraph = z.object({ nodes: z.array(GraphNode), edges: z.array(GraphEdge) });
export type TaskGraph = z.infer<typeof TaskGraph>;

export const GraphQuery = z.object({
  window: z.enum(['week', 'month']).default('month'),
  kind: InboxConnectorKind.optional(),
  state: TaskState.optional(),
});
export const GraphFilters = z.object({
  kinds: z.array(InboxConnectorKind),
  states: z.array(TaskState),
  lanes: z.array(z.enum(['past7d', 'today', 'week', 'month'])),
  edgeKinds: z.array(z.enum(['reply', 'issue_link', 'mention', 'temporal'])),
  labels: z.array(z.string()),
});

export const ConnectorStatus = z.enum(['connected', 'error', 'disconnected']);
export const InboxConnector = z.object({
  kind: InboxConnectorKind,
  status: ConnectorStatus,
  message: z.string().nullable(),
  configured: z.boolean(),
  lastSyncAt: z.string().nullable(),
  nextSyncAt: z.string().nullable(),
  blockedUntil: z.string().nullable(),
});
export type InboxConnector = z.infer<typeof InboxConnector>;
export const ConnectorList = z.object({ connectors: z.array(InboxConnector) });
export const ConnectorKindParams = z.object({ kind: InboxConnectorKind });
export const ConnectResult = z.object({ authorizeUrl: z.string() });
export const ConnectTokenRequest = z
  .object({ token: z.string().min(1).max(1000).describe('GitHub only: a token instead of OAuth.') })
  .strict();
export const ConnectorTestStep = z.object({
  kind: InboxConnectorKind,
  step: z.enum(['auth', 'scopes', 'call', 'cursor']),
  ok: z.boolean(),
  detail: z.string(),
});
export const ConnectorTestResult = z.object({
  kind: InboxConnectorKind,
  ok: z.boolean(),
  steps: z.array(ConnectorTestStep),
});
export const SyncReport = z.object({
  kind: InboxConnectorKind,
  items: z.number().int(),
  created: z.number().int(),
  updated: z.number().int(),
  merged: z.number().int(),
  archived: z.number().int(),
  rebackfilled: z.boolean(),
});
export type SyncReport = z.infer<typeof SyncReport>;
export const SeedResult = z.object({ tasks: z.number().int(), connectors: z.number().int() });
