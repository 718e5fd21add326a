import { createEngine, type Engine } from '../engine/index.js';
import { createMetrics } from '../observability/index.js';
import { compatReactions } from '../server/index.js';
import { keyringFor, openStore, secretBoxFor, type Store } from '../store/index.js';
import type { CliContext } from './context.js';

export interface Embedded {
  engine: Engine;
  store: Store;
  close(): Promise<void>;
}

/**
 * An engine inside the CLI process, on the same store a server would use. It recovers runs
 * of dead processes but leaves the server's queued runs alone.
 */
export async function openEmbedded(ctx: CliContext): Promise<Embedded> {
  const store = await openStore({
    databaseUrl: ctx.config.databaseUrl,
    secrets: secretBoxFor(ctx.config),
    keyring: keyringFor(ctx.config),
  });
  const log = ctx.logger(ctx.config.logLevel === 'info' ? 'warn' : ctx.config.logLevel);
  const metrics = createMetrics();
  // This process may take any reaction of the store's queue: it knows the server's.
  const compat = compatReactions({ config: ctx.config, store, log, metrics });
  const engine = createEngine({
    config: ctx.config,
    store,
    log,
    metrics,
    version: ctx.version,
    adoptQueuedRuns: false,
    reactions: compat.reactions,
  });
  compat.bind(engine);
  await engine.start();
  return {
    engine,
    store,
    async close() {
      await engine.stop();
      await store.close();
    },
  };
}
