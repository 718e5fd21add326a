/**
 * The model half of `patchbay optimize --llm` in the CLI: the settings a stage process gets on
 * stdin, and, in that process, the model client whose calls go out as NDJSON `llm_call` lines
 * (the server's stage parser turns each into a ledger row: the stage has no database).
 */
import { llmChildEnv, loadConfig, type ResolvedConfig } from '../../config/index.js';
import { PatchbayError } from '../../contracts/index.js';
import { llmCallLineOf } from '../../agents/index.js';
import { configuredProviders, createLlmClient } from '../../llm/index.js';
import type { Logger } from '../../observability/index.js';
import type { LlmCallScope } from '../../optimizer/index.js';

/**
 * The model settings for the stage processes.
 * @throws PatchbayError LLM_NOT_CONFIGURED when no provider is configured.
 */
export function llmSettingsFor(config: ResolvedConfig): Record<string, string> {
  if (configuredProviders(config).length === 0) {
    throw new PatchbayError(
      'LLM_NOT_CONFIGURED',
      '--llm needs a model provider: set PATCHBAY_LLM_PROVIDER and its key, or PATCHBAY_LLM_BASE_URL for a local OpenAI-compatible server (docs/llm.md)',
    );
  }
  return llmChildEnv(config);
}

/** In a stage process: the client, its calls printed for the parent, its spend counted here. */
export function stageLlmScope(
  settings: Record<string, string>,
  log: Logger,
  emit: (line: Record<string, unknown>) => unknown,
): LlmCallScope {
  const config = loadConfig({ envOnly: true, envDefaults: settings });
  let spent = 0;
  const client = createLlmClient({
    config,
    log,
    ledger: {
      async insert(call) {
        spent += call.costUsd ?? 0;
        emit(llmCallLineOf(call));
      },
      sumUsdOfRun: async () => spent,
    },
  });
  return { client };
}
