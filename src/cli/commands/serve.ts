import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Command } from 'commander';
import { startServer, startWorker } from '../../server/index.js';
import { createContext } from '../context.js';
import { reportCrashes, type Logger } from '../../observability/index.js';
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
    .option(
      '--no-worker',
      'API node only: take no runs from the queue (needs PATCHBAY_QUEUE_URL and workers)',
    )
    .action(
      async (
        opts: { host?: string; port?: string; dataDir?: string; worker: boolean },
        command: Command,
      ) => {
        const ctx = createContext(command, {
          host: opts.host,
          port: opts.port,
          dataDir: opts.dataDir,
        });
        const log = ctx.logger();
        const server = await startServer({
          config: ctx.config,
          log,
          version: ctx.version,
          worker: opts.worker,
        });
        const role = opts.worker ? '' : ' (API only: runs go to workers)';
        out.note(
          `patchbay ${ctx.version} listening on ${server.url}${role} (data: ${ctx.config.dataDir})`,
        );
        out.note(`API docs: ${server.url}/docs`);
        releaseBootGarbage();
        // With PATCHBAY_SENTRY_DSN a crash is reported before the process exits.
        reportCrashes(server.reporter, log);
        onSignals(log, () => server.close());
        onCrash(log, () => server.close());
      },
    );
}

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(
      'Take runs from the shared queue (PATCHBAY_QUEUE_URL), with no API; drains on SIGTERM',
    )
    .option('--concurrency <n>', 'runs of each queue at once (PATCHBAY_MAX_CONCURRENT_RUNS)')
    .option('--queues <names>', 'comma-separated run queues to take runs from (PATCHBAY_QUEUES)')
    .option(
      '--health-port <port>',
      'serve GET /health and /metrics here (PATCHBAY_WORKER_HEALTH_PORT)',
    )
    .option(
      '--grace-ms <ms>',
      'on SIGTERM, how long running runs may finish (PATCHBAY_WORKER_GRACE_MS)',
    )
    .option('--data-dir <dir>', 'data directory (PATCHBAY_DATA_DIR)')
    .action(
      async (
        opts: {
          concurrency?: string;
          queues?: string;
          healthPort?: string;
          graceMs?: string;
          dataDir?: string;
        },
        command: Command,
      ) => {
        // Flags go through the config schema, so they are validated like the variables.
        const ctx = createContext(command, {
          maxConcurrentRuns: opts.concurrency,
          queues: opts.queues,
          workerHealthPort: opts.healthPort,
          workerGraceMs: opts.graceMs,
          dataDir: opts.dataDir,
        });
        const log = ctx.logger();
        const { config } = ctx;
        const worker = await startWorker({ config, log, version: ctx.version });
        out.note(
          `patchbay worker ${worker.engine.instanceId}: queues ${config.queues.join(', ')}, ${config.maxConcurrentRuns} at once${worker.healthUrl ? `, health on ${worker.healthUrl}` : ''}`,
        );
        releaseBootGarbage();
        reportCrashes(worker.reporter, log);
        onSignals(
          log,
          () => worker.drain(config.workerGraceMs),
          () => worker.close(),
        );
        onCrash(log, () => worker.close());
      },
    );
}

/**
 * First SIGTERM/SIGINT: `graceful` (drain or stop), then exit 0. A second signal: `hard` when
 * given (stop at once) or exit 1.
 */
function onSignals(log: Logger, graceful: () => Promise<void>, hard?: () => Promise<void>): void {
  let signals = 0;
  const exitAfter = (p: Promise<void>): void => {
    p.then(() => {
      log.flush();
      process.exit(0);
    }).catch((err: unknown) => {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  const shutdown = (signal: string): void => {
    signals++;
    if (signals === 1) {
      log.info({ signal }, 'shutting down');
      exitAfter(graceful());
    } else if (signals === 2 && hard) {
      out.note('second signal: stopping running runs now');
      exitAfter(hard());
    } else {
      out.note('another signal: exiting now');
      process.exit(1);
    }
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

/** How long a crashing process may spend closing (runs ended, store flushed) before it exits. */
const CRASH_CLOSE_MS = 5000;

/**
 * The last resort, never silent: a promise rejected with no handler is logged and the process
 * keeps serving (one request's bug must not end every run); an uncaught exception leaves the
 * process in an unknown state, so it is logged, the server is closed as cleanly as it can be
 * within a few seconds (runs end `interrupted` and recover on the next start) and the process
 * exits 70 (EX_SOFTWARE).
 */
function onCrash(log: Logger, close: () => Promise<void>): void {
  process.on('unhandledRejection', (reason) => {
    log.error(
      { err: reason, code: 'INTERNAL_ERROR' },
      'unhandled promise rejection (still serving)',
    );
  });
  let crashing = false;
  process.on('uncaughtException', (err, origin) => {
    log.fatal({ err, origin, code: 'INTERNAL_ERROR' }, 'uncaught exception: closing and exiting');
    if (crashing) return;
    crashing = true;
    const exit = (): never => {
      log.flush();
      process.exit(70);
    };
    setTimeout(exit, CRASH_CLOSE_MS).unref();
    close().then(exit, exit);
  });
}
