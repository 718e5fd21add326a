/**
 * Compatibility layers: the HTTP API of cursor-runner and the WebSocket protocol of
 * cc_executor, for clients of those services that keep working unchanged (docs/compat.md).
 */
import { z } from 'zod';
import { ConversationAgent } from '../../contracts/index.js';
import { durationMs, list, offByDefault, setting } from './spec.js';

/** The layers `PATCHBAY_COMPAT` can turn on. */
export const CompatLayer = z.enum(['cursor-runner', 'cc-executor']);
export type CompatLayer = z.infer<typeof CompatLayer>;

export const compatSettings = {
  compat: setting({
    key: 'compat',
    env: 'PATCHBAY_COMPAT',
    schema: list.pipe(z.array(CompatLayer)).default([]),
    defaultText: '(none)',
    description:
      'Comma-separated compatibility layers to serve: `cursor-runner` (its HTTP API) and `cc-executor` (its WebSocket JSON-RPC at /ws/mcp and /ws, /healthz and its REST layer). Each obeys the tokens, origin guard, allow-list, trusted roots, budgets and limits. See docs/compat.md.',
  }),
  ccExecutorHeartbeatMs: setting({
    key: 'ccExecutorHeartbeatMs',
    env: 'PATCHBAY_CC_EXECUTOR_HEARTBEAT_MS',
    schema: durationMs.default(30_000),
    defaultText: '30000',
    description:
      'cc-executor layer: how often a `ping` notification goes to each WebSocket session; a session that answers none for two intervals is closed.',
  }),
  cursorRunnerRepositoriesPath: setting({
    key: 'cursorRunnerRepositoriesPath',
    env: 'PATCHBAY_CURSOR_RUNNER_REPOSITORIES_PATH',
    schema: z.string().min(1).optional(),
    defaultText: '(unset: only registered repositories)',
    description:
      "cursor-runner's REPOSITORIES_PATH: a request's `repository` names a registered repository (name or id) or a directory here; the agent then works in that directory. Must be inside a trusted root (PATCHBAY_WORKSPACE_ROOTS).",
  }),
  cursorRunnerAgent: setting({
    key: 'cursorRunnerAgent',
    env: 'PATCHBAY_CURSOR_RUNNER_AGENT',
    schema: ConversationAgent.default('cursor'),
    defaultText: 'cursor',
    description:
      'The agent that runs cursor-runner requests (`cursor`, `claude`, `codex` or `gemini`).',
  }),
  cursorRunnerWebhookSecret: setting({
    key: 'cursorRunnerWebhookSecret',
    env: 'PATCHBAY_CURSOR_RUNNER_WEBHOOK_SECRET',
    schema: z.string().min(1).optional(),
    defaultText: '(unset: the /cursor routes are open, as in cursor-runner)',
    description:
      "cursor-runner's WEBHOOK_SECRET. When set, every /cursor/* request must carry it (`X-Webhook-Secret`, `X-Cursor-Runner-Secret` or `?secret=`); with PATCHBAY_API_TOKENS it also stands in for the bearer token on the cursor-runner routes. Sent with callbacks whose URL has no `?secret=`.",
    secret: true,
  }),
  cursorRunnerTaskOperator: setting({
    key: 'cursorRunnerTaskOperator',
    env: 'PATCHBAY_CURSOR_RUNNER_TASK_OPERATOR',
    schema: offByDefault,
    defaultText: 'false',
    description:
      'Run the task operator: ready tasks (`/api/tasks`, status 0) are run one at a time, lowest `order` first, and marked complete (1), or backlogged (3) when their run fails.',
  }),
  cursorRunnerTaskPollMs: setting({
    key: 'cursorRunnerTaskPollMs',
    env: 'PATCHBAY_CURSOR_RUNNER_TASK_POLL_MS',
    schema: durationMs.default(2000),
    defaultText: '2000',
    description: 'How often the task operator looks for a ready task while idle.',
  }),
};
