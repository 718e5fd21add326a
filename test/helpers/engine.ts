// Starting a real engine in a test: shared by the engine's integration tests and the
// security tests that drive it directly.
import type { ResolvedConfig } from '../../src/config/index.js';
import { createEngine, type Engine } from '../../src/engine/index.js';
import { createMetrics, createSilentLogger } from '../../src/observability/index.js';
import type { Store } from '../../src/store/index.js';

/**
 * Creates and starts an engine on `store` with a silent logger and fresh metrics; `cleanups`
 * gets its stop, so the test's afterEach ends it.
 */
export async function startTestEngine(
  config: ResolvedConfig,
  store: Store,
  cleanups: (() => unknown)[],
): Promise<Engine> {
  const engine = createEngine({
    config,
    store,
    log: createSilentLogger(),
    metrics: createMetrics(),
    version: 't',
  });
  cleanups.push(() => engine.stop());
  await engine.start();
  return engine;
}
