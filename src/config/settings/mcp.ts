/**
 * The MCP server (`patchbay mcp` over stdio, `/mcp` over Streamable HTTP): what its tools may
 * do and how long one call may wait for a run.
 */
import { z } from 'zod';
import { offByDefault, setting } from './spec.js';

/**
 * The longest a `wait_for_run` call holds before answering "still running": MCP clients
 * commonly give a tool call 60 s, so a call must answer well within that.
 */
export const MCP_MAX_WAIT_MS = 25_000;

export const mcpSettings = {
  mcpReadOnly: setting({
    key: 'mcpReadOnly',
    env: 'PATCHBAY_MCP_READ_ONLY',
    schema: offByDefault,
    defaultText: 'false',
    description:
      'Expose only the MCP tools that change nothing (get, list, wait, read events, diff, proposals); the others are not listed and cannot be called. `patchbay mcp --read-only` sets it for one stdio server.',
  }),
  mcpWaitLimitMs: setting({
    key: 'mcpWaitLimitMs',
    env: 'PATCHBAY_MCP_WAIT_LIMIT_MS',
    schema: z.coerce.number().int().min(1).max(MCP_MAX_WAIT_MS).default(MCP_MAX_WAIT_MS),
    defaultText: '25000',
    description:
      'How long one `wait_for_run` MCP call waits for the run to end before it answers with the run still running (call it again to keep waiting). At most 25000, so clients with a 60 s tool timeout never time out.',
  }),
};
