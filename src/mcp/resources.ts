import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import {
  isPatchbayError,
  isTerminalStatus,
  PatchbayError,
  type RunEvent,
  type RunStatus,
} from '../contracts/index.js';
import type { McpBackend } from './backend.js';

/** Events one read of `patchbay://runs/{id}/events` returns at most; read_events pages further. */
const MAX_RESOURCE_EVENTS = 5000;
/** Runs resources/list names (newest first). */
const LISTED_RUNS = 20;
/** MCP's code for a resource that does not exist. */
const RESOURCE_NOT_FOUND = -32002;

/**
 * A failed resource read, answered as a JSON-RPC error: the SDK sends an error's `code`, its
 * `message` and its `data` as they are. (Its own McpError would prefix the message, and the
 * client's prefixes it again.)
 */
class ResourceReadError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data: { code: string; details?: unknown },
  ) {
    super(message);
  }
}

/** A resource read's failure as a JSON-RPC error carrying Patchbay's code in `data.code`. */
function resourceError(err: unknown): ResourceReadError {
  const pe = isPatchbayError(err)
    ? err
    : new PatchbayError('INTERNAL_ERROR', (err as Error).message);
  const rpcCode = pe.code.endsWith('_NOT_FOUND')
    ? RESOURCE_NOT_FOUND
    : pe.kind === 'user'
      ? ErrorCode.InvalidParams
      : ErrorCode.InternalError;
  return new ResourceReadError(rpcCode, `${pe.code}: ${pe.message}`, {
    code: pe.code,
    ...(pe.details === undefined ? {} : { details: pe.details }),
  });
}

function runIdOf(variables: Record<string, string | string[]>): string {
  const id = variables.id;
  const value = Array.isArray(id) ? id[0] : id;
  if (!value || !/^[A-Za-z0-9_-]{1,100}$/.test(value)) {
    throw new PatchbayError('MCP_RESOURCE_NOT_FOUND', `no run ${JSON.stringify(value ?? '')}`);
  }
  return value;
}

const json = (uri: URL, value: unknown) => ({
  contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(value) }],
});

/** The run's stored events from the start, up to MAX_RESOURCE_EVENTS. */
async function readEvents(backend: McpBackend, runId: string) {
  const events: Omit<RunEvent, 'raw'>[] = [];
  let after = 0;
  let done = false;
  while (events.length < MAX_RESOURCE_EVENTS) {
    const page = await backend.api.listEvents(
      runId,
      after,
      Math.min(1000, MAX_RESOURCE_EVENTS - events.length),
    );
    for (const { raw: _raw, ...event } of page.events) events.push(event);
    after = page.lastSeq;
    done = page.done;
    if (done || page.events.length === 0) break;
  }
  return { runId, events, lastSeq: after, done, truncated: !done && events.length > 0 };
}

/** What a run came to: how it ended, what it said, what it cost, what it changed. */
async function readSummary(backend: McpBackend, runId: string) {
  const run = await backend.api.getRun(runId);
  const ended = isTerminalStatus(run.status as RunStatus);
  const files =
    ended && run.branch
      ? await backend.api.getChangedFiles(runId).then(
          (r) => r.files,
          () => null,
        )
      : null;
  return {
    id: run.id,
    status: run.status,
    ended,
    agent: run.agent,
    kind: run.kind,
    command: run.command,
    prompt: run.prompt,
    exitCode: run.exitCode,
    signal: run.signal,
    error: run.error,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    durationMs: run.durationMs,
    resultText: run.resultText,
    sessionId: run.sessionId,
    model: run.model,
    usage: run.usage,
    costUsd: run.costUsd,
    numTurns: run.numTurns,
    outputBytes: run.outputBytes,
    droppedBytes: run.droppedBytes,
    lastSeq: run.lastSeq,
    repoId: run.repoId,
    branch: run.branch,
    baseCommit: run.baseCommit,
    headCommit: run.headCommit,
    permissionDenials: run.permissionDenials,
    changedFiles: files,
  };
}

/**
 * `patchbay://runs/{id}/events` (the event log) and `patchbay://runs/{id}/summary` (how it
 * ended), as resource templates; resources/list names the latest runs' summaries.
 */
export function registerRunResources(mcp: McpServer, backend: McpBackend): void {
  mcp.registerResource(
    'run-events',
    new ResourceTemplate('patchbay://runs/{id}/events', { list: undefined }),
    {
      title: "A run's event log",
      description: `The run's events in order, as JSON (at most ${MAX_RESOURCE_EVENTS}; the read_events tool pages through more).`,
      mimeType: 'application/json',
    },
    async (uri, variables) => {
      try {
        return json(uri, await readEvents(backend, runIdOf(variables)));
      } catch (err) {
        throw resourceError(err);
      }
    },
  );
  mcp.registerResource(
    'run-summary',
    new ResourceTemplate('patchbay://runs/{id}/summary', {
      list: async () => {
        const { runs } = await backend.api.listRuns({ limit: LISTED_RUNS });
        return {
          resources: runs.map((run) => ({
            uri: `patchbay://runs/${run.id}/summary`,
            name: `${run.id} (${run.status})`,
            mimeType: 'application/json',
          })),
        };
      },
    }),
    {
      title: "A run's summary",
      description:
        'How the run ended (status, exit code, error code), what the agent answered, its usage and cost, and for repository runs its branch, commits and changed files; as JSON.',
      mimeType: 'application/json',
    },
    async (uri, variables) => {
      try {
        return json(uri, await readSummary(backend, runIdOf(variables)));
      } catch (err) {
        throw resourceError(err);
      }
    },
  );
}
