import type { ResolvedConfig } from '../config/index.js';
import type { Budgets, Engine, RepoService } from '../engine/index.js';
import type { ConnectionState } from '../queue/index.js';
import type { ErrorReporter, Logger, Metrics, Tracing } from '../observability/index.js';
import type { Store } from '../store/index.js';
import type { ServerInbox } from './inbox.js';
import type { RateLimiter } from './rate-limit.js';

/** What every route plugin receives: the resources of one server instance. */
export interface ServerDeps {
  config: ResolvedConfig;
  engine: Engine;
  repos: RepoService;
  budgets: Budgets;
  store: Store;
  log: Logger;
  metrics: Metrics;
  tracing: Tracing;
  reporter: ErrorReporter;
  version: string;
  /** Whether the shared queue's Redis answers now (for /ready and /health/queue). */
  queueConnection(): ConnectionState;
  runCreateLimiter: RateLimiter;
  /** The task inbox and its connectors' sync clock. */
  inbox: ServerInbox;
  /** Closers of open SSE streams and WebSockets, ended when the server stops. */
  openStreams: Set<() => void>;
}
