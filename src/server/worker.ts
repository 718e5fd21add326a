import { createServer, type Server } from 'node:http';
import type { ResolvedConfig } from '../config/index.js';
import { isPatchbayError } from '../contracts/index.js';
import { createEngine, type Engine } from '../engine/index.js';
import type { ErrorReporter, Logger } from '../observability/index.js';
import { createTokenChecker } from './auth.js';
import { compatReactions } from './compat/index.js';
import { listenError } from './listen-errors.js';
import { needsSharedQueue, openBackends } from './serve.js';

export interface RunningWorker {
  engine: Engine;
  reporter: ErrorReporter;
  /** http://host:port of the health/metrics listener, when one was asked for. */
  healthUrl: string | undefined;
  /** Stops taking runs, lets running ones finish up to `graceMs`, queues the rest again. */
  drain(graceMs: number): Promise<void>;
  /** Stops at once: running runs end `interrupted`. */
  close(): Promise<void>;
}

export interface StartWorkerOptions {
  config: ResolvedConfig;
  log: Logger;
  version: string;
  /** Run queues to take runs from (default PATCHBAY_QUEUES). */
  queues?: string[];
  /** Runs of each queue at once (default PATCHBAY_MAX_CONCURRENT_RUNS). */
  concurrency?: number;
  /** Serve GET /health and GET /metrics here (default PATCHBAY_WORKER_HEALTH_PORT; none). */
  healthPort?: number;
}

/**
 * A worker process: the engine with no API, taking runs from the shared queue. The only
 * HTTP is an optional health and metrics listener: /health answers without a token (probes
 * run inside the container), /metrics needs one when PATCHBAY_API_TOKENS is set.
 */
export async function startWorker(options: StartWorkerOptions): Promise<RunningWorker> {
  const { config, log, version } = options;
  if (!config.queueUrl) throw needsSharedQueue('patchbay worker');
  const backends = await openBackends(config, log);
  const compat = compatReactions({
    config,
    store: backends.store,
    log,
    metrics: backends.metrics,
  });
  const engine = createEngine({
    config,
    store: backends.store,
    log,
    metrics: backends.metrics,
    version,
    ...backends.shared,
    tracing: backends.tracing,
    reporter: backends.reporter,
    role: 'worker',
    ...(options.queues ? { queues: options.queues } : {}),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    reactions: compat.reactions,
  });
  compat.bind(engine);
  try {
    await engine.start();
  } catch (err) {
    await backends.close();
    throw err;
  }
  let state: 'active' | 'draining' = 'active';
  const healthPort = options.healthPort ?? config.workerHealthPort;
  let server: Server | undefined;
  let healthUrl: string | undefined;
  if (healthPort !== undefined) {
    const tokens = createTokenChecker(config.apiTokens);
    server = createServer((req, res) => {
      void (async () => {
        const path = (req.url ?? '/').split('?')[0];
        if (req.method === 'GET' && path === '/health') {
          const stats = await engine.queueStats();
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              status: 'ok',
              service: 'patchbay-worker',
              version,
              worker: engine.instanceId,
              state,
              running: stats.running,
              limit: stats.limit,
            }),
          );
          return;
        }
        if (req.method === 'GET' && path === '/metrics') {
          if (tokens.enabled) tokens.check(req.headers.authorization);
          await engine.refreshMetrics();
          const registry = backends.metrics.registry;
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(await registry.metrics());
          return;
        }
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ error: { code: 'NOT_FOUND', message: 'GET /health or /metrics' } }),
        );
      })().catch((err: unknown) => {
        const unauthorized = isPatchbayError(err) && err.code === 'UNAUTHORIZED';
        if (!unauthorized) log.error({ err }, 'worker health request failed');
        if (res.headersSent) return res.destroy();
        res.writeHead(unauthorized ? 401 : 500, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            error: unauthorized
              ? { code: 'UNAUTHORIZED', message: 'Bearer token required.' }
              : { code: 'INTERNAL_ERROR', message: 'health check failed' },
          }),
        );
      });
    });
    try {
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(healthPort, config.host, () => resolve());
      });
    } catch (err) {
      await engine.stop();
      await backends.close();
      throw listenError(err, config.host, healthPort, {
        portFlag: '--health-port',
        portSetting: 'PATCHBAY_WORKER_HEALTH_PORT',
      });
    }
    const address = server.address();
    if (address && typeof address === 'object') {
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      healthUrl = `http://${host}:${address.port}`;
    }
  }
  log.info(
    { worker: engine.instanceId, healthUrl, store: backends.store.location },
    'patchbay worker taking runs',
  );

  let closing: Promise<void> | undefined;
  const finish = async (stop: () => Promise<void>): Promise<void> => {
    await stop();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    await backends.close();
  };
  return {
    engine,
    reporter: backends.reporter,
    healthUrl,
    drain(graceMs) {
      state = 'draining';
      closing ??= finish(() => engine.drain(graceMs));
      return closing;
    },
    close() {
      // During a drain: stop the runs now (they end `interrupted`), and finish the drain.
      if (closing) void engine.stop();
      closing ??= finish(() => engine.stop());
      return closing;
    },
  };
}
