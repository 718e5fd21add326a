import type { FastifyInstance } from 'fastify';
import { packageVersion, secretValues, type ResolvedConfig } from '../config/index.js';
import { PatchbayError } from '../contracts/index.js';
import {
  createBudgets,
  createEngine,
  createRedisControl,
  createRedisEventBus,
  createRepoService,
  type Engine,
  type EngineOptions,
} from '../engine/index.js';
import {
  createErrorReporter,
  createMetrics,
  createTracing,
  traceMethods,
  type ErrorReporter,
  type Logger,
  type Metrics,
  type Tracing,
} from '../observability/index.js';
import { createBullmqQueue, probeRedis, type ConnectionState } from '../queue/index.js';
import {
  keyringFor,
  maskUrlPassword,
  openStore,
  secretBoxFor,
  type Store,
} from '../store/index.js';
import { buildApp } from './app.js';
import { createServerInbox } from './inbox.js';
import type { CreateConnector, Fetch } from '../intake/index.js';
import { compatReactions } from './compat/index.js';
import { assertSafeBind } from './auth.js';
import { listenError } from './listen-errors.js';
import type { ServerDeps } from './deps.js';
import { createRateLimiter } from './rate-limit.js';

/** How long shutdown waits for event streams to deliver the final status events. */
const STREAM_DRAIN_MS = 1000;

export interface RunningServer {
  app: FastifyInstance;
  engine: Engine;
  store: Store;
  metrics: Metrics;
  reporter: ErrorReporter;
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
  /** Take runs from the queue here (default). False: an API node; needs PATCHBAY_QUEUE_URL. */
  worker?: boolean;
  /**
   * Start the queued runs other processes left (default). False for a server inside a CLI
   * command (`patchbay mcp` embedded), which runs only what it is asked to.
   */
  adoptQueuedRuns?: boolean;
  /** Makes inbox connectors (default: none until the connector registry is merged). */
  createConnector?: CreateConnector;
  /** The HTTP client of inbox connectors and the embeddings API (default the global fetch). */
  fetch?: Fetch;
}

/** Separate API nodes and workers share runs, events and control verbs over Redis only. */
export function needsSharedQueue(what: string): PatchbayError {
  return new PatchbayError(
    'CONFIG_INVALID',
    `${what} needs PATCHBAY_QUEUE_URL (Redis): without it, runs, live events and cancel/pause stay inside one process. Run \`patchbay serve\` alone instead, or set PATCHBAY_QUEUE_URL and PATCHBAY_DATABASE_URL.`,
    { problems: [{ source: 'PATCHBAY_QUEUE_URL', message: `required by ${what}` }] },
  );
}

/**
 * Boots one Patchbay server: store (migrated), engine (recovered), app, listener.
 * @throws PatchbayError SERVER_UNSAFE_BIND before anything is opened.
 */
/** What every Patchbay process opens: the store and, with Redis, the shared queue, bus and control. */
export interface Backends {
  store: Store;
  metrics: Metrics;
  shared: Pick<EngineOptions, 'queue' | 'bus' | 'control'>;
  tracing: Tracing;
  reporter: ErrorReporter;
  /** Whether the shared queue's Redis answers now (always up without PATCHBAY_QUEUE_URL). */
  queueConnection(): ConnectionState;
  close(): Promise<void>;
}

/**
 * Opens the store (migrated) and, when PATCHBAY_QUEUE_URL is set, BullMQ, the Redis event bus
 * and the control channel; closes what it opened when something fails.
 * @throws PatchbayError QUEUE_UNAVAILABLE when Redis does not answer.
 */
