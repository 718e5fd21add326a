export { createLlmClient, type CreateLlmClientOptions, type LlmLedger } from './client.js';
export { assertWithinCostCap, type RunSpendReader } from './cost-cap.js';
export { createModelCatalog, type ModelCatalog } from './models.js';
export { knownModel, priceOf } from './pricing.js';
export {
  configuredProviders,
  defaultProvider,
  llmSecrets,
  type LlmConfig,
} from './providers/registry.js';
export {
  readRepoLlmFile,
  repoLayersFrom,
  type RepoLookup,
  resolveSelection,
  type Selection,
  type SelectionLayers,
} from './selection.js';
export type {
  LlmClient,
  LlmFinishReason,
  LlmMessage,
  LlmReasoning,
  LlmRequest,
  LlmResult,
  LlmStreamPart,
  LlmTool,
  LlmToolCall,
  LlmToolResult,
  LlmUsage,
} from './types.js';
export {
  applyEdit,
  applyEdits,
  RUNGS,
  type EditFailure,
  type EditRequest,
  type EditResult,
  type FileEdit,
  type MatchKind,
  type PatchResult,
} from './edits/index.js';
