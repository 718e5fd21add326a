export { localBackend, remoteBackend, type McpApi, type McpBackend } from './backend.js';
export { createMcpServer, type McpServerOptions } from './server.js';
export { serveStdio } from './stdio.js';
export {
  createToolRegistry,
  defineTool,
  patchbayTools,
  type ToolContext,
  type ToolDefinition,
  type ToolRegistry,
} from './tools/index.js';
