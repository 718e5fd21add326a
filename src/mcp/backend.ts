import { createClient, type PatchbayClient } from '../client/index.js';
import type { RunEvent } from '../contracts/index.js';

/** The calls of Patchbay's HTTP API that MCP tools and resources make. */
export type McpApi = Pick<
  PatchbayClient,
  | 'createRun'
  | 'getRun'
  | 'listRuns'
  | 'listEvents'
  | 'getRunDiff'
  | 'getChangedFiles'
  | 'cancelRun'
  | 'pauseRun'
  | 'resumeRun'
  | 'interruptRun'
  | 'createConversation'
  | 'postMessage'
  | 'listRepos'
  | 'createRepo'
  | 'optimize'
  | 'listProposals'
>;

/**
 * What the MCP server stands on. Every tool goes through Patchbay's HTTP API (`api`), so auth,
 * rate limits, budgets and validation are the API's own, whether the API is a remote server
 * (`patchbay mcp` with PATCHBAY_URL) or the one in this process (`/mcp`, and `patchbay mcp`
 * embedded, which call their own routes without a socket).
 */
export interface McpBackend {
  api: McpApi;
  /**
   * A run's events after `after` as they happen; ends after its terminal status event, or
   * when `signal` aborts (then it may throw an AbortError).
   */
  follow(runId: string, after: number, signal: AbortSignal): AsyncIterable<RunEvent>;
}

/** A backend on a Patchbay server reached over the network: SSE follows the events. */
export function remoteBackend(client: PatchbayClient): McpBackend {
  return {
    api: client,
    follow: (runId, after, signal) =>
      client.streamEvents(runId, { after, signal, reconnect: true }),
  };
}

/**
 * A backend on the API of this very process: `fetch` answers without a socket (Fastify's
 * inject), and `follow` reads the engine's event cursor, since inject cannot stream.
 */
export function localBackend(options: {
  fetch: typeof fetch;
  follow: McpBackend['follow'];
}): McpBackend {
  return {
    api: createClient({ baseUrl: 'http://localhost', fetch: options.fetch }),
    follow: options.follow,
  };
}
