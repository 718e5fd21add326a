import { z } from 'zod';
import { CreateRunRequest, RunStatus } from '../../contracts/index.js';
import { defineTool } from './tool.js';

const RunId = z.string().min(1).max(100).describe('The run id (run_…).');
const ById = z.object({ id: RunId }).strict();

/** Start, find and steer runs. Waiting on a run and reading what it did are in watch.ts. */
export const runTools = [
  defineTool({
    name: 'start_run',
    title: 'Start a run',
    description:
      'Queues a run of a command (agent "shell", `command` as an argv) or of a coding agent (`agent` claude/cursor/codex/gemini/llm with a `prompt`), in `workdir`, a fresh worktree of a registered repository (`repo`), or a conversation. Answers at once with the queued run; follow it with wait_for_run and read_events.',
    input: CreateRunRequest.omit({ wait: true }),
    mutates: true,
    call: async (request, { backend }) => ({ ...(await backend.api.createRun(request)) }),
  }),
  defineTool({
    name: 'get_run',
    title: 'Get a run',
    description:
      "A run's current state: status, exit code, error code, timings, the agent's result text, usage and cost, its branch and commits for repository runs.",
    input: ById,
    mutates: false,
    call: async ({ id }, { backend }) => ({ ...(await backend.api.getRun(id)) }),
  }),
  defineTool({
    name: 'list_runs',
    title: 'List runs',
    description: 'Runs, newest first, optionally only those in some statuses; page with `cursor`.',
    input: z
      .object({
        status: z.array(RunStatus).max(10).optional().describe('Only runs in these statuses.'),
        limit: z.number().int().min(1).max(200).default(20),
        cursor: z.string().max(200).optional().describe('nextCursor of the previous page.'),
        parentId: z
          .string()
          .min(1)
          .max(100)
          .optional()
          .describe('Only the stage runs of this optimization.'),
      })
      .strict(),
    mutates: false,
    call: async (query, { backend }) => ({ ...(await backend.api.listRuns(query)) }),
  }),
  defineTool({
    name: 'cancel_run',
    title: 'Cancel a run',
    description:
      'Stops a run: SIGTERM to its process group, SIGKILL after the grace; a queued run is cancelled at once. Answers with the run.',
    input: ById,
    mutates: true,
    hints: { destructive: true, idempotent: true },
    call: async ({ id }, { backend }) => ({ ...(await backend.api.cancelRun(id)) }),
  }),
  defineTool({
    name: 'pause_run',
    title: 'Pause a run',
    description: "Suspends a running run's processes (SIGSTOP) until resume_run.",
    input: ById,
    mutates: true,
    hints: { idempotent: true },
    call: async ({ id }, { backend }) => ({ ...(await backend.api.pauseRun(id)) }),
  }),
  defineTool({
    name: 'resume_run',
    title: 'Resume a run',
    description: 'Lets a paused run go on (SIGCONT).',
    input: ById,
    mutates: true,
    hints: { idempotent: true },
    call: async ({ id }, { backend }) => ({ ...(await backend.api.resumeRun(id)) }),
  }),
  defineTool({
    name: 'interrupt_run',
    title: "Interrupt an agent's turn",
    description:
      "Ends a coding agent's current turn and keeps its session: the run ends cancelled with AGENT_TURN_INTERRUPTED and its sessionId can be resumed (start_run with resumeSessionId, or send_message in its conversation).",
    input: ById,
    mutates: true,
    hints: { destructive: true, idempotent: true },
    call: async ({ id }, { backend }) => ({ ...(await backend.api.interruptRun(id)) }),
  }),
];
