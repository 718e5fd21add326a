import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Command } from 'commander';
import { startServer } from '../../server/index.js';
import { createContext } from '../context.js';
import { out } from '../output.js';

/**
 * One full garbage collection once the server is up. Loading the module graph and compiling
 * the route schemas leaves ~15 MB of garbage in the old generation that V8 would otherwise
 * keep (and count in RSS) until the next major GC, which on an idle server may never come.
 */
function releaseBootGarbage(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (() => void) | undefined;
  gc?.();
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Run the API, the event streams and the worker in one process')
    .option('--host <host>', 'address to bind (PATCHBAY_HOST)')
    .option('--port <port>', 'port to listen on (PATCHBAY_PORT)')
    .option('--data-dir <dir>', 'data directory (PATCHBAY_DATA_DIR)')
    .action(async (opts: { host?: string; port?: string; dataDir?: string }, command: Command) => {
      const ctx = createContext(command, {
        host: opts.host,
        port: opts.port,
        dataDir: opts.dataDir,
      });
      const log = ctx.logger();
      const server = await startServer({ config: ctx.config, log, version: ctx.version });
      out.note(`patchbay ${ctx.version} listening on ${server.url} (data: ${ctx.config.dataDir})`);
      out.note(`API docs: ${server.url}/docs`);
      releaseBootGarbage();

      let stopping = false;
      const shutdown = (signal: string): void => {
        if (stopping) {
          out.note('second signal: exiting now');
          process.exit(1);
        }
        stopping = true;
        log.info({ signal }, 'shutting down');
        server
          .close()
          .then(() => {
            log.flush();
            process.exit(0);
          })
          .catch((err: unknown) => {
            log.error({ err }, 'shutdown failed');
            process.exit(1);
          });
      };
      process.on('SIGINT', () => shutdown('SIGINT'));
      process.on('SIGTERM', () => shutdown('SIGTERM'));
      await new Promise<never>(() => undefined);
    });
}
