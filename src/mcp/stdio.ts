import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';

/**
 * Serves `mcp` on this process's stdin and stdout (nothing else may write to stdout: logs go
 * to stderr). Resolves when the client closes stdin, the way MCP clients end a stdio server.
 */
export async function serveStdio(mcp: McpServer): Promise<void> {
  const transport = new StdioServerTransport();
  const ended = new Promise<void>((resolve) => {
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
  });
  await mcp.connect(transport);
  await ended;
  await mcp.close();
}
