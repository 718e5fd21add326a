import type { FastifyInstance } from 'fastify';
import type { ResolvedConfig } from '../config/index.js';
import { PatchbayError } from '../contracts/index.js';
import {
  createBudgets,
  createEngine,
  createRedisControl,
  createRedisEventBus,
  createRepoService,
  RUN_LEASE_MS,
  type Engine,
} from '../engine/index.js';
import type { Logger, Metrics } from '../observability/index.js';
import { createMetrics } from '../observability/index.js';
import { createBullmqQueue } from '../queue/index.js';
import { openStore, type Store } from '../store/index.js';
import { buildApp } from './app.js';
import { assertSafeBind } from './auth.js';
import type { ServerDeps } from './deps.js';
import { createRateLimiter } from './rate-limit.js';

/** How long shutdown waits for event streams to deliver the final status events. */
const STREAM_DRAIN_MS = 1000;

export interface RunningServer {
  app: FastifyInstance;
  engine: Engine;
  store: Store;
  metrics: Metrics;
  /** Base URL, e.g. http://127.0.0.1:7070 */
  url: string;
  close(): Promise<void>;
}

export interface StartServerOptions {
  config: ResolvedConfig;
  log: Logger;
  version: string;
  /** Listen on the port (default). False builds everything but does not listen (tests use inject). */
  listen?: boolean;
}

/**
 * Boots one Patchbay server: store (migrated), engine (recovered), app, listener.
 * @throws PatchbayError SERVER_UNSAFE_BIND before anything is opened.
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { config, log, version } = options;
  assertSafeBind(config.host, config.apiTokens);
  const store = await openStore({ databaseUrl: config.databaseUrl });
  const metrics = createMetrics();
  // With Redis, runs wait in BullMQ for any server's worker and events reach every server.
  const shared = config.queueUrl
    ? {
        queue: await createBullmqQueue({
          url: config.queueUrl,
          log,
          leaseMs: RUN_LEASE_MS,
          prefix: config.queuePrefix,
        }),
        bus: await createRedisEventBus({
          url: config.queueUrl,
          log,
          prefix: config.queuePrefix,
        }),
        control: await createRedisControl({
          url: config.queueUrl,
          log,
          prefix: config.queuePrefix,
        }),
      }
    : undefined;
  const closeShared = async (): Promise<void> => {
    await shared?.queue.close();
    await shared?.bus.close();
    await shared?.control.close();
  };
  try {
    await shared?.bus.ready();
    await shared?.control.ready();
  } catch (err) {
    await closeShared();
    await store.close();
    throw new PatchbayError(
      'QUEUE_UNAVAILABLE',
      `Redis at PATCHBAY_QUEUE_URL does not answer: ${(err as Error).message}`,
      undefined,
      { cause: err },
    );
  }
  const engine = createEngine({ config, store, log, metrics, version, ...shared });
  const deps: ServerDeps = {
    config,
    engine,
    repos: createRepoService({ config, store, log }),
    budgets: createBudgets({ store, config, metrics }),
    store,
    log,
    metrics,
    version,
    runCreateLimiter: createRateLimiter({ max: config.runCreateRateLimit, windowMs: 60_000 }),
    openStreams: new Set(),
  };
  let app: FastifyInstance;
  try {
    app = await buildApp(deps);
    await engine.start();
  } catch (err) {
    await closeShared();
    await store.close();
    throw err;
  }
  let url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
  if (options.listen ?? true) {
    try {
      await app.listen({ host: config.host, port: config.port });
    } catch (err) {
      await engine.stop();
      await closeShared();
      await store.close();
      throw err;
    }
    const address = app.server.address();
    if (address && typeof address === 'object') {
      const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      url = `http://${host}:${address.port}`;
    }
    log.info({ url, dataDir: config.dataDir, store: store.location }, 'patchbay listening');
  } else {
    await app.ready();
  }

  let closing: Promise<void> | undefined;
  return {
    app,
    engine,
    store,
    metrics,
    url,
    close() {
      closing ??= (async () => {
        // Stop runs first so their `interrupted` events reach live subscribers, give the
        // streams a moment to deliver them and end by themselves, then close what is left.
        await engine.stop();
        const deadline = Date.now() + STREAM_DRAIN_MS;
        while (deps.openStreams.size > 0 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 20));
        }
        for (const stop of [...deps.openStreams]) stop();
        await app.close();
        await closeShared();
        await store.close();
      })();
      return closing;
    },
  };
}
