import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  type CallToolResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { isPatchbayError, PatchbayError } from '../contracts/index.js';
import type { Logger } from '../observability/index.js';
import type { McpBackend } from './backend.js';
import { registerRunResources } from './resources.js';
import {
  createToolRegistry,
  inputJsonSchema,
  parseArguments,
  patchbayTools,
  type ToolContext,
  type ToolDefinition,
} from './tools/index.js';

export interface McpServerOptions {
  backend: McpBackend;
  /** Patchbay's version, told to the client at initialize. */
  version: string;
  /** Offer only the tools that change nothing (PATCHBAY_MCP_READ_ONLY). */
  readOnly: boolean;
  /** The longest one wait_for_run call holds (PATCHBAY_MCP_WAIT_LIMIT_MS). */
  waitLimitMs: number;
  log: Logger;
  /** Default: every Patchbay tool (`patchbayTools`). */
  tools?: readonly ToolDefinition[];
}

const INSTRUCTIONS =
  'Patchbay runs commands and coding agents on workspaces and records everything they do. start_run (or send_message, start_optimization) answers at once with a queued run; wait_for_run waits at most ~25 s per call and says `done: false` while it still runs; read_events and get_diff show what it did. Errors carry a stable code (e.g. RUN_NOT_FOUND) in structuredContent.error.code.';

/** tools/list entries, built once per tool: `/mcp` makes a server per request. */
const listings = new WeakMap<ToolDefinition, Tool>();

function listing(tool: ToolDefinition): Tool {
  let entry = listings.get(tool);
  if (!entry) {
    entry = describeTool(tool);
    listings.set(tool, entry);
  }
  return entry;
}

function describeTool(tool: ToolDefinition): Tool {
  return {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    inputSchema: inputJsonSchema(tool.input),
    annotations: {
      title: tool.title,
      readOnlyHint: !tool.mutates,
      destructiveHint: tool.mutates ? (tool.hints?.destructive ?? false) : false,
      idempotentHint: !tool.mutates || (tool.hints?.idempotent ?? false),
      openWorldHint: false,
    },
  };
}

/** A tool's failure as a tool result (isError), so the model sees the code and can act on it. */
function toolError(err: PatchbayError): CallToolResult {
  return {
    isError: true,
    content: [{ type: 'text', text: `${err.code}: ${err.message}` }],
    structuredContent: {
      error: {
        code: err.code,
        message: err.message,
        ...(err.details === undefined ? {} : { details: err.details }),
      },
    },
  };
}

/**
 * Patchbay's MCP server: the tools of the registry (`tools/`) and the run resources, over
 * whatever transport the caller connects it to (stdio in `patchbay mcp`, Streamable HTTP at
 * `/mcp`). Tools are served by our own handlers, not the SDK's `registerTool`, so that unknown
 * tools, read-only refusals and bad arguments answer with Patchbay's stable error codes.
 */
export function createMcpServer(options: McpServerOptions): McpServer {
  const { backend, log } = options;
  const mcp = new McpServer(
    { name: 'patchbay', title: 'Patchbay', version: options.version },
    { capabilities: { tools: {} }, instructions: INSTRUCTIONS },
  );
  const registry = createToolRegistry(options.tools ?? patchbayTools, {
    readOnly: options.readOnly,
  });
  const listed = registry.list().map(listing);

  mcp.server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: listed }));
  mcp.server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const { name } = request.params;
    const token = extra._meta?.progressToken;
    const ctx: ToolContext = {
      backend,
      waitLimitMs: options.waitLimitMs,
      signal: extra.signal,
      progress: async (progress, message) => {
        if (token === undefined || extra.signal.aborted) return;
        await extra
          .sendNotification({
            method: 'notifications/progress',
            params: { progressToken: token, progress, message },
          })
          .catch((err: unknown) => log.debug({ err, tool: name }, 'progress not sent'));
      },
    };
    try {
      const tool = registry.get(name);
      const args = parseArguments(tool.input, request.params.arguments);
      const value = await tool.call(args, ctx);
      return {
        content: [{ type: 'text', text: JSON.stringify(value) }],
        structuredContent: value,
      } satisfies CallToolResult;
    } catch (err) {
      if (isPatchbayError(err)) return toolError(err);
      log.error({ err, tool: name }, 'MCP tool failed');
      return toolError(new PatchbayError('INTERNAL_ERROR', undefined, undefined, { cause: err }));
    }
  });
  registerRunResources(mcp, backend);
  return mcp;
}