export async function openBackends(config: ResolvedConfig, log: Logger): Promise<Backends> {
  const version = packageVersion();
  const tracing = await createTracing({
    endpoint: config.otlpEndpoint,
    headers: config.otlpHeaders,
    serviceName: config.otlpServiceName,
    version,
  });
  const reporter = createErrorReporter({
    dsn: config.sentryDsn,
    version,
    secrets: secretValues(config),
    log,
  });
  const secrets = secretBoxFor(config);
  if (!secrets.sealing) {
    log.warn(
      { setting: 'PATCHBAY_SECRETS_KEY' },
      "runs' env values are stored unsealed in the shared store: set PATCHBAY_SECRETS_KEY (the same on every node) to seal them",
    );
  }
  // Both are refused at start, in bounded time, with what to check: nothing is opened yet.
  if (config.queueUrl) await probeRedis(config.queueUrl, config.connectTimeoutMs);
  const opened = await openStore({
    databaseUrl: config.databaseUrl,
    secrets,
    keyring: keyringFor(config),
    connectTimeoutMs: config.connectTimeoutMs,
  });

  // The repositories the run lifecycle leans on get a span per call (none when tracing is off).
  const dbAttributes = {
    'db.system.name': opened.dialect === 'postgres' ? 'postgresql' : 'sqlite',
  };
  const store: Store = tracing.enabled
    ? {
        ...opened,
        runs: traceMethods('store.runs', opened.runs, tracing, dbAttributes),
        events: traceMethods('store.events', opened.events, tracing, dbAttributes),
        callbacks: traceMethods('store.callbacks', opened.callbacks, tracing, dbAttributes),
        jobs: traceMethods('store.jobs', opened.jobs, tracing, dbAttributes),
      }
    : opened;
  const metrics = createMetrics();
  const redis = { url: config.queueUrl!, log, prefix: config.queuePrefix };
  // With Redis, runs wait in BullMQ for any process's worker and events reach every server.
  const shared = config.queueUrl
    ? {
        queue: await createBullmqQueue({ ...redis, leaseMs: config.runLeaseMs }),
        bus: await createRedisEventBus(redis),
        control: await createRedisControl(redis),
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
    await tracing.shutdown();
    throw new PatchbayError(
      'QUEUE_UNAVAILABLE',
      `Redis at ${maskUrlPassword(config.queueUrl!)} (PATCHBAY_QUEUE_URL) stopped answering during start: ${(err as Error).message}`,
      { url: maskUrlPassword(config.queueUrl!), setting: 'PATCHBAY_QUEUE_URL' },
      { cause: err },
    );
  }
  return {
    store,
    metrics,
    shared: shared ?? {},
    tracing,
    reporter,
    queueConnection: () =>
      shared?.queue.connectionState?.() ?? { up: true, reason: null, downSince: null },
    async close() {
      await closeShared();
      await store.close();
      // Last: the spans of everything above are ended by now and go out in this flush.
      await Promise.all([reporter.flush(), tracing.shutdown()]);
    },
  };
}

/**
 * Boots one Patchbay server: store (migrated), engine (recovered), app, listener.
 * @throws PatchbayError SERVER_UNSAFE_BIND before anything is opened.
 */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { config, log, version } = options;
  assertSafeBind(config.host, config.apiTokens);
  const worker = options.worker ?? true;
  if (!worker && !config.queueUrl) throw needsSharedQueue('serve --no-worker');
  const backends = await openBackends(config, log);
  const { store, metrics } = backends;
  const compat = compatReactions({ config, store, log, metrics });
  const engine = createEngine({
    config,
    store,
    log,
    metrics,
    version,
    ...backends.shared,
    tracing: backends.tracing,
    reporter: backends.reporter,
    role: worker ? 'server' : 'api',
    ...(options.adoptQueuedRuns === false ? { adoptQueuedRuns: false } : {}),
    reactions: compat.reactions,
  });
  compat.bind(engine);
  const deps: ServerDeps = {
    config,
    engine,
    repos: createRepoService({ config, store, log, github: engine.github }),
    budgets: createBudgets({ store, config, metrics }),
    store,
    log,
    metrics,
    tracing: backends.tracing,
    reporter: backends.reporter,
    version,
    queueConnection: backends.queueConnection,
    runCreateLimiter: createRateLimiter({ max: config.runCreateRateLimit, windowMs: 60_000 }),
    inbox: createServerInbox({
      config,
      store,
      log,
      queue: engine.queue,
      instanceId: engine.instanceId,
      ...(options.createConnector ? { createConnector: options.createConnector } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    }),
    openStreams: new Set(),
  };
  let app: FastifyInstance;
  try {
    app = await buildApp(deps);
    await engine.start();
    if (worker) deps.inbox.start();
  } catch (err) {
    await backends.close();
    throw err;
  }
  let url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
  if (options.listen ?? true) {
    try {
      await app.listen({ host: config.host, port: config.port });
    } catch (err) {
      await engine.stop();
      await backends.close();
      throw listenError(err, config.host, config.port, {
        portFlag: '--port',
        portSetting: 'PATCHBAY_PORT',
      });
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
    reporter: backends.reporter,
    url,
    close() {
      closing ??= (async () => {
        // Stop runs first so their `interrupted` events reach live subscribers, give the
        // streams a moment to deliver them and end by themselves, then close what is left.
        await deps.inbox.stop();
        await engine.stop();
        const deadline = Date.now() + STREAM_DRAIN_MS;
        while (deps.openStreams.size > 0 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 20));
        }
        for (const stop of [...deps.openStreams]) stop();
        await app.close();
        await backends.close();
      })();
      return closing;
    },
  };
}
