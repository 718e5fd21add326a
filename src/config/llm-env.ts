import type { ResolvedConfig } from './schema.js';
import { llmSettings } from './settings/llm.js';

/**
 * The model settings as the environment of a child process that makes model calls itself (the
 * `llm` agent's `patchbay agent llm`): the child loads its config from its own env like any
 * `patchbay` command, so it gets exactly the provider, model, keys and retry settings the
 * server resolved. Keys travel in the env only, never in argv, so they appear in no process
 * listing, run record or log.
 */
export function llmChildEnv(config: ResolvedConfig): Record<string, string> {
  const env: Record<string, string> = {};
  for (const spec of Object.values(llmSettings)) {
    const value = (config as unknown as Record<string, unknown>)[spec.key];
    if (value !== undefined && value !== null) env[spec.env] = String(value);
  }
  return env;
}
