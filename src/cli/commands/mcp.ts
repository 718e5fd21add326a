import type { Command } from 'commander';
import type { McpBackend } from '../../mcp/index.js';
import { loadLocalMcpBackend, startServer } from '../../server/index.js';
import { createContext } from '../context.js';
import { out } from '../output.js';

/**
 * `patchbay mcp`: an MCP server on stdin/stdout for agents that drive Patchbay as a tool. With
 * a server named (PATCHBAY_URL / --url) it calls that server's API with the CLI's token;
 * without one it runs Patchbay inside this process on the data dir's store, as `patchbay run`
 * does, and keeps running the runs it started while the client stays connected.
 */
export function registerMcp(program: Command): void {
  program
    .command('mcp')
    .description('MCP server on stdio: lets agents (Claude Code, Cursor, …) start and watch runs')
    .option('--read-only', 'offer only the tools that change nothing (PATCHBAY_MCP_READ_ONLY)')
    .addHelpText(
      'after',
      '\nTalks to the server of --url (PATCHBAY_URL, with PATCHBAY_TOKEN) when one is named; otherwise runs embedded on the store of --data-dir (PATCHBAY_DATA_DIR).\nStdout carries the protocol; notes and logs go to stderr. docs/mcp.md shows how to add it to Claude Code, Cursor and other clients.\n\nExample (Claude Code):\n  claude mcp add patchbay -- patchbay mcp',
    )
    .action(async (opts: { readOnly?: boolean }, command: Command) => {
      // The MCP SDK loads with this command only, not with every other one.
      const { createMcpServer, remoteBackend, serveStdio } = await import('../../mcp/index.js');
      const ctx = createContext(command, opts.readOnly ? { mcpReadOnly: true } : {});
      // Stdout is the protocol: the logger writes to stderr, and only warnings by default.
      const log = ctx.logger(ctx.config.logLevel === 'info' ? 'warn' : ctx.config.logLevel);
      let backend: McpBackend;
      let close = async (): Promise<void> => undefined;
      if (ctx.explicitServer) {
        backend = remoteBackend(ctx.client);
        out.note(`MCP server on stdio for ${ctx.serverUrl}`);
      } else {
        const server = await startServer({
          config: ctx.config,
          log,
          version: ctx.version,
          listen: false,
          adoptQueuedRuns: false,
        });
        const token = ctx.config.token ?? ctx.config.apiTokens[0];
        backend = await loadLocalMcpBackend(server.app, server.engine, {
          authorization: token ? `Bearer ${token}` : undefined,
        });
        close = () => server.close();
        out.note(`MCP server on stdio (embedded, data: ${ctx.config.dataDir})`);
      }
      const mcp = createMcpServer({
        backend,
        version: ctx.version,
        readOnly: ctx.config.mcpReadOnly,
        waitLimitMs: ctx.config.mcpWaitLimitMs,
        log,
      });
      let closing: Promise<void> | undefined;
      const shutdown = (code: number): void => {
        closing ??= close()
          .catch((err: unknown) => log.error({ err }, 'MCP shutdown failed'))
          .finally(() => {
            log.flush();
            process.exit(code);
          });
      };
      process.once('SIGINT', () => shutdown(130));
      process.once('SIGTERM', () => shutdown(143));
      await serveStdio(mcp);
      shutdown(0);
    });
}
