import { z } from 'zod';
import {
  isTerminalStatus,
  type Run,
  type RunEvent,
  type RunStatus,
} from '../../contracts/index.js';
import { defineTool, type ToolContext } from './tool.js';

const RunId = z.string().min(1).max(100).describe('The run id (run_…).');

/** At most one progress notification per this while output streams; status changes always. */
const PROGRESS_INTERVAL_MS = 250;

/** One line saying what an event is, for a progress notification. */
function describeEvent(event: RunEvent): string {
  const d = event.data;
  const text = (v: unknown): string =>
    String(v ?? '')
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, 120);
  switch (event.type) {
    case 'status':
      return `status: ${String(d.status)}`;
    case 'output':
      return `${String(d.stream)}: ${text(d.text)}`;
    case 'message':
      return `message: ${text(d.text)}`;
    case 'tool_call':
      return `tool: ${text(d.name)}`;
    case 'progress':
      return `${String(d.stage)}: ${text(d.message)}`;
    default:
      return event.type;
  }
}

/**
 * Waits until the run ends or `limitMs` passes, whichever is first, telling the client about
 * each event on the way (throttled). Never holds longer than the limit, so a client with a
 * 60 s tool timeout can wait on a run of any length by calling again.
 */
async function waitForRun(id: string, limitMs: number, ctx: ToolContext) {
  const started = Date.now();
  const { api } = ctx.backend;
  let run: Run = await api.getRun(id);
  if (!isTerminalStatus(run.status as RunStatus)) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), Math.max(0, limitMs - (Date.now() - started)));
    const cancel = (): void => abort.abort();
    ctx.signal.addEventListener('abort', cancel, { once: true });
    await ctx.progress(run.lastSeq, `waiting: the run is ${run.status}`);
    let sentAt = Date.now();
    let lastSent = run.lastSeq;
    let endSent = false;
    try {
      for await (const event of ctx.backend.follow(id, run.lastSeq, abort.signal)) {
        const now = Date.now();
        if (event.type === 'status' || now - sentAt >= PROGRESS_INTERVAL_MS) {
          sentAt = now;
          lastSent = event.seq;
          await ctx.progress(event.seq, describeEvent(event));
          endSent ||= event.type === 'status' && isTerminalStatus(event.data.status as RunStatus);
        }
      }
    } catch (err) {
      if (!abort.signal.aborted) throw err;
    } finally {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', cancel);
    }
    run = await api.getRun(id);
    // The run ended between the limit and this read: the client still hears how it ended.
    if (isTerminalStatus(run.status as RunStatus) && !endSent) {
      await ctx.progress(Math.max(run.lastSeq, lastSent + 1), `status: ${run.status}`);
    }
  }
  const done = isTerminalStatus(run.status as RunStatus);
  const waitedMs = Date.now() - started;
  return {
    done,
    status: run.status,
    waitedMs,
    ...(done
      ? {}
      : {
          message: `still ${run.status} after ${waitedMs} ms: call wait_for_run again to keep waiting`,
        }),
    run,
  };
}

/** Wait for runs and read what they did. */
export const watchTools = [
  defineTool({
    name: 'wait_for_run',
    title: 'Wait for a run to end',
    description:
      'Waits until the run ends, at most `timeoutMs` (capped at the server limit, 25 s by default), and answers with the run: `done: true` once it has ended, else `done: false` with the run still running (call again to keep waiting). Sends progress notifications for the run events meanwhile when the call carries a progressToken.',
    input: z
      .object({
        id: RunId,
        timeoutMs: z
          .number()
          .int()
          .min(0)
          .optional()
          .describe('How long this call may wait (default and maximum: the server limit).'),
      })
      .strict(),
    mutates: false,
    call: ({ id, timeoutMs }, ctx) =>
      waitForRun(id, Math.min(timeoutMs ?? ctx.waitLimitMs, ctx.waitLimitMs), ctx),
  }),
  defineTool({
    name: 'read_events',
    title: "Read a run's events",
    description:
      "A page of the run's events in order (status, output, message, tool_call, tool_result, usage, result, error, dropped, progress, artifact): pass `lastSeq` back as `after` for the next page; `done` is true once the run has ended and nothing follows.",
    input: z
      .object({
        id: RunId,
        after: z.number().int().min(0).default(0).describe('Events after this seq.'),
        limit: z.number().int().min(1).max(1000).default(100),
        includeRaw: z
          .boolean()
          .default(false)
          .describe("Keep each event's raw line from the agent's CLI."),
      })
      .strict(),
    mutates: false,
    async call({ id, after, limit, includeRaw }, { backend }) {
      const page = await backend.api.listEvents(id, after, limit);
      const events = includeRaw ? page.events : page.events.map(({ raw: _raw, ...e }) => e);
      return { ...page, events };
    },
  }),
  defineTool({
    name: 'get_diff',
    title: "Get a repository run's diff",
    description:
      'The unified diff of what a repository run changed against its base commit, and the changed files with their line counts. RUN_DIFF_NOT_AVAILABLE for a run without a repository.',
    input: z
      .object({
        id: RunId,
        maxBytes: z
          .number()
          .int()
          .min(1)
          .max(10_000_000)
          .default(200_000)
          .describe('Longest diff text returned; a longer one is cut and `truncated` is true.'),
      })
      .strict(),
    mutates: false,
    async call({ id, maxBytes }, { backend }) {
      const diff = await backend.api.getRunDiff(id);
      const { files } = await backend.api.getChangedFiles(id);
      const bytes = Buffer.byteLength(diff);
      const truncated = bytes > maxBytes;
      return {
        files,
        bytes,
        truncated,
        diff: truncated ? Buffer.from(diff).subarray(0, maxBytes).toString('utf8') : diff,
      };
    },
  }),
];
