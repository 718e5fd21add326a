import { conversationTools } from './conversations.js';
import { optimizerTools } from './optimizer.js';
import { repoTools } from './repos.js';
import { runTools } from './runs.js';
import type { ToolDefinition } from './tool.js';
import { watchTools } from './watch.js';

/**
 * Every tool Patchbay's MCP server offers, in the order tools/list shows them. A new area adds
 * its tools as one file beside these (a `defineTool` list) and one entry here; mark each that
 * can change anything `mutates: true`, and read-only mode leaves it out.
 */
export const patchbayTools: readonly ToolDefinition[] = [
  ...runTools,
  ...watchTools,
  ...conversationTools,
  ...repoTools,
  ...optimizerTools,
];

export {
  createToolRegistry,
  defineTool,
  inputJsonSchema,
  parseArguments,
  type ToolContext,
  type ToolDefinition,
  type ToolHints,
  type ToolRegistry,
} from './tool.js';
