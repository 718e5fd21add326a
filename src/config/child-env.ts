import type { ResolvedConfig } from './schema.js';
import { executionSettings } from './settings/execution.js';
import { runLimitSettings } from './settings/runs.js';
import { serverSettings } from './settings/server.js';

/** What a child's environment is made of, lowest first; each layer wins over the ones before. */
export interface ChildEnvLayers {
  /** The adapter's headless defaults (e.g. `NO_COLOR`). */
  defaults?: Record<string, string>;
  /** An agent's provider credentials (PATCHBAY_AGENT_CREDENTIALS): never for shell or stages. */
  credentials?: Record<string, string>;
  /** The run's own `env`. */
  own?: Record<string, string>;
}

/**
 * The environment of a process a run starts: the adapter's defaults under the clean base (the
 * server's variables PATCHBAY_CHILD_ENV_ALLOWLIST names, nothing else), then the agent's
 * credentials, then the run's own env. The one place this is put together: agent runs, shell
 * runs and optimizer stages all get it.
 */
export function runChildEnv(
  config: Pick<ResolvedConfig, 'childEnvBase'>,
  layers: ChildEnvLayers = {},
): Record<string, string> {
  return {
    ...layers.defaults,
    ...config.childEnvBase,
    ...layers.credentials,
    ...layers.own,
  };
}

/**
 * The environment of an optimizer stage process (`patchbay optimize-stage`, started by the
 * server as a run or by `patchbay optimize`): a run's, plus the allowlist itself. The stage
 * loads its configuration from its own environment like any `patchbay` command and gives its
 * steps (install, tests, benchmarks) its `childEnvBase`; with the server's allowlist in hand it
 * filters an environment that already is the server's clean base and keeps exactly that base,
 * where the default list would drop what the operator added (`NODE_EXTRA_CA_CERTS`, say).
 */
export function stageProcessEnv(
  config: Pick<
    ResolvedConfig,
    'childEnvBase' | 'childEnvAllowlist' | 'dataDir' | 'optimizeStageTimeoutMs'
  >,
  layers: ChildEnvLayers = {},
): Record<string, string> {
  return {
    ...runChildEnv(config, layers),
    [executionSettings.childEnvAllowlist.env]: config.childEnvAllowlist.join(','),
    // Where the stage stores what outlives it (A/A calibrations), and its time budget; its
    // steps never see them.
    [serverSettings.dataDir.env]: config.dataDir,
    [runLimitSettings.optimizeStageTimeoutMs.env]: String(config.optimizeStageTimeoutMs),
  };
}
